/*
 * common.h — the few helpers every WICAS module shares: leveled logging,
 * SHA-256, hex and base64, and whole-file reads.
 *
 * This is the bottom of the dependency graph (rank 0 of tests/arch/layers.txt,
 * the one statement of the layer order: common < infer < vm, ai, wasi < chain <
 * x/<modules> < app < abci, client < cli). Nothing here knows about models,
 * contracts or blocks, and nothing here allocates behind the caller's back
 * except wicas_read_file, whose result the caller frees.
 */
#ifndef WICAS_COMMON_H
#define WICAS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- logging ----------------------------------------------------------------
 * Lines go to stderr as "LEVEL [module] message". The level comes from
 * wicas_log_set_level() or, at first use, the WICAS_LOG environment variable
 * (error, warn, info, debug). Default: info. */
typedef enum {
    WICAS_LOG_ERROR = 0,
    WICAS_LOG_WARN = 1,
    WICAS_LOG_INFO = 2,
    WICAS_LOG_DEBUG = 3
} wicas_log_level;

void wicas_log_set_level(wicas_log_level level);
/* Parses "error"/"warn"/"info"/"debug"; returns false for anything else. */
bool wicas_log_parse_level(const char *s, wicas_log_level *out);
wicas_log_level wicas_log_get_level(void);
void wicas_log(wicas_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define WICAS_ERROR(mod, ...) wicas_log(WICAS_LOG_ERROR, mod, __VA_ARGS__)
#define WICAS_WARN(mod, ...) wicas_log(WICAS_LOG_WARN, mod, __VA_ARGS__)
#define WICAS_INFO(mod, ...) wicas_log(WICAS_LOG_INFO, mod, __VA_ARGS__)
#define WICAS_DEBUG(mod, ...) wicas_log(WICAS_LOG_DEBUG, mod, __VA_ARGS__)

/* ---- SHA-256 ----------------------------------------------------------------- */
#define WICAS_SHA256_LEN 32

/* out = SHA-256(data[0..len)). data may be NULL when len is 0. */
void wicas_sha256(const void *data, size_t len, uint8_t out[WICAS_SHA256_LEN]);

/* Incremental form, for large inputs (model files). The context is opaque and
 * must be freed with wicas_sha256_final, which writes the digest. */
typedef struct wicas_sha256_ctx wicas_sha256_ctx;
wicas_sha256_ctx *wicas_sha256_begin(void);
void wicas_sha256_update(wicas_sha256_ctx *ctx, const void *data, size_t len);
void wicas_sha256_final(wicas_sha256_ctx *ctx, uint8_t out[WICAS_SHA256_LEN]);

/* SHA-256 of a whole file; returns 0, or -1 with errno set. */
int wicas_sha256_file(const char *path, uint8_t out[WICAS_SHA256_LEN]);

/* ---- hex ---------------------------------------------------------------------
 * wicas_hex_encode writes 2*len lowercase digits and a NUL to out (which must
 * hold 2*len+1 bytes). wicas_hex_decode accepts upper or lower case, requires
 * exactly 2*out_len digits and returns 0, or -1 on bad length or digit. */
void wicas_hex_encode(const uint8_t *in, size_t len, char *out);
int wicas_hex_decode(const char *in, uint8_t *out, size_t out_len);

/* ---- UTF-8 --------------------------------------------------------------------
 * Strict: overlong forms, surrogates and code points past U+10FFFF are invalid.
 * wicas_utf8_seq: the length (1..4) of the valid sequence at s[i] (i < n), or 0.
 * wicas_utf8_valid: whether all of s[0..n) is valid UTF-8.
 * wicas_utf8_repair: a malloc'd, NUL-terminated copy of s[0..n) with each byte
 * that does not start a valid sequence replaced by U+FFFD (what the chain
 * returns for model output, and `wicasd infer --output json` prints); its
 * length in *out_len (may be NULL); NULL when out of memory. */
size_t wicas_utf8_seq(const uint8_t *s, size_t n, size_t i);
bool wicas_utf8_valid(const void *s, size_t n);
char *wicas_utf8_repair(const void *s, size_t n, size_t *out_len);

/* wicas_json_has_nul_escape: whether the JSON text s[0..n) holds the escape
 * \u0000 inside a string. cJSON decodes it to a real NUL and so silently cuts
 * the string there ("abc\u0000def" reads as "abc"); strict parsers refuse such
 * input instead. Escaped backslashes ("\\u0000", a literal text) are skipped. */
bool wicas_json_has_nul_escape(const void *s, size_t n);

/* ---- base64 (RFC 4648, standard alphabet, padded) -----------------------------
 * encode: out must hold wicas_base64_encoded_len(len) bytes (includes NUL).
 * decode: returns the number of bytes written, or -1 for malformed input
 * (bad characters, bad padding, non-canonical trailing bits) or when out_cap
 * is too small. Whitespace is not accepted. */
size_t wicas_base64_encoded_len(size_t len);
void wicas_base64_encode(const uint8_t *in, size_t len, char *out);
long wicas_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap);

/* ---- bech32 (BIP-173; the checksum Cosmos addresses use) ------------------------
 * wicas_bech32_encode: hrp must be 1..83 lowercase printable characters and
 * len <= WICAS_BECH32_MAX_DATA; out gets "<hrp>1<data><checksum>" and a NUL.
 * Returns 0, or -1 on bad input or when cap is too small.
 * wicas_bech32_decode: checks length (8..90), mixed case, characters and the
 * checksum; writes the lowercase hrp and the 8-bit data. Returns 0 or -1. */
#define WICAS_BECH32_MAX_DATA 64
int wicas_bech32_encode(const char *hrp, const uint8_t *data, size_t len, char *out, size_t cap);
int wicas_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t data_cap,
                        size_t *len);

/* ---- files ---------------------------------------------------------------------
 * Reads at most max_len bytes of path into a fresh malloc'd buffer (NUL
 * terminated, the NUL not counted in *len). Returns NULL with errno set on
 * failure; EFBIG when the file is larger than max_len. */
uint8_t *wicas_read_file(const char *path, size_t max_len, size_t *len);

/* Directory for cached artefacts: $WICAS_CACHE, else $XDG_CACHE_HOME/wicas,
 * else $HOME/.cache/wicas. Writes at most cap bytes; returns 0 or -1. */
int wicas_cache_dir(char *out, size_t cap);

/* ---- error messages --------------------------------------------------------------
 * Every layer reports failures as (return -1, message in the caller's buffer).
 * wicas_errf formats into err[0..errlen) (nothing when err is NULL or errlen
 * 0) and returns -1, so a failure is one line: `return wicas_errf(err, n, ...)`. */
int wicas_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wicas_verrf(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* ---- protobuf unsigned varint ------------------------------------------------------
 * put: writes v (at most WICAS_UVARINT_MAX bytes), returns the byte count.
 * get: reads one varint from in[0..len): the byte count (>0), 0 when more bytes
 * are needed (truncated), -1 when malformed (over 64 bits, or 10 bytes that
 * all say "more follows"). */
#define WICAS_UVARINT_MAX 10
size_t wicas_uvarint_put(uint64_t v, uint8_t out[WICAS_UVARINT_MAX]);
int wicas_uvarint_get(const uint8_t *in, size_t len, uint64_t *v);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_COMMON_H */

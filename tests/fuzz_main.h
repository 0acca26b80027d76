/*
 * fuzz_main.h — what every libFuzzer target under tests/ shares (built only
 * with -DWICAS_FUZZ=ON and clang; see wicas_add_fuzz in cmake/testing.cmake).
 *
 * A target defines, before including this header's users:
 *   static void fuzz_setup(void);   fixtures made once per process (a temp
 *                                   chain, keys, a compiled program, ...)
 *   static void fuzz_seeds(void);   calls fuzz_seed() for every seed input,
 *                                   built at run time from real data (a tx
 *                                   signed by the chain's own builder, a real
 *                                   ABCI frame, a real snapshot chunk, ...)
 *   int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 *
 * This header supplies LLVMFuzzerInitialize: it runs fuzz_setup, and when the
 * environment variable WICAS_FUZZ_SEEDS names a directory it writes the seeds
 * there (one file each) and exits. `make fuzz-smoke` does that once per run
 * (so the seeds always match today's formats) and gives libFuzzer both the
 * growing corpus and the seed directory. Nothing large is committed.
 *
 * Temporary directories made with fuzz_tmpdir are removed at exit. Logging
 * is at ERROR unless WICAS_LOG says otherwise.
 * Input readers (fz_*) take bytes from the front of the input and answer 0
 * when it is used up, so every input decodes to some sequence of actions.
 */
#ifndef WICAS_FUZZ_MAIN_H
#define WICAS_FUZZ_MAIN_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

static void fuzz_setup(void);
static void fuzz_seeds(void);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the process with a message: an invariant of the code under test is
 * broken (libFuzzer records the input as a crash). */
#define FUZZ_CHECK(cond, ...)                                                                                \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

/* ---- temporary directories ----------------------------------------------------- */
static char fuzz_tmp_dirs[8][256];
static int fuzz_n_tmp;

static inline int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static inline void fuzz_rm_tree(const char *dir) {
    nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fuzz_cleanup(void) {
    for (int i = 0; i < fuzz_n_tmp; i++)
        fuzz_rm_tree(fuzz_tmp_dirs[i]);
    fuzz_n_tmp = 0;
}

/* A fresh directory under $TMPDIR (or /tmp), removed at exit. */
static inline const char *fuzz_tmpdir(const char *tag) {
    if (fuzz_n_tmp == (int)(sizeof fuzz_tmp_dirs / sizeof fuzz_tmp_dirs[0])) abort();
    const char *t = getenv("TMPDIR");
    char *d = fuzz_tmp_dirs[fuzz_n_tmp];
    snprintf(d, sizeof fuzz_tmp_dirs[0], "%s/wicas_fuzz_%s_XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(d)) {
        perror("mkdtemp");
        abort();
    }
    if (fuzz_n_tmp++ == 0) atexit(fuzz_cleanup);
    return d;
}

/* ---- seeds ------------------------------------------------------------------------- */
static const char *fuzz_seed_dir;
static int fuzz_n_seeds;

/* Writes one seed (in seed mode); a no-op otherwise. */
static inline void fuzz_seed(const char *name, const void *data, size_t len) {
    if (!fuzz_seed_dir) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/seed-%s", fuzz_seed_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write seed %s\n", path);
        exit(1);
    }
    fuzz_n_seeds++;
}

/* A seed made of a mode byte followed by data. */
static inline void fuzz_seed_mode(const char *name, uint8_t mode, const void *data, size_t len) {
    uint8_t *b = malloc(len + 1);
    if (!b) abort();
    b[0] = mode;
    if (len) memcpy(b + 1, data, len);
    fuzz_seed(name, b, len + 1);
    free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    /* the code under test logs refusals at WARN/INFO: millions of lines in a
     * run; errors only, unless WICAS_LOG asks for more */
    if (!getenv("WICAS_LOG")) wicas_log_set_level(WICAS_LOG_ERROR);
    fuzz_setup();
    const char *sd = getenv("WICAS_FUZZ_SEEDS");
    if (sd && *sd) {
        mkdir(sd, 0755);
        fuzz_seed_dir = sd;
        fuzz_seeds();
        fprintf(stderr, "wrote %d seeds to %s\n", fuzz_n_seeds, sd);
        exit(0);
    }
    return 0;
}

/* ---- reading a structured input ---------------------------------------------------- */
typedef struct {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

static inline uint64_t fz_u64(fz_in *in) {
    uint64_t v = (uint64_t)fz_u32(in) << 32;
    return v | fz_u32(in);
}

/* A piece of the input: u16 big-endian length (clipped to what is left),
 * then the bytes (borrowed). */
static inline const uint8_t *fz_bytes(fz_in *in, size_t *len) {
    size_t l = (size_t)fz_u8(in) << 8;
    l |= fz_u8(in);
    if (l > in->n) l = in->n;
    const uint8_t *p = in->p;
    in->p += l, in->n -= l;
    *len = l;
    return p;
}

/* Appends a piece in fz_bytes' encoding to buf (seed builders). */
static inline size_t fz_put_bytes(uint8_t *buf, size_t off, const void *p, size_t len) {
    buf[off++] = (uint8_t)(len >> 8);
    buf[off++] = (uint8_t)len;
    memcpy(buf + off, p, len);
    return off + len;
}

#endif

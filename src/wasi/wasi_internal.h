/*
 * wasi_internal.h — what the pieces of the sandbox share: the per-run host
 * state (file descriptors, captured output, clocks, random stream, WASI-NN
 * graphs and contexts), guest-memory helpers, and the tables of host functions
 * that wasi.c links.
 *
 * One wicas_wasi_host lives for exactly one wicas_wasi_run and is the wasmtime
 * store's data: every host function finds it with wicas_wasi_host_of(caller). Nothing in
 * it is shared between runs, so runs on different threads do not interact.
 */
#ifndef WICAS_WASI_INTERNAL_H
#define WICAS_WASI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmtime.h>

#include "wasi.h"

/* ---- WASI preview1 constants used by the host (values from the witx spec) ---- */
#define WASI_ESUCCESS 0
#define WASI_E2BIG 1
#define WASI_EACCES 2
#define WASI_EBADF 8
#define WASI_EEXIST 20
#define WASI_EFAULT 21
#define WASI_EINVAL 28
#define WASI_EIO 29
#define WASI_EISDIR 31
#define WASI_ELOOP 32
#define WASI_EMFILE 33
#define WASI_ENAMETOOLONG 37
#define WASI_ENOENT 44
#define WASI_ENOMEM 48
#define WASI_ENOSYS 52
#define WASI_ENOTDIR 54
#define WASI_ENOTSUP 58
#define WASI_EOVERFLOW 61
#define WASI_EPERM 63
#define WASI_EROFS 69
#define WASI_ESPIPE 70
#define WASI_ENOTCAPABLE 76

#define WASI_FILETYPE_UNKNOWN 0
#define WASI_FILETYPE_CHARACTER_DEVICE 2
#define WASI_FILETYPE_DIRECTORY 3
#define WASI_FILETYPE_REGULAR_FILE 4
#define WASI_FILETYPE_SYMBOLIC_LINK 7

#define WASI_RIGHT_FD_DATASYNC (1ull << 0)
#define WASI_RIGHT_FD_READ (1ull << 1)
#define WASI_RIGHT_FD_SEEK (1ull << 2)
#define WASI_RIGHT_FD_TELL (1ull << 5)
#define WASI_RIGHT_FD_WRITE (1ull << 6)
#define WASI_RIGHT_FD_ADVISE (1ull << 7)
#define WASI_RIGHT_FD_ALLOCATE (1ull << 8)
#define WASI_RIGHT_PATH_OPEN (1ull << 13)
#define WASI_RIGHT_FD_READDIR (1ull << 14)
#define WASI_RIGHT_PATH_FILESTAT_GET (1ull << 18)
#define WASI_RIGHT_FD_FILESTAT_GET (1ull << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE (1ull << 22)

#define WASI_OFLAGS_CREAT 1u
#define WASI_OFLAGS_DIRECTORY 2u
#define WASI_OFLAGS_EXCL 4u
#define WASI_OFLAGS_TRUNC 8u
#define WASI_FDFLAGS_APPEND 1u
#define WASI_FDFLAGS_DSYNC 2u
#define WASI_FDFLAGS_RSYNC 8u
#define WASI_FDFLAGS_SYNC 16u

/* ---- WASI-NN (wasi_ephemeral_nn) errno values, as WasmEdge returns them ---------- */
#define NN_SUCCESS 0
#define NN_INVALID_ARGUMENT 1
#define NN_INVALID_ENCODING 2
#define NN_MISSING_MEMORY 3
#define NN_BUSY 4
#define NN_RUNTIME_ERROR 5
#define NN_UNSUPPORTED_OPERATION 6
#define NN_TOO_LARGE 7
#define NN_NOT_FOUND 8
#define NN_END_OF_SEQUENCE 100
#define NN_CONTEXT_FULL 101
#define NN_PROMPT_TOO_LONG 102
#define NN_MODEL_NOT_FOUND 103

/* ---- per-run state ---------------------------------------------------------------- */
typedef enum { FD_FREE = 0, FD_STDIN, FD_STDOUT, FD_STDERR, FD_PREOPEN, FD_FILE, FD_DIR } fd_kind;

typedef struct {
    fd_kind kind;
    int host_fd;  /* FD_PREOPEN/FD_FILE/FD_DIR: an O_RDONLY host descriptor */
    uint64_t pos; /* FD_FILE: current offset (the host fd's own offset is never used) */
} wasi_fd;

#define WASI_MAX_FDS 64

/* ChaCha20 keystream generator (infer.h's RFC 8439 block function). */
typedef struct {
    uint8_t key[32];
    uint8_t nonce[12];
    uint32_t counter;
    uint8_t block[64];
    unsigned used; /* bytes of block already handed out (64 = need a new block) */
} wasi_chacha;

void wicas_wasi_chacha_init(wasi_chacha *c, const uint8_t key[32], const uint8_t nonce[12]);
void wicas_wasi_chacha_fill(wasi_chacha *c, uint8_t *out, size_t n);

struct wasi_nn_state; /* nn.c */

typedef struct wicas_wasi_host {
    const wicas_wasi_config *cfg;
    const wicas_wasi_request *req;
    wasi_fd fds[WASI_MAX_FDS];
    size_t stdin_pos;
    uint8_t *out;
    size_t out_len, out_alloc, out_cap;
    uint8_t *err;
    size_t err_len, err_alloc, err_cap;
    bool err_truncated;
    uint64_t mono_ns; /* monotonic clock (advances on every read) */
    wasi_chacha rng;
    /* How the run stopped, when a host function stopped it. */
    bool exited;
    int exit_code;
    int stop_code; /* WICAS_WASI_E* set by a host function that trapped */
    char stop_msg[400];
    struct wasi_nn_state *nn;
    uint64_t nn_prompt_tokens, nn_generated_tokens;
    uint32_t nn_computes;
    uint64_t nn_model_prompt_tokens[WICAS_WASI_MAX_MODELS]; /* per cfg->models entry */
    uint64_t nn_model_generated_tokens[WICAS_WASI_MAX_MODELS];
    uint32_t nn_model_computes[WICAS_WASI_MAX_MODELS];
} wicas_wasi_host;

/* The host state behind a caller (the store's data). */
wicas_wasi_host *wicas_wasi_host_of(wasmtime_caller_t *caller);

/* The caller's exported "memory": base and size in bytes; false if absent. */
bool wicas_wasi_guest_mem(wasmtime_caller_t *caller, uint8_t **base, size_t *size);

/* True when [ptr, ptr+len) lies inside a memory of `size` bytes. */
static inline bool guest_range(size_t size, uint32_t ptr, uint64_t len) {
    return (uint64_t)ptr + len <= (uint64_t)size;
}
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wr64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Charges `amount` fuel for work done on the host. Returns NULL, or an
 * out-of-fuel trap (and records EFUEL) when the store has less left. */
wasm_trap_t *wicas_wasi_host_charge(wasmtime_caller_t *caller, uint64_t amount);

/* Appends n bytes to the captured stdout as fd_write(1, ...) would (WASI-NN's
 * "stream-stdout" writes there). False when they do not fit under the stdout
 * cap (nothing appended) or the host is out of memory; the caller then stops
 * the run with WICAS_WASI_EOUTPUT, as fd_write does. Charges no fuel. */
bool wicas_wasi_stdout_append(wicas_wasi_host *h, const uint8_t *p, size_t n);

/* Stops the run with a trap carrying `code` (a WICAS_WASI_E*) and a message. */
wasm_trap_t *wicas_wasi_host_stop(wicas_wasi_host *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- host function tables -------------------------------------------------------------
 * Each entry: import name, parameter kinds ("i" = i32, "I" = i64), result
 * kinds ("" or "i"), callback, and the errno a stub returns (for cb == NULL:
 * the function is linked and always answers `stub_errno`). */
typedef struct {
    const char *name;
    const char *params;
    const char *results;
    wasmtime_func_callback_t cb;
    int stub_errno;
} wasi_hostfn;

extern const wasi_hostfn wicas_wasi_preview1_fns[];
extern const size_t wicas_wasi_preview1_n;
extern const wasi_hostfn wicas_wasi_nn_fns[];
extern const size_t wicas_wasi_nn_n;

/* Per-run setup/teardown. */
int wicas_wasi_fs_init(wicas_wasi_host *h, char *err, size_t errlen);
void wicas_wasi_fs_close(wicas_wasi_host *h);
void wicas_wasi_nn_free(wicas_wasi_host *h);

#endif /* WICAS_WASI_INTERNAL_H */

/*
 * preview1.c — the wasi_snapshot_preview1 host functions, written for a
 * deterministic, read-only sandbox rather than for general use.
 *
 * File descriptors: 0 stdin (the request's bytes), 1 stdout and 2 stderr
 * (captured, bounded), 3 the one preopen "/models" (a read-only host
 * directory), 4.. files and directories opened beneath it. The host keeps each
 * file's offset itself and reads with pread, so nothing depends on host fd
 * state.
 *
 * Path resolution never leaves the preopen: a path is split into components,
 * an absolute path or a ".." component is refused (ENOTCAPABLE), and each
 * component is opened with openat(..., O_NOFOLLOW) from its parent, so a
 * symbolic link anywhere in the path is refused too rather than followed.
 * Only regular files and directories are opened. Anything that would write
 * (create, truncate, write rights, append, unlink, rename, ...) gets EROFS.
 *
 * Metadata is made host-independent: no inode numbers, link counts or
 * timestamps from the host — only type and size — and directory listings
 * come sorted by name.
 *
 * Every call charges fuel: a fixed amount, plus one unit per 16 bytes copied,
 * so host work is paid for like guest work.
 */
#include "wasi_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUEL_CALL 100u
#define FUEL_PER_16_BYTES 1u
#define MAX_PATH_BYTES 1024u
#define MAX_IOVS 1024u

/* Return helpers: a preview1 function returns one i32 errno. */
static wasm_trap_t *ret(wasmtime_val_t *results, int errno_) {
    results[0].kind = WASMTIME_I32;
    results[0].of.i32 = errno_;
    return NULL;
}
#define A32(i) ((uint32_t)args[i].of.i32)
#define A64(i) ((uint64_t)args[i].of.i64)

/* Common prologue: charge the call, fetch memory. */
#define PROLOGUE(extra_fuel)                                                                                 \
    wicas_wasi_host *h = wicas_wasi_host_of(caller);                                                         \
    (void)h;                                                                                                 \
    (void)nargs;                                                                                             \
    (void)nresults;                                                                                          \
    (void)env;                                                                                               \
    wasm_trap_t *charge_trap = wicas_wasi_host_charge(caller, FUEL_CALL + (extra_fuel));                     \
    if (charge_trap) return charge_trap;                                                                     \
    uint8_t *mem = NULL;                                                                                     \
    size_t mem_size = 0;                                                                                     \
    if (!wicas_wasi_guest_mem(caller, &mem, &mem_size)) return ret(results, WASI_EFAULT);

#define HOSTFN(name)                                                                                         \
    static wasm_trap_t *name(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs, \
                             wasmtime_val_t *results, size_t nresults)

static wasi_fd *get_fd(wicas_wasi_host *h, uint32_t fd) {
    if (fd >= WASI_MAX_FDS || h->fds[fd].kind == FD_FREE) return NULL;
    return &h->fds[fd];
}

static int map_errno(int e) {
    switch (e) {
    case ENOENT:
        return WASI_ENOENT;
    case ENOTDIR:
        return WASI_ENOTDIR;
    case EACCES:
        return WASI_EACCES;
    case EPERM:
        return WASI_EPERM;
    case ELOOP:
        return WASI_ENOTCAPABLE; /* O_NOFOLLOW met a symbolic link */
    case EISDIR:
        return WASI_EISDIR;
    case ENAMETOOLONG:
        return WASI_ENAMETOOLONG;
    case EMFILE:
    case ENFILE:
        return WASI_EMFILE;
    case ENOMEM:
        return WASI_ENOMEM;
    case EROFS:
        return WASI_EROFS;
    default:
        return WASI_EIO;
    }
}

/* ---- set-up ----------------------------------------------------------------------- */

int wicas_wasi_fs_init(wicas_wasi_host *h, char *err, size_t errlen) {
    for (int i = 0; i < WASI_MAX_FDS; i++)
        h->fds[i].host_fd = -1;
    h->fds[0].kind = FD_STDIN;
    h->fds[1].kind = FD_STDOUT;
    h->fds[2].kind = FD_STDERR;
    if (h->cfg->models_dir) {
        int d = open(h->cfg->models_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) {
            snprintf(err, errlen, "wicas_wasi_run: models directory %s: %s", h->cfg->models_dir,
                     strerror(errno));
            return -1;
        }
        h->fds[3].kind = FD_PREOPEN;
        h->fds[3].host_fd = d;
    }
    return 0;
}

void wicas_wasi_fs_close(wicas_wasi_host *h) {
    for (int i = 0; i < WASI_MAX_FDS; i++) {
        if (h->fds[i].host_fd >= 0) close(h->fds[i].host_fd);
        h->fds[i].host_fd = -1;
        h->fds[i].kind = FD_FREE;
    }
}

/* ---- args and environment ----------------------------------------------------------- */

/* Writes n strings as a pointer array at ptrs and packed NUL-terminated bytes at buf. */
static int put_strings(uint8_t *mem, size_t mem_size, const char *const *s, size_t n, uint32_t ptrs,
                       uint32_t buf) {
    if (!guest_range(mem_size, ptrs, (uint64_t)n * 4)) return WASI_EFAULT;
    uint64_t off = buf;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(s[i]) + 1;
        if (!guest_range(mem_size, (uint32_t)off, l) || off > UINT32_MAX) return WASI_EFAULT;
        memcpy(mem + off, s[i], l);
        wr32(mem + ptrs + 4 * i, (uint32_t)off);
        off += l;
    }
    return WASI_ESUCCESS;
}

static int put_sizes(uint8_t *mem, size_t mem_size, const char *const *s, size_t n, uint32_t count_ptr,
                     uint32_t size_ptr) {
    if (!guest_range(mem_size, count_ptr, 4) || !guest_range(mem_size, size_ptr, 4)) return WASI_EFAULT;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(s[i]) + 1;
    if (total > UINT32_MAX || n > UINT32_MAX / 4) return WASI_EOVERFLOW;
    wr32(mem + count_ptr, (uint32_t)n);
    wr32(mem + size_ptr, (uint32_t)total);
    return WASI_ESUCCESS;
}

HOSTFN(args_get) {
    PROLOGUE(0)
    return ret(results, put_strings(mem, mem_size, h->req->args, h->req->n_args, A32(0), A32(1)));
}
HOSTFN(args_sizes_get) {
    PROLOGUE(0)
    return ret(results, put_sizes(mem, mem_size, h->req->args, h->req->n_args, A32(0), A32(1)));
}
HOSTFN(environ_get) {
    PROLOGUE(0)
    return ret(results, put_strings(mem, mem_size, h->req->env, h->req->n_env, A32(0), A32(1)));
}
HOSTFN(environ_sizes_get) {
    PROLOGUE(0)
    return ret(results, put_sizes(mem, mem_size, h->req->env, h->req->n_env, A32(0), A32(1)));
}

/* ---- clocks and randomness -------------------------------------------------------------
 * Realtime (0) is the block time. Monotonic (1) and the CPU-time clocks (2, 3)
 * are one counter that advances 1 microsecond per read, so elapsed-time
 * measurements in programs are deterministic (and meaningless). */
#define CLOCK_STEP_NS 1000u

HOSTFN(clock_res_get) {
    PROLOGUE(0)
    uint32_t id = A32(0), out = A32(1);
    if (id > 3) return ret(results, WASI_EINVAL);
    if (!guest_range(mem_size, out, 8)) return ret(results, WASI_EFAULT);
    wr64(mem + out, CLOCK_STEP_NS);
    return ret(results, WASI_ESUCCESS);
}
HOSTFN(clock_time_get) {
    PROLOGUE(0)
    uint32_t id = A32(0), out = A32(2);
    if (id > 3) return ret(results, WASI_EINVAL);
    if (!guest_range(mem_size, out, 8)) return ret(results, WASI_EFAULT);
    uint64_t t;
    if (id == 0) {
        t = (uint64_t)h->req->block_time_ns;
    } else {
        h->mono_ns += CLOCK_STEP_NS;
        t = h->mono_ns;
    }
    wr64(mem + out, t);
    return ret(results, WASI_ESUCCESS);
}
HOSTFN(random_get) {
    PROLOGUE(A32(1) / 16 * FUEL_PER_16_BYTES)
    uint32_t buf = A32(0), len = A32(1);
    if (!guest_range(mem_size, buf, len)) return ret(results, WASI_EFAULT);
    wicas_wasi_chacha_fill(&h->rng, mem + buf, len);
    return ret(results, WASI_ESUCCESS);
}

/* ---- process -------------------------------------------------------------------------------- */
HOSTFN(proc_exit) {
    (void)env;
    (void)nargs;
    (void)results;
    (void)nresults;
    wicas_wasi_host *h = wicas_wasi_host_of(caller);
    h->exited = true;
    h->exit_code = args[0].of.i32;
    /* Unwinding the guest is done with a trap; wasi.c sees `exited` and
     * reports a clean exit. */
    return wasmtime_trap_new("proc_exit", 9);
}
HOSTFN(sched_yield) {
    PROLOGUE(0)
    (void)args;
    (void)mem;
    return ret(results, WASI_ESUCCESS);
}

/* poll_oneoff: only what a sleep needs. Clock subscriptions complete at once
 * (and advance the monotonic clock by their timeout); fd subscriptions are
 * not supported (ENOTSUP in the event). */
HOSTFN(poll_oneoff) {
    PROLOGUE(0)
    uint32_t in = A32(0), out = A32(1), n = A32(2), nev_ptr = A32(3);
    if (n == 0) return ret(results, WASI_EINVAL);
    if (n > 4096 || !guest_range(mem_size, in, (uint64_t)n * 48) ||
        !guest_range(mem_size, out, (uint64_t)n * 32) || !guest_range(mem_size, nev_ptr, 4))
        return ret(results, WASI_EFAULT);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = mem + in + 48u * i; /* userdata u64, tag u8 @8, union @16 */
        uint8_t *ev = mem + out + 32u * i;     /* userdata u64, error u16 @8, type u8 @10, ... */
        memset(ev, 0, 32);
        memcpy(ev, s, 8);
        ev[10] = s[8];
        if (s[8] == 0) {
            uint64_t timeout = 0;
            for (int b = 0; b < 8; b++)
                timeout |= (uint64_t)s[24 + b] << (8 * b);
            if (timeout < (1ull << 40)) h->mono_ns += timeout; /* bounded: no overflow games */
        } else {
            wr16(ev + 8, WASI_ENOTSUP);
        }
    }
    wr32(mem + nev_ptr, n);
    return ret(results, WASI_ESUCCESS);
}

/* ---- fd_write / fd_read --------------------------------------------------------------------- */

/* Appends to a capture buffer. Returns false if it would pass the cap; with
 * truncate, keeps what fits instead. */
static bool capture(uint8_t **buf, size_t *len, size_t *alloc, size_t cap, const uint8_t *p, size_t n,
                    bool truncate, bool *truncated) {
    if (*len + n > cap) {
        if (!truncate) return false;
        *truncated = true;
        n = cap - *len;
    }
    if (*len + n + 1 > *alloc) {
        size_t na = *alloc ? *alloc : 4096;
        while (na < *len + n + 1)
            na *= 2;
        if (na > cap + 1) na = cap + 1;
        uint8_t *nb = realloc(*buf, na);
        if (!nb) return false;
        *buf = nb;
        *alloc = na;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return true;
}

bool wicas_wasi_stdout_append(wicas_wasi_host *h, const uint8_t *p, size_t n) {
    return capture(&h->out, &h->out_len, &h->out_alloc, h->out_cap, p, n, false, NULL);
}

HOSTFN(fd_write) {
    uint32_t fd = (uint32_t)args[0].of.i32, iovs = (uint32_t)args[1].of.i32, n = (uint32_t)args[2].of.i32;
    PROLOGUE(0)
    uint32_t nw_ptr = A32(3);
    if (n > MAX_IOVS || !guest_range(mem_size, iovs, (uint64_t)n * 8) || !guest_range(mem_size, nw_ptr, 4))
        return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, fd);
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind == FD_FILE || f->kind == FD_DIR || f->kind == FD_PREOPEN) return ret(results, WASI_EROFS);
    if (f->kind != FD_STDOUT && f->kind != FD_STDERR) return ret(results, WASI_EBADF);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rd32(mem + iovs + 8 * i), l = rd32(mem + iovs + 8 * i + 4);
        if (!guest_range(mem_size, p, l)) return ret(results, WASI_EFAULT);
        total += l;
    }
    wasm_trap_t *t = wicas_wasi_host_charge(caller, total / 16 * FUEL_PER_16_BYTES);
    if (t) return t;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rd32(mem + iovs + 8 * i), l = rd32(mem + iovs + 8 * i + 4);
        if (f->kind == FD_STDOUT) {
            if (!capture(&h->out, &h->out_len, &h->out_alloc, h->out_cap, mem + p, l, false, NULL))
                return wicas_wasi_host_stop(
                    h, WICAS_WASI_EOUTPUT,
                    "program wrote more than %zu bytes to stdout (the output limit); stopped", h->out_cap);
        } else {
            if (!capture(&h->err, &h->err_len, &h->err_alloc, h->err_cap, mem + p, l, true,
                         &h->err_truncated))
                return wicas_wasi_host_stop(h, WICAS_WASI_ENOMEM, "out of host memory capturing stderr");
        }
    }
    wr32(mem + nw_ptr, (uint32_t)total);
    return ret(results, WASI_ESUCCESS);
}

/* Reads into the iovecs from stdin or a file at offset *pos (advanced). */
static int do_read(wicas_wasi_host *h, wasi_fd *f, uint8_t *mem, size_t mem_size, uint32_t iovs, uint32_t n,
                   uint64_t *pos, uint64_t *nread) {
    if (n > MAX_IOVS || !guest_range(mem_size, iovs, (uint64_t)n * 8)) return WASI_EFAULT;
    *nread = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rd32(mem + iovs + 8 * i), l = rd32(mem + iovs + 8 * i + 4);
        if (!guest_range(mem_size, p, l)) return WASI_EFAULT;
        size_t got;
        if (f->kind == FD_STDIN) {
            size_t left = h->req->stdin_len - h->stdin_pos;
            got = l < left ? l : left;
            if (got) memcpy(mem + p, h->req->stdin_data + h->stdin_pos, got);
            h->stdin_pos += got;
        } else {
            ssize_t r;
            do {
                r = pread(f->host_fd, mem + p, l, (off_t)*pos);
            } while (r < 0 && errno == EINTR);
            if (r < 0) return map_errno(errno);
            got = (size_t)r;
            *pos += got;
        }
        *nread += got;
        if (got < l) break;
    }
    return WASI_ESUCCESS;
}

HOSTFN(fd_read) {
    PROLOGUE(0)
    uint32_t fd = A32(0), iovs = A32(1), n = A32(2), nr_ptr = A32(3);
    if (!guest_range(mem_size, nr_ptr, 4)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, fd);
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind == FD_DIR || f->kind == FD_PREOPEN) return ret(results, WASI_EISDIR);
    if (f->kind != FD_STDIN && f->kind != FD_FILE) return ret(results, WASI_EBADF);
    uint64_t nread = 0;
    int rc = do_read(h, f, mem, mem_size, iovs, n, &f->pos, &nread);
    if (rc) return ret(results, rc);
    wasm_trap_t *t = wicas_wasi_host_charge(caller, nread / 16 * FUEL_PER_16_BYTES);
    if (t) return t;
    wr32(mem + nr_ptr, (uint32_t)nread);
    return ret(results, WASI_ESUCCESS);
}

HOSTFN(fd_pread) {
    PROLOGUE(0)
    uint32_t fd = A32(0), iovs = A32(1), n = A32(2), nr_ptr = A32(4);
    uint64_t off = A64(3);
    if (!guest_range(mem_size, nr_ptr, 4)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, fd);
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind == FD_STDIN) return ret(results, WASI_ESPIPE);
    if (f->kind == FD_DIR || f->kind == FD_PREOPEN) return ret(results, WASI_EISDIR);
    if (f->kind != FD_FILE) return ret(results, WASI_EBADF);
    if (off > (uint64_t)INT64_MAX) return ret(results, WASI_EINVAL);
    uint64_t nread = 0;
    int rc = do_read(h, f, mem, mem_size, iovs, n, &off, &nread);
    if (rc) return ret(results, rc);
    wasm_trap_t *t = wicas_wasi_host_charge(caller, nread / 16 * FUEL_PER_16_BYTES);
    if (t) return t;
    wr32(mem + nr_ptr, (uint32_t)nread);
    return ret(results, WASI_ESUCCESS);
}

/* ---- descriptors ---------------------------------------------------------------------------- */

HOSTFN(fd_close) {
    PROLOGUE(0)
    (void)mem;
    wasi_fd *f = get_fd(h, A32(0));
    if (!f) return ret(results, WASI_EBADF);
    if (f->host_fd >= 0) close(f->host_fd);
    f->host_fd = -1;
    f->kind = FD_FREE;
    f->pos = 0;
    return ret(results, WASI_ESUCCESS);
}

static int host_size(const wasi_fd *f, uint64_t *size) {
    struct stat st;
    if (fstat(f->host_fd, &st) != 0) return map_errno(errno);
    *size = (uint64_t)st.st_size;
    return 0;
}

HOSTFN(fd_seek) {
    PROLOGUE(0)
    uint32_t fd = A32(0), whence = A32(2), out = A32(3);
    int64_t off = args[1].of.i64;
    if (!guest_range(mem_size, out, 8)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, fd);
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind == FD_STDIN || f->kind == FD_STDOUT || f->kind == FD_STDERR) return ret(results, WASI_ESPIPE);
    if (f->kind != FD_FILE) return ret(results, WASI_EBADF);
    int64_t base;
    if (whence == 0) {
        base = 0;
    } else if (whence == 1) {
        base = (int64_t)f->pos;
    } else if (whence == 2) {
        uint64_t size = 0;
        int rc = host_size(f, &size);
        if (rc) return ret(results, rc);
        base = (int64_t)size;
    } else {
        return ret(results, WASI_EINVAL);
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0) return ret(results, WASI_EINVAL);
    f->pos = (uint64_t)(base + off);
    wr64(mem + out, f->pos);
    return ret(results, WASI_ESUCCESS);
}

HOSTFN(fd_tell) {
    PROLOGUE(0)
    uint32_t out = A32(1);
    if (!guest_range(mem_size, out, 8)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind != FD_FILE)
        return ret(results, f->kind == FD_DIR || f->kind == FD_PREOPEN ? WASI_EBADF : WASI_ESPIPE);
    wr64(mem + out, f->pos);
    return ret(results, WASI_ESUCCESS);
}

#define RIGHTS_FILE                                                                                          \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_ADVISE |                   \
     WASI_RIGHT_FD_FILESTAT_GET)
#define RIGHTS_DIR                                                                                           \
    (WASI_RIGHT_PATH_OPEN | WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_GET)

HOSTFN(fd_fdstat_get) {
    PROLOGUE(0)
    uint32_t out = A32(1);
    if (!guest_range(mem_size, out, 24)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f) return ret(results, WASI_EBADF);
    uint8_t type;
    uint64_t base, inh = 0;
    switch (f->kind) {
    case FD_STDIN:
        type = WASI_FILETYPE_CHARACTER_DEVICE;
        base = WASI_RIGHT_FD_READ;
        break;
    case FD_STDOUT:
    case FD_STDERR:
        type = WASI_FILETYPE_CHARACTER_DEVICE;
        base = WASI_RIGHT_FD_WRITE;
        break;
    case FD_FILE:
        type = WASI_FILETYPE_REGULAR_FILE;
        base = RIGHTS_FILE;
        break;
    default:
        type = WASI_FILETYPE_DIRECTORY;
        base = RIGHTS_DIR;
        inh = RIGHTS_DIR | RIGHTS_FILE;
        break;
    }
    memset(mem + out, 0, 24);
    mem[out] = type;
    wr64(mem + out + 8, base);
    wr64(mem + out + 16, inh);
    return ret(results, WASI_ESUCCESS);
}

/* filestat: dev 0, ino 0, filetype, nlink 1, size, all times 0. */
static void put_filestat(uint8_t *p, uint8_t type, uint64_t size) {
    memset(p, 0, 64);
    p[16] = type;
    wr64(p + 24, 1);
    wr64(p + 32, size);
}

static uint8_t type_of_mode(mode_t m) {
    if (S_ISREG(m)) return WASI_FILETYPE_REGULAR_FILE;
    if (S_ISDIR(m)) return WASI_FILETYPE_DIRECTORY;
    if (S_ISLNK(m)) return WASI_FILETYPE_SYMBOLIC_LINK;
    return WASI_FILETYPE_UNKNOWN;
}

HOSTFN(fd_filestat_get) {
    PROLOGUE(0)
    uint32_t out = A32(1);
    if (!guest_range(mem_size, out, 64)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind == FD_STDIN || f->kind == FD_STDOUT || f->kind == FD_STDERR) {
        put_filestat(mem + out, WASI_FILETYPE_CHARACTER_DEVICE, 0);
        return ret(results, WASI_ESUCCESS);
    }
    struct stat st;
    if (fstat(f->host_fd, &st) != 0) return ret(results, map_errno(errno));
    put_filestat(mem + out, type_of_mode(st.st_mode), S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size);
    return ret(results, WASI_ESUCCESS);
}

static const char PREOPEN_NAME[] = "/models";

HOSTFN(fd_prestat_get) {
    PROLOGUE(0)
    uint32_t out = A32(1);
    if (!guest_range(mem_size, out, 8)) return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f || f->kind != FD_PREOPEN) return ret(results, WASI_EBADF);
    memset(mem + out, 0, 8);
    wr32(mem + out + 4, (uint32_t)strlen(PREOPEN_NAME));
    return ret(results, WASI_ESUCCESS);
}

HOSTFN(fd_prestat_dir_name) {
    PROLOGUE(0)
    uint32_t p = A32(1), l = A32(2);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f || f->kind != FD_PREOPEN) return ret(results, WASI_EBADF);
    if (l < strlen(PREOPEN_NAME)) return ret(results, WASI_EINVAL);
    if (!guest_range(mem_size, p, strlen(PREOPEN_NAME))) return ret(results, WASI_EFAULT);
    memcpy(mem + p, PREOPEN_NAME, strlen(PREOPEN_NAME));
    return ret(results, WASI_ESUCCESS);
}

/* ---- paths -------------------------------------------------------------------------------- */

/* Opens path (len bytes in guest memory) beneath the directory host fd dir,
 * refusing anything that could leave it. want_dir demands a directory.
 * On success *out is a new O_RDONLY host fd of a regular file or directory. */
static int resolve_open(int dir, const uint8_t *path, uint32_t len, bool want_dir, int *out) {
    if (len == 0) return WASI_ENOENT;
    if (len > MAX_PATH_BYTES) return WASI_ENAMETOOLONG;
    char buf[MAX_PATH_BYTES + 1];
    memcpy(buf, path, len);
    buf[len] = 0;
    if (memchr(buf, 0, len)) return WASI_EINVAL;
    if (buf[0] == '/') return WASI_ENOTCAPABLE; /* absolute: outside the sandbox by definition */

    /* Split in place into components, dropping empty ones and ".". */
    char *comps[MAX_PATH_BYTES / 2 + 1];
    size_t nc = 0;
    for (char *s = buf; *s;) {
        char *slash = strchr(s, '/');
        if (slash) *slash = 0;
        if (strcmp(s, "..") == 0) return WASI_ENOTCAPABLE;
        if (*s && strcmp(s, ".") != 0) comps[nc++] = s;
        if (!slash) break;
        s = slash + 1;
    }

    int cur = dir;
    for (size_t i = 0; i + 1 < nc; i++) {
        int nfd = openat(cur, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (nfd < 0) {
            struct stat st;
            if ((e == ENOTDIR || e == ELOOP) && fstatat(cur, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                e = ELOOP;
            if (cur != dir) close(cur);
            return map_errno(e);
        }
        if (cur != dir) close(cur);
        cur = nfd;
    }
    const char *last = nc ? comps[nc - 1] : ".";
    int fd = openat(cur, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (want_dir ? O_DIRECTORY : 0));
    int e = errno;
    if (fd < 0) {
        struct stat st;
        if (e == ENOTDIR && fstatat(cur, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            e = ELOOP;
    }
    if (cur != dir) close(cur);
    if (fd < 0) return map_errno(e);
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        close(fd);
        return WASI_EACCES; /* devices, fifos, sockets: not offered */
    }
    *out = fd;
    return WASI_ESUCCESS;
}

static int dir_fd(wicas_wasi_host *h, uint32_t fd, int *host) {
    wasi_fd *f = get_fd(h, fd);
    if (!f) return WASI_EBADF;
    if (f->kind != FD_PREOPEN && f->kind != FD_DIR) return WASI_ENOTDIR;
    *host = f->host_fd;
    return 0;
}

HOSTFN(path_open) {
    PROLOGUE(0)
    uint32_t dfd = A32(0), p = A32(2), l = A32(3), oflags = A32(4), fdflags = A32(7), out = A32(8);
    uint64_t rights = A64(5);
    if (!guest_range(mem_size, p, l) || !guest_range(mem_size, out, 4)) return ret(results, WASI_EFAULT);
    int dir;
    int rc = dir_fd(h, dfd, &dir);
    if (rc) return ret(results, rc);
    /* Anything that would create or modify: the file system is read-only. */
    if ((oflags & (WASI_OFLAGS_CREAT | WASI_OFLAGS_TRUNC | WASI_OFLAGS_EXCL)) ||
        (rights & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE |
                   WASI_RIGHT_FD_DATASYNC)) ||
        (fdflags & (WASI_FDFLAGS_APPEND | WASI_FDFLAGS_DSYNC | WASI_FDFLAGS_SYNC | WASI_FDFLAGS_RSYNC)))
        return ret(results, WASI_EROFS);
    int slot = -1;
    for (int i = 4; i < WASI_MAX_FDS; i++)
        if (h->fds[i].kind == FD_FREE) {
            slot = i;
            break;
        }
    if (slot < 0) return ret(results, WASI_EMFILE);
    int hfd;
    rc = resolve_open(dir, mem + p, l, (oflags & WASI_OFLAGS_DIRECTORY) != 0, &hfd);
    if (rc) return ret(results, rc);
    struct stat st;
    if (fstat(hfd, &st) != 0) {
        close(hfd);
        return ret(results, WASI_EIO);
    }
    h->fds[slot].kind = S_ISDIR(st.st_mode) ? FD_DIR : FD_FILE;
    h->fds[slot].host_fd = hfd;
    h->fds[slot].pos = 0;
    wr32(mem + out, (uint32_t)slot);
    return ret(results, WASI_ESUCCESS);
}

HOSTFN(path_filestat_get) {
    PROLOGUE(0)
    uint32_t dfd = A32(0), p = A32(2), l = A32(3), out = A32(4);
    if (!guest_range(mem_size, p, l) || !guest_range(mem_size, out, 64)) return ret(results, WASI_EFAULT);
    int dir;
    int rc = dir_fd(h, dfd, &dir);
    if (rc) return ret(results, rc);
    int hfd;
    rc = resolve_open(dir, mem + p, l, false, &hfd);
    if (rc) return ret(results, rc);
    struct stat st;
    rc = fstat(hfd, &st) == 0 ? 0 : WASI_EIO;
    close(hfd);
    if (rc) return ret(results, rc);
    put_filestat(mem + out, type_of_mode(st.st_mode), S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size);
    return ret(results, WASI_ESUCCESS);
}

/* fd_readdir: entries (without "." and "..") sorted by name; the cookie of
 * entry i is i + 1. Dirents are written back to back; an entry that does not
 * fit is cut, which tells the program to call again with a bigger buffer. */
static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

HOSTFN(fd_readdir) {
    PROLOGUE(0)
    uint32_t buf = A32(1), len = A32(2), used_ptr = A32(4);
    uint64_t cookie = A64(3);
    if (!guest_range(mem_size, buf, len) || !guest_range(mem_size, used_ptr, 4))
        return ret(results, WASI_EFAULT);
    wasi_fd *f = get_fd(h, A32(0));
    if (!f) return ret(results, WASI_EBADF);
    if (f->kind != FD_DIR && f->kind != FD_PREOPEN) return ret(results, WASI_ENOTDIR);
    int d = dup(f->host_fd);
    if (d < 0) return ret(results, map_errno(errno));
    DIR *dp = fdopendir(d);
    if (!dp) {
        close(d);
        return ret(results, WASI_EIO);
    }
    rewinddir(dp);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (n == 4096) break; /* a models directory is small; bound host work */
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) {
                rc = WASI_ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = WASI_ENOMEM;
            break;
        }
        n++;
    }
    if (!rc) qsort(names, n, sizeof *names, cmp_names);
    uint32_t used = 0;
    for (uint64_t i = cookie; !rc && i < n && used < len; i++) {
        uint8_t ent[24];
        size_t nl = strlen(names[i]);
        struct stat st;
        uint8_t type = fstatat(dirfd(dp), names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 ? type_of_mode(st.st_mode)
                                                                                   : WASI_FILETYPE_UNKNOWN;
        memset(ent, 0, sizeof ent);
        wr64(ent, i + 1);
        wr64(ent + 8, i + 1); /* a stable stand-in for the inode number */
        wr32(ent + 16, (uint32_t)nl);
        ent[20] = type;
        for (size_t k = 0; k < 24 + nl && used < len; k++, used++)
            mem[buf + used] = k < 24 ? ent[k] : (uint8_t)names[i][k - 24];
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(dp);
    if (rc) return ret(results, rc);
    wasm_trap_t *t = wicas_wasi_host_charge(caller, used / 16 * FUEL_PER_16_BYTES);
    if (t) return t;
    wr32(mem + used_ptr, used);
    return ret(results, WASI_ESUCCESS);
}

HOSTFN(fd_advise) {
    PROLOGUE(0)
    (void)mem;
    return ret(results, get_fd(h, A32(0)) ? WASI_ESUCCESS : WASI_EBADF);
}

/* ---- the table -------------------------------------------------------------------------------
 * Signatures are the raw wasm types of the preview1 imports ("i" i32, "I" i64). */
#define FN(name, p, r)                                                                                       \
    { #name, p, r, name, 0 }
#define STUB(name, p, e)                                                                                     \
    { #name, p, "i", NULL, e }
const wasi_hostfn wicas_wasi_preview1_fns[] = {
    FN(args_get, "ii", "i"),
    FN(args_sizes_get, "ii", "i"),
    FN(environ_get, "ii", "i"),
    FN(environ_sizes_get, "ii", "i"),
    FN(clock_res_get, "ii", "i"),
    FN(clock_time_get, "iIi", "i"),
    FN(fd_advise, "iIIi", "i"),
    STUB(fd_allocate, "iII", WASI_EROFS),
    FN(fd_close, "i", "i"),
    STUB(fd_datasync, "i", WASI_EROFS),
    FN(fd_fdstat_get, "ii", "i"),
    STUB(fd_fdstat_set_flags, "ii", WASI_ENOSYS),
    STUB(fd_fdstat_set_rights, "iII", WASI_ENOSYS),
    FN(fd_filestat_get, "ii", "i"),
    STUB(fd_filestat_set_size, "iI", WASI_EROFS),
    STUB(fd_filestat_set_times, "iIIi", WASI_EROFS),
    FN(fd_pread, "iiiIi", "i"),
    FN(fd_prestat_get, "ii", "i"),
    FN(fd_prestat_dir_name, "iii", "i"),
    STUB(fd_pwrite, "iiiIi", WASI_EROFS),
    FN(fd_read, "iiii", "i"),
    FN(fd_readdir, "iiiIi", "i"),
    STUB(fd_renumber, "ii", WASI_ENOSYS),
    FN(fd_seek, "iIii", "i"),
    STUB(fd_sync, "i", WASI_EROFS),
    FN(fd_tell, "ii", "i"),
    FN(fd_write, "iiii", "i"),
    STUB(path_create_directory, "iii", WASI_EROFS),
    FN(path_filestat_get, "iiiii", "i"),
    STUB(path_filestat_set_times, "iiiiIIi", WASI_EROFS),
    STUB(path_link, "iiiiiii", WASI_EROFS),
    FN(path_open, "iiiiiIIii", "i"),
    STUB(path_readlink, "iiiiii", WASI_ENOSYS),
    STUB(path_remove_directory, "iii", WASI_EROFS),
    STUB(path_rename, "iiiiii", WASI_EROFS),
    STUB(path_symlink, "iiiii", WASI_EROFS),
    STUB(path_unlink_file, "iii", WASI_EROFS),
    FN(poll_oneoff, "iiii", "i"),
    {"proc_exit", "i", "", proc_exit, 0},
    STUB(proc_raise, "i", WASI_ENOSYS),
    FN(sched_yield, "", "i"),
    FN(random_get, "ii", "i"),
    STUB(sock_accept, "iii", WASI_ENOSYS),
    STUB(sock_recv, "iiiiii", WASI_ENOSYS),
    STUB(sock_send, "iiiii", WASI_ENOSYS),
    STUB(sock_shutdown, "ii", WASI_ENOSYS),
};
const size_t wicas_wasi_preview1_n = sizeof wicas_wasi_preview1_fns / sizeof wicas_wasi_preview1_fns[0];

/*
 * gguf.c — validating GGUF v2/v3 reader over mmap.
 *
 * Shape: a bounded cursor (rd) walks the header, metadata and tensor
 * descriptors; every read checks the bytes left first, every size is computed
 * with overflow checks, and the first problem stops the parse with a message
 * naming the byte offset and the key or tensor concerned. Only after the whole
 * structure is checked (including every tensor's bytes lying inside the file,
 * aligned, and not overlapping the descriptors) is the file handed out.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "infer.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32u
/* Sanity caps: far above any real model, low enough that counts taken from a
 * corrupt header cannot make us allocate absurd amounts. */
#define GGUF_MAX_KV (1u << 20)
#define GGUF_MAX_TENSORS (1u << 20)

/* ---- type table ---------------------------------------------------------- */
static const struct {
    uint32_t type;
    const char *name;
    uint32_t be, bb;
} TYPES[] = {
    {GGML_F32, "F32", 1, 4},         {GGML_F16, "F16", 1, 2},           {GGML_Q4_0, "Q4_0", 32, 18},
    {GGML_Q4_1, "Q4_1", 32, 20},     {GGML_Q5_0, "Q5_0", 32, 22},       {GGML_Q5_1, "Q5_1", 32, 24},
    {GGML_Q8_0, "Q8_0", 32, 34},     {GGML_Q8_1, "Q8_1", 32, 36},       {GGML_Q2_K, "Q2_K", 256, 84},
    {GGML_Q3_K, "Q3_K", 256, 110},   {GGML_Q4_K, "Q4_K", 256, 144},     {GGML_Q5_K, "Q5_K", 256, 176},
    {GGML_Q6_K, "Q6_K", 256, 210},   {GGML_Q8_K, "Q8_K", 256, 292},     {GGML_BF16, "BF16", 1, 2},
    {GGML_IQ4_NL, "IQ4_NL", 32, 18}, {GGML_IQ4_XS, "IQ4_XS", 256, 136},
};

bool wicas_gguf_type_size(uint32_t type, uint32_t *be, uint32_t *bb) {
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == type) {
            *be = TYPES[i].be;
            *bb = TYPES[i].bb;
            return true;
        }
    return false;
}

const char *wicas_gguf_type_name(uint32_t type) {
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == type) return TYPES[i].name;
    return "unknown";
}

/* ---- bounded cursor ------------------------------------------------------ */
typedef struct {
    const uint8_t *buf;
    size_t size, pos;
    char *err;
    size_t errlen;
    bool failed;
} rd;

static void fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(rd *r, const char *fmt, ...) {
    if (r->failed) return;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    wicas_verrf(r->err, r->errlen, fmt, ap);
    va_end(ap);
}

static bool need(rd *r, uint64_t n, const char *what) {
    if (r->failed) return false;
    if (n > r->size - r->pos) {
        fail(r, "truncated file: %s needs %llu bytes at offset %zu but only %zu remain", what,
             (unsigned long long)n, r->pos, r->size - r->pos);
        return false;
    }
    return true;
}

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static bool rd_u32(rd *r, uint32_t *v, const char *what) {
    if (!need(r, 4, what)) return false;
    *v = (uint32_t)get_le(r->buf + r->pos, 4);
    r->pos += 4;
    return true;
}

static bool rd_u64(rd *r, uint64_t *v, const char *what) {
    if (!need(r, 8, what)) return false;
    *v = get_le(r->buf + r->pos, 8);
    r->pos += 8;
    return true;
}

static bool rd_str(rd *r, gguf_str *s, const char *what) {
    size_t at = r->pos;
    uint64_t n;
    if (!rd_u64(r, &n, what)) return false;
    if (n > UINT32_MAX) {
        fail(r, "%s at offset %zu: string length %llu is too large", what, at, (unsigned long long)n);
        return false;
    }
    if (!need(r, n, what)) return false;
    s->ptr = (const char *)r->buf + r->pos;
    s->len = (uint32_t)n;
    r->pos += n;
    return true;
}

static uint32_t scalar_size(uint32_t t) {
    switch (t) {
    case GGUF_T_UINT8:
    case GGUF_T_INT8:
    case GGUF_T_BOOL:
        return 1;
    case GGUF_T_UINT16:
    case GGUF_T_INT16:
        return 2;
    case GGUF_T_UINT32:
    case GGUF_T_INT32:
    case GGUF_T_FLOAT32:
        return 4;
    case GGUF_T_UINT64:
    case GGUF_T_INT64:
    case GGUF_T_FLOAT64:
        return 8;
    default:
        return 0;
    }
}

static void fmtkey(char *out, size_t cap, gguf_str k) {
    size_t n = k.len < cap - 1 ? k.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k.ptr[i];
        out[i] = (c >= 32 && c < 127) ? (char)c : '?';
    }
    out[n] = 0;
}

/* Reads one scalar of type t into kv->v. */
static bool rd_scalar(rd *r, uint32_t t, gguf_kv *kv, const char *what) {
    uint32_t sz = scalar_size(t);
    if (!need(r, sz, what)) return false;
    uint64_t raw = get_le(r->buf + r->pos, (int)sz);
    r->pos += sz;
    switch (t) {
    case GGUF_T_UINT8:
    case GGUF_T_UINT16:
    case GGUF_T_UINT32:
    case GGUF_T_UINT64:
        kv->v.u = raw;
        break;
    case GGUF_T_INT8:
        kv->v.i = (int8_t)raw;
        break;
    case GGUF_T_INT16:
        kv->v.i = (int16_t)raw;
        break;
    case GGUF_T_INT32:
        kv->v.i = (int32_t)raw;
        break;
    case GGUF_T_INT64:
        kv->v.i = (int64_t)raw;
        break;
    case GGUF_T_FLOAT32: {
        uint32_t b = (uint32_t)raw;
        float f;
        memcpy(&f, &b, 4);
        kv->v.f = f;
        break;
    }
    case GGUF_T_FLOAT64: {
        double d;
        memcpy(&d, &raw, 8);
        kv->v.f = d;
        break;
    }
    case GGUF_T_BOOL:
        if (raw > 1) {
            fail(r, "%s at offset %zu: bool value %llu is not 0 or 1", what, r->pos - 1,
                 (unsigned long long)raw);
            return false;
        }
        kv->v.b = raw != 0;
        break;
    default:
        return false;
    }
    return true;
}

static int parse_kv(rd *r, gguf_kv *kv, uint64_t idx) {
    char what[160], kname[64];
    snprintf(what, sizeof what, "key %llu", (unsigned long long)idx);
    if (!rd_str(r, &kv->key, what)) return -1;
    fmtkey(kname, sizeof kname, kv->key);
    snprintf(what, sizeof what, "value of key '%s'", kname);
    size_t at = r->pos;
    uint32_t t;
    if (!rd_u32(r, &t, what)) return -1;
    if (t >= GGUF_T_COUNT) {
        fail(r, "key '%s' at offset %zu: unknown value type %u", kname, at, t);
        return -1;
    }
    kv->type = (gguf_vtype)t;
    if (t == GGUF_T_STRING) return rd_str(r, &kv->v.s, what) ? 0 : -1;
    if (t != GGUF_T_ARRAY) return rd_scalar(r, t, kv, what) ? 0 : -1;
    uint32_t et;
    uint64_t n;
    at = r->pos;
    if (!rd_u32(r, &et, what) || !rd_u64(r, &n, what)) return -1;
    if (et >= GGUF_T_COUNT || et == GGUF_T_ARRAY) {
        fail(r, "key '%s' at offset %zu: unsupported array element type %u", kname, at, et);
        return -1;
    }
    kv->arr_type = (gguf_vtype)et;
    kv->arr_n = n;
    kv->arr_data = r->buf + r->pos;
    if (et != GGUF_T_STRING) {
        uint32_t es = scalar_size(et);
        if (n > (r->size - r->pos) / es) {
            fail(r, "key '%s' at offset %zu: array of %llu elements of %u bytes exceeds the file", kname, at,
                 (unsigned long long)n, es);
            return -1;
        }
        if (et == GGUF_T_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (r->buf[r->pos + i] > 1) {
                    fail(r, "key '%s': bool array element %llu at offset %llu is not 0 or 1", kname,
                         (unsigned long long)i, (unsigned long long)(r->pos + i));
                    return -1;
                }
        r->pos += n * es;
        return 0;
    }
    /* Each string needs at least its 8-byte length: bound n before allocating. */
    if (n > (r->size - r->pos) / 8) {
        fail(r, "key '%s' at offset %zu: array of %llu strings exceeds the file", kname, at,
             (unsigned long long)n);
        return -1;
    }
    kv->arr_strs = malloc((n ? n : 1) * sizeof(gguf_str));
    if (!kv->arr_strs) {
        fail(r, "out of memory for key '%s' (%llu strings)", kname, (unsigned long long)n);
        return WICAS_INFER_ENOMEM;
    }
    snprintf(what, sizeof what, "an element of string array '%s'", kname);
    for (uint64_t i = 0; i < n; i++)
        if (!rd_str(r, &kv->arr_strs[i], what)) return -1;
    return 0;
}

static int parse_tensor(rd *r, gguf_tensor *t, uint64_t idx) {
    char what[160], tname[64];
    snprintf(what, sizeof what, "tensor descriptor %llu", (unsigned long long)idx);
    if (!rd_str(r, &t->name, what)) return -1;
    fmtkey(tname, sizeof tname, t->name);
    snprintf(what, sizeof what, "tensor '%s'", tname);
    size_t at = r->pos;
    if (!rd_u32(r, &t->n_dims, what)) return -1;
    if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS) {
        fail(r, "tensor '%s' at offset %zu: %u dimensions (want 1..%d)", tname, at, t->n_dims, GGUF_MAX_DIMS);
        return -1;
    }
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        at = r->pos;
        if (!rd_u64(r, &t->ne[d], what)) return -1;
        if (t->ne[d] == 0 || t->ne[d] > ((uint64_t)1 << 62) || n > ((uint64_t)1 << 62) / t->ne[d]) {
            fail(r, "tensor '%s' at offset %zu: dimension %u = %llu is zero or overflows the element count",
                 tname, at, d, (unsigned long long)t->ne[d]);
            return -1;
        }
        n *= t->ne[d];
    }
    for (uint32_t d = t->n_dims; d < GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    t->n_elems = n;
    uint32_t ty, be, bb;
    at = r->pos;
    if (!rd_u32(r, &ty, what)) return -1;
    if (!wicas_gguf_type_size(ty, &be, &bb)) {
        fail(r, "tensor '%s' at offset %zu: unknown tensor type %u", tname, at, ty);
        return -1;
    }
    t->type = (ggml_type)ty;
    if (t->ne[0] % be != 0) {
        fail(r, "tensor '%s': row length %llu is not a multiple of the %s block size %u", tname,
             (unsigned long long)t->ne[0], wicas_gguf_type_name(ty), be);
        return -1;
    }
    t->n_bytes = n / be * bb; /* n/be <= 2^62, bb <= 292: cannot overflow 64 bits? bound it anyway */
    if (n / be > UINT64_MAX / bb) {
        fail(r, "tensor '%s': byte size overflows", tname);
        return -1;
    }
    if (!rd_u64(r, &t->offset, what)) return -1;
    return 0;
}

/* ---- whole file -------------------------------------------------------- */
static void free_parsed(gguf_file *f) {
    if (f->kv)
        for (uint64_t i = 0; i < f->n_kv; i++)
            free(f->kv[i].arr_strs);
    free(f->kv);
    free(f->tensors);
    f->kv = NULL;
    f->tensors = NULL;
}

/* ---- duplicate names: sorted, O(n log n), for every count -------------------- */
typedef struct {
    gguf_str s;
    uint64_t i;
} name_ix;

static int cmp_name_ix(const void *a, const void *b) {
    const name_ix *x = a, *y = b;
    uint32_t m = x->s.len < y->s.len ? x->s.len : y->s.len;
    int c = m ? memcmp(x->s.ptr, y->s.ptr, m) : 0;
    if (c) return c;
    if (x->s.len != y->s.len) return x->s.len < y->s.len ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* a total order: the result is the same everywhere */
}

/* Looks for two of the n names at base + i*stride + off (a gguf_str) that are
 * equal. Returns 1 with *first < *second their indices (the smallest name
 * that repeats, its first two entries), 0 if none, -1 out of memory. */
static int find_duplicate(const void *base, size_t stride, size_t off, uint64_t n, uint64_t *first,
                          uint64_t *second) {
    if (n < 2) return 0;
    name_ix *v = malloc((size_t)n * sizeof *v);
    if (!v) return -1;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(&v[i].s, (const char *)base + (size_t)i * stride + off, sizeof(gguf_str));
        v[i].i = i;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_name_ix);
    int found = 0;
    for (uint64_t i = 1; i < n && !found; i++)
        if (v[i].s.len == v[i - 1].s.len &&
            (v[i].s.len == 0 || memcmp(v[i].s.ptr, v[i - 1].s.ptr, v[i].s.len) == 0)) {
            *first = v[i - 1].i;
            *second = v[i].i;
            found = 1;
        }
    free(v);
    return found;
}

/* Fails the parse if two of the n names (as find_duplicate) are equal: what
 * names the kind ("metadata key", "tensor name"), where the entries ("entries",
 * "descriptors"). Returns 0, -1 (duplicate, message set) or ENOMEM. */
static int check_unique(rd *r, const void *base, size_t stride, size_t off, uint64_t n, const char *what,
                        const char *where) {
    uint64_t d1, d2;
    int dup = find_duplicate(base, stride, off, n, &d1, &d2);
    if (dup == 0) return 0;
    if (dup < 0) {
        fail(r, "out of memory checking %llu %ss", (unsigned long long)n, what);
        return WICAS_INFER_ENOMEM;
    }
    gguf_str name;
    memcpy(&name, (const char *)base + (size_t)d1 * stride + off, sizeof name);
    char k[64];
    fmtkey(k, sizeof k, name);
    fail(r, "duplicate %s '%s' (%s %llu and %llu)", what, k, where, (unsigned long long)d1,
         (unsigned long long)d2);
    return -1;
}

int wicas_gguf_parse(const uint8_t *buf, size_t size, gguf_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (err && errlen) err[0] = 0;
    rd r = {.buf = buf, .size = size, .err = err, .errlen = errlen};
    uint32_t magic;
    if (!rd_u32(&r, &magic, "header magic")) return WICAS_INFER_EFORMAT;
    if (magic != GGUF_MAGIC) {
        fail(&r, "not a GGUF file: magic at offset 0 is 0x%08x, want 0x%08x (\"GGUF\")", magic, GGUF_MAGIC);
        return WICAS_INFER_EFORMAT;
    }
    if (!rd_u32(&r, &f->version, "header version")) return WICAS_INFER_EFORMAT;
    if (f->version != 2 && f->version != 3) {
        fail(&r, "unsupported GGUF version %u at offset 4 (this reader handles 2 and 3)", f->version);
        return WICAS_INFER_EUNSUPPORTED;
    }
    uint64_t nt, nkv;
    if (!rd_u64(&r, &nt, "tensor count") || !rd_u64(&r, &nkv, "metadata count")) return WICAS_INFER_EFORMAT;
    /* Every entry takes at least 8 (kv: key length) or 8 + 4 + 8 + 4 + 8 bytes. */
    if (nkv > GGUF_MAX_KV || nkv > (size - r.pos) / 12) {
        fail(&r, "metadata count %llu at offset 16 is impossible for a file of %zu bytes",
             (unsigned long long)nkv, size);
        return WICAS_INFER_EFORMAT;
    }
    if (nt > GGUF_MAX_TENSORS || nt > (size - r.pos) / 32) {
        fail(&r, "tensor count %llu at offset 8 is impossible for a file of %zu bytes",
             (unsigned long long)nt, size);
        return WICAS_INFER_EFORMAT;
    }
    f->kv = calloc(nkv ? nkv : 1, sizeof(gguf_kv));
    f->tensors = calloc(nt ? nt : 1, sizeof(gguf_tensor));
    if (!f->kv || !f->tensors) {
        free_parsed(f);
        fail(&r, "out of memory for %llu keys and %llu tensors", (unsigned long long)nkv,
             (unsigned long long)nt);
        return WICAS_INFER_ENOMEM;
    }
    f->n_kv = nkv;
    f->n_tensors = nt;
    int rc = 0;
    for (uint64_t i = 0; i < nkv && rc == 0; i++)
        rc = parse_kv(&r, &f->kv[i], i);
    if (rc != 0) goto bad;
    /* Duplicate keys would make look-ups ambiguous (checked at any count). */
    rc = check_unique(&r, f->kv, sizeof *f->kv, offsetof(gguf_kv, key), nkv, "metadata key", "entries");
    if (rc != 0) goto bad;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = wicas_gguf_find(f, "general.alignment");
    if (al) {
        if (al->type != GGUF_T_UINT32 || al->v.u == 0 || (al->v.u & (al->v.u - 1)) != 0 || al->v.u > 65536) {
            fail(&r, "general.alignment must be a power-of-two uint32 no larger than 65536");
            rc = -1;
            goto bad;
        }
        f->alignment = (uint32_t)al->v.u;
    }
    for (uint64_t i = 0; i < nt && rc == 0; i++)
        rc = parse_tensor(&r, &f->tensors[i], i);
    if (rc != 0) goto bad;
    if (r.failed) goto bad;
    /* Data section: descriptors end, rounded up to the alignment. */
    uint64_t data = ((uint64_t)r.pos + f->alignment - 1) / f->alignment * f->alignment;
    if (nt > 0 && data > size) {
        fail(&r, "data section would start at offset %llu, past the end of the %zu-byte file",
             (unsigned long long)data, size);
        rc = -1;
        goto bad;
    }
    f->data_offset = data;
    for (uint64_t i = 0; i < nt; i++) {
        gguf_tensor *t = &f->tensors[i];
        char tn[64];
        fmtkey(tn, sizeof tn, t->name);
        if (t->offset % f->alignment != 0) {
            fail(&r, "tensor '%s': data offset %llu is not a multiple of the alignment %u", tn,
                 (unsigned long long)t->offset, f->alignment);
            rc = -1;
            goto bad;
        }
        if (t->offset > size - data || t->n_bytes > size - data - t->offset) {
            fail(&r,
                 "tensor '%s': %llu bytes at data offset %llu (file offset %llu) run past the end of the "
                 "%zu-byte file",
                 tn, (unsigned long long)t->n_bytes, (unsigned long long)t->offset,
                 (unsigned long long)(data + t->offset), size);
            rc = -1;
            goto bad;
        }
        t->data = buf + data + t->offset;
    }
    rc = check_unique(&r, f->tensors, sizeof *f->tensors, offsetof(gguf_tensor, name), nt, "tensor name",
                      "descriptors");
    if (rc != 0) goto bad;
    f->map = buf;
    f->size = size;
    return 0;
bad:
    free_parsed(f);
    f->n_kv = f->n_tensors = 0;
    return rc == WICAS_INFER_ENOMEM ? rc : WICAS_INFER_EFORMAT;
}

int wicas_gguf_open(const char *path, gguf_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err) snprintf(err, errlen, "cannot open model file %s: %s", path, strerror(errno));
        return WICAS_INFER_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (err) snprintf(err, errlen, "model file %s is not a regular file", path);
        close(fd);
        return WICAS_INFER_EIO;
    }
    size_t size = (size_t)st.st_size;
    if (size < 24) {
        if (err) snprintf(err, errlen, "model file %s: %zu bytes is too short for a GGUF header", path, size);
        close(fd);
        return WICAS_INFER_EFORMAT;
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        if (err) snprintf(err, errlen, "cannot map model file %s: %s", path, strerror(errno));
        close(fd);
        return WICAS_INFER_EIO;
    }
    char sub[400];
    int rc = wicas_gguf_parse(m, size, f, sub, sizeof sub);
    if (rc != 0) {
        if (err) snprintf(err, errlen, "%s: %s", path, sub);
        munmap(m, size);
        close(fd);
        f->fd = -1;
        return rc;
    }
    f->fd = fd;
    return 0;
}

void wicas_gguf_close(gguf_file *f) {
    if (!f) return;
    free_parsed(f);
    if (f->fd >= 0) {
        munmap((void *)f->map, f->size);
        close(f->fd);
    }
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* ---- look-ups ------------------------------------------------------------ */
bool wicas_gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.ptr, c, n) == 0;
}

const gguf_kv *wicas_gguf_find(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (wicas_gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *wicas_gguf_find_tensor(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (wicas_gguf_str_eq(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

bool wicas_gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out) {
    const gguf_kv *kv = wicas_gguf_find(f, key);
    if (!kv) return false;
    switch (kv->type) {
    case GGUF_T_UINT8:
    case GGUF_T_UINT16:
    case GGUF_T_UINT32:
    case GGUF_T_UINT64:
        *out = kv->v.u;
        return true;
    case GGUF_T_INT8:
    case GGUF_T_INT16:
    case GGUF_T_INT32:
    case GGUF_T_INT64:
        if (kv->v.i < 0) return false;
        *out = (uint64_t)kv->v.i;
        return true;
    default:
        return false;
    }
}

bool wicas_gguf_get_f64(const gguf_file *f, const char *key, double *out) {
    const gguf_kv *kv = wicas_gguf_find(f, key);
    if (!kv) return false;
    if (kv->type == GGUF_T_FLOAT32 || kv->type == GGUF_T_FLOAT64) {
        *out = kv->v.f;
        return true;
    }
    uint64_t u;
    if (wicas_gguf_get_u64(f, key, &u) && u < ((uint64_t)1 << 53)) {
        *out = (double)u;
        return true;
    }
    return false;
}

bool wicas_gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_kv *kv = wicas_gguf_find(f, key);
    if (!kv || kv->type != GGUF_T_BOOL) return false;
    *out = kv->v.b;
    return true;
}

bool wicas_gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    const gguf_kv *kv = wicas_gguf_find(f, key);
    if (!kv || kv->type != GGUF_T_STRING) return false;
    *out = kv->v.s;
    return true;
}

const gguf_kv *wicas_gguf_find_array(const gguf_file *f, const char *key, gguf_vtype elem) {
    const gguf_kv *kv = wicas_gguf_find(f, key);
    if (!kv || kv->type != GGUF_T_ARRAY || kv->arr_type != elem) return NULL;
    return kv;
}

/*
 * cw.c — implementation of the C contract SDK (see cw.h). Written for
 * clarity over speed: a contract call handles a few kilobytes of JSON.
 */
#include "cw.h"

/* ---- imports ---------------------------------------------------------------------- */
CW_IMPORT("db_read") uint32_t db_read(uint32_t key);
CW_IMPORT("db_write") void db_write(uint32_t key, uint32_t value);
CW_IMPORT("db_remove") void db_remove(uint32_t key);
CW_IMPORT("db_scan") uint32_t db_scan(uint32_t start, uint32_t end, int32_t order);
CW_IMPORT("db_next") uint32_t db_next(uint32_t it);
CW_IMPORT("addr_validate") uint32_t addr_validate(uint32_t src);
CW_IMPORT("debug") void debug(uint32_t src);
CW_IMPORT("abort") void abort_(uint32_t src);
CW_IMPORT("query_chain") uint32_t query_chain(uint32_t req);

/* ---- memory: bump allocator over memory.grow ------------------------------------------- */
extern unsigned char __heap_base;
static size_t heap_top;

void *cw_alloc(size_t n) {
    if (!heap_top) heap_top = (size_t)&__heap_base;
    size_t start = (heap_top + 7) & ~(size_t)7;
    size_t end = start + n;
    if (end < start) __builtin_trap();
    size_t have = __builtin_wasm_memory_size(0) * 65536ul;
    if (end > have) {
        size_t pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
    }
    heap_top = end;
    return (void *)start;
}

cw_region *cw_region_new(size_t cap) {
    cw_region *r = cw_alloc(sizeof *r);
    r->offset = (uint32_t)(size_t)cw_alloc(cap ? cap : 1);
    r->capacity = (uint32_t)cap;
    r->length = 0;
    return r;
}

cw_region *cw_region_from(const void *data, size_t len) {
    cw_region *r = cw_alloc(sizeof *r);
    r->offset = (uint32_t)(size_t)data;
    r->capacity = (uint32_t)len;
    r->length = (uint32_t)len;
    return r;
}

uint32_t cw_rptr(const cw_region *r) {
    return (uint32_t)(size_t)r;
}

CW_EXPORT("allocate") uint32_t allocate(uint32_t size) {
    return cw_rptr(cw_region_new(size));
}
CW_EXPORT("deallocate") void deallocate(uint32_t ptr) {
    (void)ptr;
}
CW_EXPORT("interface_version_8") void interface_version_8(void) {}

/* ---- libc bits ----------------------------------------------------------------------------- */
void *memcpy(void *d, const void *s, size_t n) {
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--)
        *dd++ = *ss++;
    return d;
}
void *memmove(void *d, const void *s, size_t n) {
    uint8_t *dd = d;
    const uint8_t *ss = s;
    if (dd < ss) return memcpy(d, s, n);
    while (n--)
        dd[n] = ss[n];
    return d;
}
void *memset(void *d, int c, size_t n) {
    uint8_t *dd = d;
    while (n--)
        *dd++ = (uint8_t)c;
    return d;
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
size_t cw_strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
bool cw_eq(const char *a, size_t al, const char *b) {
    return cw_strlen(b) == al && memcmp(a, b, al) == 0;
}

/* ---- JSON reading ---------------------------------------------------------------------------- */
static bool ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

cw_slice cw_trim(cw_slice s) {
    while (s.n && ws(s.p[0]))
        s.p++, s.n--;
    while (s.n && ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Length of the JSON value starting at p (after whitespace), or 0 when malformed. depth bounds recursion. */
static size_t skip_value(const char *p, size_t n, int depth) {
    if (depth > 64 || n == 0) return 0;
    size_t i = 0;
    char c = p[0];
    if (c == '"') {
        for (i = 1; i < n; i++) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                return i + 1;
            else if ((uint8_t)p[i] < 0x20)
                return 0;
        }
        return 0;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        i = 1;
        while (i < n && ws(p[i]))
            i++;
        if (i < n && p[i] == close) return i + 1;
        for (;;) {
            while (i < n && ws(p[i]))
                i++;
            if (c == '{') {
                if (i >= n || p[i] != '"') return 0;
                size_t k = skip_value(p + i, n - i, depth + 1);
                if (!k) return 0;
                i += k;
                while (i < n && ws(p[i]))
                    i++;
                if (i >= n || p[i] != ':') return 0;
                i++;
                while (i < n && ws(p[i]))
                    i++;
            }
            size_t v = skip_value(p + i, n - i, depth + 1);
            if (!v) return 0;
            i += v;
            while (i < n && ws(p[i]))
                i++;
            if (i >= n) return 0;
            if (p[i] == ',') {
                i++;
                continue;
            }
            if (p[i] == close) return i + 1;
            return 0;
        }
    }
    if (c == 't' && n >= 4 && memcmp(p, "true", 4) == 0) return 4;
    if (c == 'f' && n >= 5 && memcmp(p, "false", 5) == 0) return 5;
    if (c == 'n' && n >= 4 && memcmp(p, "null", 4) == 0) return 4;
    if (c == '-' || (c >= '0' && c <= '9')) {
        i = c == '-' ? 1 : 0;
        size_t d = i;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
                         p[i] == '+' || p[i] == '-'))
            i++;
        return i > d ? i : 0;
    }
    return 0;
}

bool cw_json_valid(cw_slice s) {
    s = cw_trim(s);
    return s.n && skip_value(s.p, s.n, 0) == s.n;
}

cw_slice cw_json_get(cw_slice obj, const char *key) {
    cw_slice none = {NULL, 0};
    obj = cw_trim(obj);
    if (!obj.n || obj.p[0] != '{') return none;
    size_t i = 1, n = obj.n;
    const char *p = obj.p;
    size_t kl = cw_strlen(key);
    for (;;) {
        while (i < n && ws(p[i]))
            i++;
        if (i >= n || p[i] != '"') return none;
        size_t k = skip_value(p + i, n - i, 1);
        if (!k) return none;
        bool match = k - 2 == kl && memcmp(p + i + 1, key, kl) == 0;
        i += k;
        while (i < n && ws(p[i]))
            i++;
        if (i >= n || p[i] != ':') return none;
        i++;
        while (i < n && ws(p[i]))
            i++;
        size_t v = skip_value(p + i, n - i, 1);
        if (!v) return none;
        if (match) return (cw_slice){p + i, v};
        i += v;
        while (i < n && ws(p[i]))
            i++;
        if (i >= n || p[i] != ',') return none;
        i++;
    }
}

cw_slice cw_json_variant(cw_slice obj, cw_slice *val) {
    cw_slice none = {NULL, 0};
    obj = cw_trim(obj);
    if (!obj.n || obj.p[0] != '{' || skip_value(obj.p, obj.n, 0) != obj.n) return none;
    size_t i = 1, n = obj.n;
    const char *p = obj.p;
    while (i < n && ws(p[i]))
        i++;
    if (i >= n || p[i] != '"') return none;
    size_t k = skip_value(p + i, n - i, 1);
    if (!k) return none;
    cw_slice name = {p + i + 1, k - 2};
    i += k;
    while (i < n && ws(p[i]))
        i++;
    if (i >= n || p[i] != ':') return none;
    i++;
    while (i < n && ws(p[i]))
        i++;
    size_t v = skip_value(p + i, n - i, 1);
    if (!v) return none;
    *val = (cw_slice){p + i, v};
    i += v;
    while (i < n && ws(p[i]))
        i++;
    if (i >= n || p[i] != '}') return none; /* exactly one key */
    return name;
}

bool cw_json_is_null(cw_slice v) {
    v = cw_trim(v);
    return !v.p || (v.n == 4 && memcmp(v.p, "null", 4) == 0);
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *cw_json_str(cw_slice v, size_t *len) {
    v = cw_trim(v);
    if (!v.p || v.n < 2 || v.p[0] != '"' || skip_value(v.p, v.n, 0) != v.n) return NULL;
    char *out = cw_alloc(v.n * 2 + 1);
    size_t o = 0;
    for (size_t i = 1; i + 1 < v.n; i++) {
        char c = v.p[i];
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        c = v.p[++i];
        switch (c) {
        case 'n':
            out[o++] = '\n';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case '/':
        case '\\':
        case '"':
            out[o++] = c;
            break;
        case 'u': {
            if (i + 4 >= v.n) return NULL;
            uint32_t cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexv(v.p[i + k]);
                if (h < 0) return NULL;
                cp = cp << 4 | (uint32_t)h;
            }
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < v.n && v.p[i + 1] == '\\' && v.p[i + 2] == 'u') {
                uint32_t lo = 0;
                for (int k = 3; k <= 6; k++) {
                    int h = hexv(v.p[i + k]);
                    if (h < 0) return NULL;
                    lo = lo << 4 | (uint32_t)h;
                }
                if (lo < 0xdc00 || lo > 0xdfff) return NULL;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                return NULL;
            }
            if (cp < 0x80)
                out[o++] = (char)cp;
            else if (cp < 0x800)
                out[o++] = (char)(0xc0 | cp >> 6), out[o++] = (char)(0x80 | (cp & 63));
            else if (cp < 0x10000)
                out[o++] = (char)(0xe0 | cp >> 12), out[o++] = (char)(0x80 | ((cp >> 6) & 63)),
                out[o++] = (char)(0x80 | (cp & 63));
            else
                out[o++] = (char)(0xf0 | cp >> 18), out[o++] = (char)(0x80 | ((cp >> 12) & 63)),
                out[o++] = (char)(0x80 | ((cp >> 6) & 63)), out[o++] = (char)(0x80 | (cp & 63));
            break;
        }
        default:
            return NULL;
        }
    }
    out[o] = 0;
    if (len) *len = o;
    return out;
}

bool cw_json_u64(cw_slice v, uint64_t *out) {
    v = cw_trim(v);
    if (!v.p || !v.n) return false;
    const char *p = v.p;
    size_t n = v.n;
    if (p[0] == '"') {
        if (n < 3 || p[n - 1] != '"') return false;
        p++, n -= 2;
    }
    if (n == 0 || n > 20 || (n > 1 && p[0] == '0')) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (x > (~0ull - d) / 10) return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

bool cw_json_i64(cw_slice v, int64_t *out) {
    v = cw_trim(v);
    if (!v.p || !v.n) return false;
    bool neg = v.p[0] == '-';
    cw_slice m = {v.p + neg, v.n - neg};
    uint64_t u;
    if (!cw_json_u64(m, &u) || u > (neg ? 9223372036854775808ull : 9223372036854775807ull)) return false;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

bool cw_json_array_next(cw_slice arr, size_t *pos, cw_slice *item) {
    arr = cw_trim(arr);
    if (!arr.p || !arr.n || arr.p[0] != '[') return false;
    size_t i = *pos ? *pos : 1, n = arr.n;
    const char *p = arr.p;
    while (i < n && (ws(p[i]) || p[i] == ','))
        i++;
    if (i >= n || p[i] == ']') return false;
    size_t v = skip_value(p + i, n - i, 1);
    if (!v) return false;
    *item = (cw_slice){p + i, v};
    *pos = i + v;
    return true;
}

/* ---- writing ---------------------------------------------------------------------------------- */
void cw_put(cw_buf *b, const void *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 256);
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = cw_alloc(nc);
        if (b->n) memcpy(np, b->p, b->n);
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
void cw_puts(cw_buf *b, const char *s) {
    cw_put(b, s, cw_strlen(s));
}

void cw_put_jstr(cw_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    cw_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            cw_put(b, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            cw_put(b, e, 6);
        } else {
            cw_put(b, &s[i], 1);
        }
    }
    cw_put(b, "\"", 1);
}

void cw_put_u64(cw_buf *b, uint64_t v) {
    char t[24];
    int i = 24;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cw_put(b, t + i, (size_t)(24 - i));
}

void cw_put_i64(cw_buf *b, int64_t v) {
    if (v < 0) {
        cw_put(b, "-", 1);
        cw_put_u64(b, 0 - (uint64_t)v);
    } else {
        cw_put_u64(b, (uint64_t)v);
    }
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cw_put_b64(cw_buf *b, const uint8_t *d, size_t n) {
    cw_put(b, "\"", 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], i + 1 < n ? B64[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64[v & 63] : '='};
        cw_put(b, q, 4);
    }
    cw_put(b, "\"", 1);
}

static int b64v(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long cw_b64_decode(const char *s, size_t n, uint8_t *out) {
    if (n % 4) return -1;
    long o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad) return -1;
                v[k] = b64v(s[i + k]);
                if (v[k] < 0) return -1;
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(x >> 16);
        if (pad < 2) out[o++] = (uint8_t)(x >> 8);
        if (pad < 1) out[o++] = (uint8_t)x;
    }
    return o;
}

/* ---- imports wrappers ------------------------------------------------------------------------ */
bool cw_get(const void *key, size_t kl, uint8_t **val, size_t *vl) {
    uint32_t r = db_read(cw_rptr(cw_region_from(key, kl)));
    if (!r) return false;
    cw_region *reg = (cw_region *)(size_t)r;
    *val = (uint8_t *)(size_t)reg->offset;
    *vl = reg->length;
    return true;
}

void cw_set(const void *key, size_t kl, const void *val, size_t vl) {
    db_write(cw_rptr(cw_region_from(key, kl)), cw_rptr(cw_region_from(val, vl)));
}

void cw_remove(const void *key, size_t kl) {
    db_remove(cw_rptr(cw_region_from(key, kl)));
}

uint32_t cw_scan(const void *start, size_t sl, const void *end, size_t el, int order) {
    return db_scan(start ? cw_rptr(cw_region_from(start, sl)) : 0, end ? cw_rptr(cw_region_from(end, el)) : 0,
                   order);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool cw_next(uint32_t it, uint8_t **key, size_t *kl, uint8_t **val, size_t *vl) {
    cw_region *r = (cw_region *)(size_t)db_next(it);
    uint8_t *d = (uint8_t *)(size_t)r->offset;
    size_t n = r->length;
    if (n < 8) cw_abort("db_next: malformed sections");
    uint32_t vlen = be32(d + n - 4);
    if (vlen > n - 8) cw_abort("db_next: malformed sections");
    uint32_t klen = be32(d + n - 8 - vlen);
    if (klen != n - 8 - vlen) cw_abort("db_next: malformed sections");
    if (klen == 0) return false;
    *key = d;
    *kl = klen;
    *val = d + klen + 4;
    *vl = vlen;
    return true;
}

const char *cw_addr_validate(const char *addr, size_t len) {
    uint32_t r = addr_validate(cw_rptr(cw_region_from(addr, len)));
    if (!r) return NULL;
    cw_region *reg = (cw_region *)(size_t)r;
    char *m = cw_alloc(reg->length + 1);
    memcpy(m, (void *)(size_t)reg->offset, reg->length);
    m[reg->length] = 0;
    return m;
}

void cw_debug(const char *msg) {
    debug(cw_rptr(cw_region_from(msg, cw_strlen(msg))));
}

_Noreturn void cw_abort(const char *msg) {
    abort_(cw_rptr(cw_region_from(msg, cw_strlen(msg))));
    __builtin_trap();
}

cw_slice cw_query_raw(const char *req, size_t len) {
    cw_region *r = (cw_region *)(size_t)query_chain(cw_rptr(cw_region_from(req, len)));
    return (cw_slice){(const char *)(size_t)r->offset, r->length};
}

/* ---- a call ----------------------------------------------------------------------------------- */
static cw_slice region_slice(uint32_t ptr) {
    if (!ptr) return (cw_slice){NULL, 0};
    cw_region *r = (cw_region *)(size_t)ptr;
    return (cw_slice){(const char *)(size_t)r->offset, r->length};
}

void cw_begin(cw_call *c, uint32_t env, uint32_t info, uint32_t msg) {
    c->env = region_slice(env);
    c->info = region_slice(info);
    c->msg = region_slice(msg);
}

char *cw_sender(const cw_call *c, size_t *len) {
    return cw_json_str(cw_json_get(c->info, "sender"), len);
}

char *cw_contract_addr(const cw_call *c, size_t *len) {
    return cw_json_str(cw_json_get(cw_json_get(c->env, "contract"), "address"), len);
}

uint64_t cw_block_height(const cw_call *c) {
    uint64_t h = 0;
    cw_json_u64(cw_json_get(cw_json_get(c->env, "block"), "height"), &h);
    return h;
}

bool cw_funds_amount(const cw_call *c, const char *denom, size_t dl, uint64_t *amount) {
    cw_slice funds = cw_json_get(c->info, "funds"), coin;
    size_t pos = 0;
    *amount = 0;
    if (!funds.p) return true;
    while (cw_json_array_next(funds, &pos, &coin)) {
        size_t l;
        char *d = cw_json_str(cw_json_get(coin, "denom"), &l);
        uint64_t a;
        if (!d || !cw_json_u64(cw_json_get(coin, "amount"), &a)) return false;
        if (l == dl && memcmp(d, denom, dl) == 0) {
            if (*amount + a < a) return false;
            *amount += a;
        }
    }
    return true;
}

/* ---- responses ---------------------------------------------------------------------------------- */
void cw_resp_init(cw_response *r) {
    memset(r, 0, sizeof *r);
}

void cw_resp_attr(cw_response *r, const char *key, const char *val, size_t vl) {
    if (r->n_attrs++) cw_put(&r->attrs, ",", 1);
    cw_puts(&r->attrs, "{\"key\":");
    cw_put_jstr(&r->attrs, key, cw_strlen(key));
    cw_puts(&r->attrs, ",\"value\":");
    cw_put_jstr(&r->attrs, val, vl);
    cw_puts(&r->attrs, "}");
}

void cw_resp_event(cw_response *r, const char *type, int n, const char *const *kv) {
    if (r->n_events++) cw_put(&r->events, ",", 1);
    cw_puts(&r->events, "{\"type\":");
    cw_put_jstr(&r->events, type, cw_strlen(type));
    cw_puts(&r->events, ",\"attributes\":[");
    for (int i = 0; i < n; i++) {
        if (i) cw_put(&r->events, ",", 1);
        cw_puts(&r->events, "{\"key\":");
        cw_put_jstr(&r->events, kv[2 * i], cw_strlen(kv[2 * i]));
        cw_puts(&r->events, ",\"value\":");
        cw_put_jstr(&r->events, kv[2 * i + 1], cw_strlen(kv[2 * i + 1]));
        cw_puts(&r->events, "}");
    }
    cw_puts(&r->events, "]}");
}

void cw_resp_submsg(cw_response *r, uint64_t id, const char *msg_json, size_t ml, const char *reply_on) {
    if (r->n_msgs++) cw_put(&r->msgs, ",", 1);
    cw_puts(&r->msgs, "{\"id\":");
    cw_put_u64(&r->msgs, id);
    cw_puts(&r->msgs, ",\"msg\":");
    cw_put(&r->msgs, msg_json, ml);
    cw_puts(&r->msgs, ",\"gas_limit\":null,\"reply_on\":");
    cw_put_jstr(&r->msgs, reply_on, cw_strlen(reply_on));
    cw_puts(&r->msgs, "}");
}

void cw_resp_msg(cw_response *r, const char *msg_json, size_t ml) {
    cw_resp_submsg(r, 0, msg_json, ml, "never");
}

void cw_resp_bank_send(cw_response *r, const char *to, const char *denom, uint64_t amount) {
    cw_buf b = {0};
    cw_puts(&b, "{\"bank\":{\"send\":{\"to_address\":");
    cw_put_jstr(&b, to, cw_strlen(to));
    cw_puts(&b, ",\"amount\":[{\"denom\":");
    cw_put_jstr(&b, denom, cw_strlen(denom));
    cw_puts(&b, ",\"amount\":\"");
    cw_put_u64(&b, amount);
    cw_puts(&b, "\"}]}}}");
    cw_resp_msg(r, b.p, b.n);
}

void cw_resp_wasm_execute(cw_response *r, const char *contract, const char *msg, size_t ml) {
    cw_buf b = {0};
    cw_puts(&b, "{\"wasm\":{\"execute\":{\"contract_addr\":");
    cw_put_jstr(&b, contract, cw_strlen(contract));
    cw_puts(&b, ",\"msg\":");
    cw_put_b64(&b, (const uint8_t *)msg, ml);
    cw_puts(&b, ",\"funds\":[]}}}");
    cw_resp_msg(r, b.p, b.n);
}

void cw_resp_data(cw_response *r, const uint8_t *d, size_t n) {
    r->data = d;
    r->data_len = n;
    r->has_data = true;
}

static uint32_t finish(cw_buf *b) {
    return cw_rptr(cw_region_from(b->p, b->n));
}

uint32_t cw_ok(cw_response *r) {
    cw_buf b = {0};
    cw_puts(&b, "{\"ok\":{\"messages\":[");
    if (r->n_msgs) cw_put(&b, r->msgs.p, r->msgs.n);
    cw_puts(&b, "],\"attributes\":[");
    if (r->n_attrs) cw_put(&b, r->attrs.p, r->attrs.n);
    cw_puts(&b, "],\"events\":[");
    if (r->n_events) cw_put(&b, r->events.p, r->events.n);
    cw_puts(&b, "],\"data\":");
    if (r->has_data)
        cw_put_b64(&b, r->data, r->data_len);
    else
        cw_puts(&b, "null");
    cw_puts(&b, "}}");
    return finish(&b);
}

uint32_t cw_query_ok(const char *json, size_t n) {
    cw_buf b = {0};
    cw_puts(&b, "{\"ok\":");
    cw_put_b64(&b, (const uint8_t *)json, n);
    cw_puts(&b, "}");
    return finish(&b);
}

uint32_t cw_errorn(const char *msg, size_t n) {
    cw_buf b = {0};
    cw_puts(&b, "{\"error\":");
    cw_put_jstr(&b, msg, n);
    cw_puts(&b, "}");
    return finish(&b);
}

uint32_t cw_error(const char *msg) {
    return cw_errorn(msg, cw_strlen(msg));
}

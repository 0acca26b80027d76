/*
 * memstore.c — the sorted in-memory key-value store (tests, `wicasd wasm run`)
 * and the per-call write cache the VM layers over any storage.
 *
 * Both are a sorted array searched by binary search: simple, deterministic
 * order, O(log n) lookups, O(n) inserts — fine for the sizes they see (a
 * contract call's writes; a developer's local state).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "vm_internal.h"

int wicas_vm_key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

/* ---- write cache --------------------------------------------------------------------- */
void wicas_vm_wcache_free(wicas_vm_wcache *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].val);
    }
    free(c->e);
    memset(c, 0, sizeof *c);
}

long wicas_vm_wcache_find(const wicas_vm_wcache *c, const uint8_t *key, size_t len) {
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = wicas_vm_key_cmp(c->e[mid].key, c->e[mid].key_len, key, len);
        if (k == 0) return (long)mid;
        if (k < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

int wicas_vm_wcache_put(wicas_vm_wcache *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                        bool deleted) {
    uint8_t *v = NULL;
    if (!deleted && !(v = dup_bytes(val, vlen))) return -1;
    long i = wicas_vm_wcache_find(c, key, klen);
    if (i >= 0) {
        free(c->e[i].val);
        c->e[i].val = v;
        c->e[i].val_len = deleted ? 0 : vlen;
        c->e[i].deleted = deleted;
        return 0;
    }
    size_t pos = (size_t)(-i - 1);
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        wicas_vm_wentry *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne) {
            free(v);
            return -1;
        }
        c->e = ne;
        c->cap = nc;
    }
    uint8_t *k = dup_bytes(key, klen);
    if (!k) {
        free(v);
        return -1;
    }
    memmove(&c->e[pos + 1], &c->e[pos], (c->n - pos) * sizeof *c->e);
    c->e[pos] = (wicas_vm_wentry){k, klen, v, deleted ? 0 : vlen, deleted};
    c->n++;
    return 0;
}

/* ---- memstore: a write cache without tombstones ------------------------------------------- */
struct wicas_vm_memstore {
    wicas_vm_wcache c;
};

wicas_vm_memstore *wicas_vm_memstore_new(void) {
    return calloc(1, sizeof(wicas_vm_memstore));
}

void wicas_vm_memstore_free(wicas_vm_memstore *ms) {
    if (!ms) return;
    wicas_vm_wcache_free(&ms->c);
    free(ms);
}

int wicas_vm_memstore_set(wicas_vm_memstore *ms, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len) {
    return wicas_vm_wcache_put(&ms->c, key, key_len, val, val_len, false);
}

static int ms_get(void *ctx, const uint8_t *key, size_t key_len, int *found, uint8_t **val, size_t *val_len) {
    wicas_vm_memstore *ms = ctx;
    long i = wicas_vm_wcache_find(&ms->c, key, key_len);
    *found = i >= 0;
    if (i < 0) return 0;
    *val_len = ms->c.e[i].val_len;
    *val = dup_bytes(ms->c.e[i].val, *val_len);
    return *val ? 0 : -1;
}

static int ms_set(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len) {
    return wicas_vm_memstore_set(ctx, key, key_len, val, val_len);
}

static int ms_remove(void *ctx, const uint8_t *key, size_t key_len) {
    wicas_vm_memstore *ms = ctx;
    long i = wicas_vm_wcache_find(&ms->c, key, key_len);
    if (i < 0) return 0;
    free(ms->c.e[i].key);
    free(ms->c.e[i].val);
    memmove(&ms->c.e[i], &ms->c.e[i + 1], (ms->c.n - (size_t)i - 1) * sizeof *ms->c.e);
    ms->c.n--;
    return 0;
}

static int ms_seek(void *ctx, const uint8_t *start, size_t start_len, const uint8_t *end, size_t end_len,
                   int order, const uint8_t *after, size_t after_len, int *found, uint8_t **key,
                   size_t *key_len, uint8_t **val, size_t *val_len) {
    wicas_vm_memstore *ms = ctx;
    const wicas_vm_wcache *c = &ms->c;
    *found = 0;
    long idx;
    if (order == WICAS_VM_ORDER_ASCENDING) {
        size_t i;
        if (after) {
            long f = wicas_vm_wcache_find(c, after, after_len);
            i = f >= 0 ? (size_t)f + 1 : (size_t)(-f - 1);
        } else {
            i = 0;
        }
        if (start) {
            long f = wicas_vm_wcache_find(c, start, start_len);
            size_t s = f >= 0 ? (size_t)f : (size_t)(-f - 1);
            if (s > i) i = s;
        }
        if (i >= c->n) return 0;
        if (end && wicas_vm_key_cmp(c->e[i].key, c->e[i].key_len, end, end_len) >= 0) return 0;
        idx = (long)i;
    } else {
        long i; /* candidate: last index < bound */
        if (after) {
            long f = wicas_vm_wcache_find(c, after, after_len);
            i = f >= 0 ? f - 1 : (-f - 1) - 1;
        } else {
            i = (long)c->n - 1;
        }
        if (end) {
            long f = wicas_vm_wcache_find(c, end, end_len);
            long e = f >= 0 ? f - 1 : (-f - 1) - 1;
            if (e < i) i = e;
        }
        if (i < 0) return 0;
        if (start && wicas_vm_key_cmp(c->e[i].key, c->e[i].key_len, start, start_len) < 0) return 0;
        idx = i;
    }
    const wicas_vm_wentry *e = &c->e[idx];
    *key = dup_bytes(e->key, e->key_len);
    *val = dup_bytes(e->val, e->val_len);
    if (!*key || !*val) {
        free(*key);
        free(*val);
        return -1;
    }
    *key_len = e->key_len;
    *val_len = e->val_len;
    *found = 1;
    return 0;
}

wicas_vm_storage wicas_vm_memstore_storage(wicas_vm_memstore *ms) {
    return (wicas_vm_storage){ms, ms_get, ms_set, ms_remove, ms_seek};
}

size_t wicas_vm_memstore_count(const wicas_vm_memstore *ms) {
    return ms->c.n;
}

void wicas_vm_memstore_entry(const wicas_vm_memstore *ms, size_t i, const uint8_t **key, size_t *key_len,
                             const uint8_t **val, size_t *val_len) {
    *key = ms->c.e[i].key;
    *key_len = ms->c.e[i].key_len;
    *val = ms->c.e[i].val;
    *val_len = ms->c.e[i].val_len;
}

void wicas_vm_memstore_digest(const wicas_vm_memstore *ms, uint8_t out[32]) {
    wicas_sha256_ctx *h = wicas_sha256_begin();
    for (size_t i = 0; i < ms->c.n; i++) {
        uint64_t kl = ms->c.e[i].key_len, vl = ms->c.e[i].val_len;
        wicas_sha256_update(h, &kl, sizeof kl);
        wicas_sha256_update(h, ms->c.e[i].key, kl);
        wicas_sha256_update(h, &vl, sizeof vl);
        wicas_sha256_update(h, ms->c.e[i].val, vl);
    }
    wicas_sha256_final(h, out);
}

/*
 * store.c — LMDB environment, layered key/value views and the sparse Merkle
 * tree that gives the app hash. See store.h for the layout and the hashing
 * rules; this file is the mechanics.
 *
 * Why these choices:
 *   - Content-addressed tree nodes (key = node hash) are never overwritten, so
 *     every committed root stays readable: queries and proofs at past heights
 *     come for free, and a half-written block cannot damage an old root.
 *   - Overlays are sorted arrays: blocks and txs touch few keys, a binary
 *     search plus memmove is simple and deterministic (no hash-table order).
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "common.h"

/* ---- LMDB environment ------------------------------------------------------------ */

static int mdb_err(int rc, const char *what, char *err, size_t errlen) {
    if (errlen) snprintf(err, errlen, "lmdb %s: %s", what, mdb_strerror(rc));
    return rc == MDB_CORRUPTED || rc == MDB_INVALID ? WICAS_CHAIN_ERR_CORRUPT : WICAS_CHAIN_ERR_IO;
}

int wicas_wstore_open(const char *dir, size_t map_size, bool no_sync, wstore *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    int rc = mdb_env_create(&s->env);
    if (rc) return mdb_err(rc, "env_create", err, errlen);
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_mapsize(s->env, map_size ? map_size : (size_t)4 << 30);
    mdb_env_set_maxreaders(s->env, 126);
    unsigned flags = MDB_NOTLS | (no_sync ? MDB_NOSYNC : 0);
    rc = mdb_env_open(s->env, dir, flags, 0644);
    if (rc) {
        mdb_env_close(s->env);
        s->env = NULL;
        if (errlen) snprintf(err, errlen, "lmdb open %s: %s", dir, mdb_strerror(rc));
        return WICAS_CHAIN_ERR_IO;
    }
    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        wicas_wstore_close(s);
        return mdb_err(rc, "txn_begin", err, errlen);
    }
    if ((rc = mdb_dbi_open(txn, "state", MDB_CREATE, &s->state)) ||
        (rc = mdb_dbi_open(txn, "nodes", MDB_CREATE, &s->nodes)) ||
        (rc = mdb_dbi_open(txn, "vals", MDB_CREATE, &s->vals)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) || (rc = mdb_txn_commit(txn))) {
        if (rc) mdb_txn_abort(txn);
        wicas_wstore_close(s);
        return mdb_err(rc, "dbi_open", err, errlen);
    }
    return 0;
}

void wicas_wstore_close(wstore *s) {
    if (!s || !s->env) return;
    if (s->wtxn) mdb_txn_abort(s->wtxn);
    s->wtxn = NULL;
    mdb_env_close(s->env);
    s->env = NULL;
}

int wicas_wstore_meta_get(wstore *s, MDB_txn *txn, const char *key, uint8_t **v, size_t *vl) {
    MDB_val k = {strlen(key), (void *)key}, d;
    int rc = mdb_get(txn, s->meta, &k, &d);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return WICAS_CHAIN_ERR_IO;
    *v = malloc(d.mv_size + 1);
    if (!*v) return WICAS_CHAIN_ERR_NOMEM;
    if (d.mv_size) memcpy(*v, d.mv_data, d.mv_size);
    (*v)[d.mv_size] = 0;
    *vl = d.mv_size;
    return 1;
}

int wicas_wstore_meta_put(wstore *s, MDB_txn *txn, const char *key, const void *v, size_t vl) {
    MDB_val k = {strlen(key), (void *)key}, d = {vl, (void *)v};
    return mdb_put(txn, s->meta, &k, &d, 0) ? WICAS_CHAIN_ERR_IO : 0;
}

int wicas_wstore_root_at(wstore *s, MDB_txn *txn, int64_t h, uint8_t root[32]) {
    char key[40];
    snprintf(key, sizeof key, "root/%020lld", (long long)h);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_wstore_meta_get(s, txn, key, &v, &vl);
    memset(root, 0, 32);
    if (rc == 1 && vl == 32) memcpy(root, v, 32);
    free(v);
    if (rc < 0) return rc;
    return rc == 1 ? (vl == 32 ? 1 : WICAS_CHAIN_ERR_CORRUPT) : 0;
}

/* ---- layered views --------------------------------------------------------------- */

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return d;
}

void wicas_kv_init_base(kv *v, wstore *s, MDB_txn *txn) {
    memset(v, 0, sizeof *v);
    v->s = s;
    v->txn = txn;
}

void wicas_kv_init_overlay(kv *v, kv *parent) {
    memset(v, 0, sizeof *v);
    v->parent = parent;
}

void wicas_kv_clear(kv *v) {
    for (size_t i = 0; i < v->n; i++) {
        free(v->e[i].k);
        free(v->e[i].v);
    }
    free(v->e);
    v->e = NULL;
    v->n = v->cap = 0;
}

/* Index of the first entry with key >= k; *exact says whether it equals k. */
static size_t ov_lower(const kv *v, const uint8_t *k, size_t kl, bool *exact) {
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keycmp(v->e[mid].k, v->e[mid].kl, k, kl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *exact = lo < v->n && keycmp(v->e[lo].k, v->e[lo].kl, k, kl) == 0;
    return lo;
}

int wicas_kv_get(kv *v, const uint8_t *k, size_t kl, uint8_t **val, size_t *vl) {
    for (; v->parent; v = v->parent) {
        bool ex;
        size_t i = ov_lower(v, k, kl, &ex);
        if (!ex) continue;
        if (v->e[i].del) return 0;
        if (val) {
            if (!(*val = dup_bytes(v->e[i].v, v->e[i].vl))) return WICAS_CHAIN_ERR_NOMEM;
            *vl = v->e[i].vl;
        }
        return 1;
    }
    if (kl == 0 || kl > 511) return 0; /* LMDB keys are 1..511 bytes */
    MDB_val key = {kl, (void *)k}, d;
    int rc = mdb_get(v->txn, v->s->state, &key, &d);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return WICAS_CHAIN_ERR_IO;
    if (val) {
        if (!(*val = dup_bytes(d.mv_data, d.mv_size))) return WICAS_CHAIN_ERR_NOMEM;
        *vl = d.mv_size;
    }
    return 1;
}

static int ov_put(kv *v, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl, bool del) {
    if (!v->parent || kl == 0 || kl > 511) return WICAS_CHAIN_ERR_INVALID;
    bool ex;
    size_t i = ov_lower(v, k, kl, &ex);
    uint8_t *nv = del ? NULL : dup_bytes(val, vl);
    if (!del && !nv) return WICAS_CHAIN_ERR_NOMEM;
    if (ex) {
        free(v->e[i].v);
        v->e[i].v = nv;
        v->e[i].vl = del ? 0 : vl;
        v->e[i].del = del;
        return 0;
    }
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        kv_entry *ne = realloc(v->e, nc * sizeof *ne);
        if (!ne) {
            free(nv);
            return WICAS_CHAIN_ERR_NOMEM;
        }
        v->e = ne;
        v->cap = nc;
    }
    uint8_t *nk = dup_bytes(k, kl);
    if (!nk) {
        free(nv);
        return WICAS_CHAIN_ERR_NOMEM;
    }
    memmove(v->e + i + 1, v->e + i, (v->n - i) * sizeof *v->e);
    v->e[i] = (kv_entry){.k = nk, .kl = kl, .v = nv, .vl = del ? 0 : vl, .del = del};
    v->n++;
    return 0;
}

int wicas_kv_set(kv *v, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
    return ov_put(v, k, kl, val ? val : (const uint8_t *)"", vl, false);
}

int wicas_kv_del(kv *v, const uint8_t *k, size_t kl) {
    return ov_put(v, k, kl, NULL, 0, true);
}

int wicas_kv_merge_down(kv *v) {
    if (!v->parent || !v->parent->parent) return WICAS_CHAIN_ERR_INVALID;
    for (size_t i = 0; i < v->n; i++) {
        int rc = ov_put(v->parent, v->e[i].k, v->e[i].kl, v->e[i].v, v->e[i].vl, v->e[i].del);
        if (rc) return rc;
    }
    wicas_kv_clear(v);
    return 0;
}

/* Base layer iteration through an LMDB cursor. */
static int base_seek(kv *v, const uint8_t *b, size_t bl, bool incl, bool forward, uint8_t **k, size_t *kl,
                     uint8_t **val, size_t *vl) {
    MDB_cursor *cur;
    if (mdb_cursor_open(v->txn, v->s->state, &cur)) return WICAS_CHAIN_ERR_IO;
    MDB_val key, d;
    int rc;
    if (forward) {
        if (bl == 0) {
            rc = mdb_cursor_get(cur, &key, &d, MDB_FIRST);
        } else {
            key = (MDB_val){bl, (void *)b};
            rc = mdb_cursor_get(cur, &key, &d, MDB_SET_RANGE);
            if (rc == 0 && !incl && keycmp(key.mv_data, key.mv_size, b, bl) == 0)
                rc = mdb_cursor_get(cur, &key, &d, MDB_NEXT);
        }
    } else {
        if (!b) {
            rc = mdb_cursor_get(cur, &key, &d, MDB_LAST);
        } else if (bl == 0) {
            rc = MDB_NOTFOUND;
        } else {
            key = (MDB_val){bl, (void *)b};
            rc = mdb_cursor_get(cur, &key, &d, MDB_SET_RANGE);
            if (rc == MDB_NOTFOUND)
                rc = mdb_cursor_get(cur, &key, &d, MDB_LAST);
            else if (rc == 0 && !(incl && keycmp(key.mv_data, key.mv_size, b, bl) == 0))
                rc = mdb_cursor_get(cur, &key, &d, MDB_PREV);
        }
    }
    if (rc == 0) {
        *k = dup_bytes(key.mv_data, key.mv_size);
        *val = dup_bytes(d.mv_data, d.mv_size);
        *kl = key.mv_size;
        *vl = d.mv_size;
        rc = (*k && *val) ? 1 : WICAS_CHAIN_ERR_NOMEM;
    } else {
        rc = rc == MDB_NOTFOUND ? 0 : WICAS_CHAIN_ERR_IO;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* One step of merged iteration: the parent's candidate and ours; our entry
 * shadows the parent's on equal keys; our deletions are skipped. */
static int kv_seek(kv *v, const uint8_t *b, size_t bl, bool incl, bool forward, uint8_t **k, size_t *kl,
                   uint8_t **val, size_t *vl) {
    if (!v->parent) return base_seek(v, b, bl, incl, forward, k, kl, val, vl);
    uint8_t *cur = b ? dup_bytes(b, bl) : NULL;
    size_t curl = bl;
    bool cur_null = b == NULL, cincl = incl;
    if (b && !cur) return WICAS_CHAIN_ERR_NOMEM;
    for (;;) {
        uint8_t *pk = NULL, *pv = NULL;
        size_t pkl = 0, pvl = 0;
        int prc = kv_seek(v->parent, cur_null ? NULL : cur, curl, cincl, forward, &pk, &pkl, &pv, &pvl);
        if (prc < 0) {
            free(cur);
            return prc;
        }
        /* our own candidate */
        long oi = -1;
        if (forward) {
            bool ex = false;
            size_t i = cur_null ? 0 : ov_lower(v, cur, curl, &ex);
            if (!cur_null && ex && !cincl) i++;
            if (i < v->n) oi = (long)i;
        } else {
            bool ex = false;
            size_t i = cur_null ? v->n : ov_lower(v, cur, curl, &ex);
            if (!cur_null && ex && cincl) i++;
            if (i > 0) oi = (long)i - 1;
        }
        int which; /* 0 none, 1 parent, 2 own */
        if (oi < 0)
            which = prc ? 1 : 0;
        else if (!prc)
            which = 2;
        else {
            int c = keycmp(v->e[oi].k, v->e[oi].kl, pk, pkl);
            which = c == 0 ? 2 : (forward ? (c < 0 ? 2 : 1) : (c > 0 ? 2 : 1));
        }
        if (which == 0) {
            free(cur);
            return 0;
        }
        if (which == 1) {
            free(cur);
            *k = pk, *kl = pkl, *val = pv, *vl = pvl;
            return 1;
        }
        free(pk);
        free(pv);
        kv_entry *e = &v->e[oi];
        if (!e->del) {
            free(cur);
            *k = dup_bytes(e->k, e->kl);
            *val = dup_bytes(e->v, e->vl);
            *kl = e->kl;
            *vl = e->vl;
            return (*k && *val) ? 1 : WICAS_CHAIN_ERR_NOMEM;
        }
        /* deleted here: continue past it */
        free(cur);
        cur = dup_bytes(e->k, e->kl);
        if (!cur) return WICAS_CHAIN_ERR_NOMEM;
        curl = e->kl;
        cur_null = false;
        cincl = false;
    }
}

int wicas_kv_next(kv *v, const uint8_t *lo, size_t lol, bool incl, uint8_t **k, size_t *kl, uint8_t **val,
                  size_t *vl) {
    static const uint8_t empty[1];
    return kv_seek(v, lo ? lo : empty, lo ? lol : 0, lo ? incl : true, true, k, kl, val, vl);
}

int wicas_kv_prev(kv *v, const uint8_t *hi, size_t hil, bool incl, uint8_t **k, size_t *kl, uint8_t **val,
                  size_t *vl) {
    return kv_seek(v, hi, hil, incl, false, k, kl, val, vl);
}

/* ---- sparse Merkle tree ---------------------------------------------------------- */

enum { T_EMPTY = 0, T_LEAF = 1, T_INNER = 2 };
typedef struct {
    int kind;
    uint8_t h[32];
    uint8_t a[32], b[32]; /* leaf: key hash, value hash; inner: left, right */
} tnode;

static const uint8_t ZERO[32];

static int bit_at(const uint8_t kh[32], int depth) {
    return (kh[depth >> 3] >> (7 - (depth & 7))) & 1;
}

static void hash2(uint8_t tag, const uint8_t a[32], const uint8_t b[32], uint8_t out[32]) {
    uint8_t buf[65];
    buf[0] = tag;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    wicas_sha256(buf, sizeof buf, out);
}

static int node_load(wstore *s, MDB_txn *txn, const uint8_t hash[32], tnode *n) {
    uint8_t h[32]; /* hash may point into *n */
    memcpy(h, hash, 32);
    memset(n, 0, sizeof *n);
    if (memcmp(h, ZERO, 32) == 0) return 0;
    MDB_val k = {32, h}, d;
    int rc = mdb_get(txn, s->nodes, &k, &d);
    if (rc == MDB_NOTFOUND) return WICAS_CHAIN_ERR_CORRUPT;
    if (rc) return WICAS_CHAIN_ERR_IO;
    const uint8_t *p = d.mv_data;
    if (d.mv_size != 65 || p[0] > 1) return WICAS_CHAIN_ERR_CORRUPT;
    n->kind = p[0] == 0 ? T_LEAF : T_INNER;
    memcpy(n->h, h, 32);
    memcpy(n->a, p + 1, 32);
    memcpy(n->b, p + 33, 32);
    return 0;
}

static int node_store(wstore *s, MDB_txn *txn, int kind, const uint8_t a[32], const uint8_t b[32],
                      tnode *out) {
    uint8_t buf[65];
    buf[0] = kind == T_LEAF ? 0 : 1;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    out->kind = kind;
    memcpy(out->a, a, 32);
    memcpy(out->b, b, 32);
    wicas_sha256(buf, sizeof buf, out->h);
    MDB_val k = {32, out->h}, d = {65, buf};
    int rc = mdb_put(txn, s->nodes, &k, &d, MDB_NOOVERWRITE);
    return rc == 0 || rc == MDB_KEYEXIST ? 0 : WICAS_CHAIN_ERR_IO;
}

/* Joins two subtrees: an empty side next to a leaf collapses to the leaf, so
 * every subtree with one leaf is that leaf (the canonical shape). */
static int combine(wstore *s, MDB_txn *txn, const tnode *l, const tnode *r, tnode *out) {
    if (l->kind == T_EMPTY && r->kind == T_EMPTY) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    if (l->kind == T_EMPTY && r->kind == T_LEAF) {
        *out = *r;
        return 0;
    }
    if (r->kind == T_EMPTY && l->kind == T_LEAF) {
        *out = *l;
        return 0;
    }
    return node_store(s, txn, T_INNER, l->h, r->h, out);
}

typedef struct {
    uint8_t kh[32], vh[32];
    bool del;
} upd;

static int upd_cmp(const void *a, const void *b) {
    return memcmp(((const upd *)a)->kh, ((const upd *)b)->kh, 32);
}

/* Builds the canonical subtree at `depth` for sorted leaves (no deletions). */
static int build(wstore *s, MDB_txn *txn, const upd *l, size_t n, int depth, tnode *out) {
    if (n == 0) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    if (n == 1) return node_store(s, txn, T_LEAF, l[0].kh, l[0].vh, out);
    if (depth >= 256) return WICAS_CHAIN_ERR_CORRUPT; /* two equal key hashes */
    size_t m = 0;
    while (m < n && !bit_at(l[m].kh, depth))
        m++;
    tnode a, b;
    int rc = build(s, txn, l, m, depth + 1, &a);
    if (!rc) rc = build(s, txn, l + m, n - m, depth + 1, &b);
    if (!rc) rc = combine(s, txn, &a, &b, out);
    return rc;
}

/* Applies sorted updates u[0..n) (all sharing the first `depth` bits) to
 * subtree `node`. */
static int update(wstore *s, MDB_txn *txn, const tnode *node, int depth, const upd *u, size_t n, tnode *out) {
    if (n == 0) {
        *out = *node;
        return 0;
    }
    if (node->kind == T_INNER) {
        if (depth >= 256) return WICAS_CHAIN_ERR_CORRUPT;
        size_t m = 0;
        while (m < n && !bit_at(u[m].kh, depth))
            m++;
        tnode l, r, nl, nr;
        int rc = node_load(s, txn, node->a, &l);
        if (!rc) rc = node_load(s, txn, node->b, &r);
        if (!rc) rc = update(s, txn, &l, depth + 1, u, m, &nl);
        if (!rc) rc = update(s, txn, &r, depth + 1, u + m, n - m, &nr);
        if (!rc) rc = combine(s, txn, &nl, &nr, out);
        return rc;
    }
    /* empty or leaf: merge the existing leaf with the updates, then rebuild */
    upd *list = malloc((n + 1) * sizeof *list);
    if (!list) return WICAS_CHAIN_ERR_NOMEM;
    size_t c = 0;
    bool placed = node->kind != T_LEAF;
    for (size_t i = 0; i < n; i++) {
        if (!placed && memcmp(node->a, u[i].kh, 32) <= 0) {
            placed = true;
            if (memcmp(node->a, u[i].kh, 32) < 0) {
                memcpy(list[c].kh, node->a, 32);
                memcpy(list[c].vh, node->b, 32);
                list[c++].del = false;
            }
        }
        if (!u[i].del) list[c++] = u[i];
    }
    if (!placed) {
        memcpy(list[c].kh, node->a, 32);
        memcpy(list[c].vh, node->b, 32);
        list[c++].del = false;
    }
    int rc = build(s, txn, list, c, depth, out);
    free(list);
    return rc;
}

int wicas_smt_apply(wstore *s, MDB_txn *txn, const kv *ov, const uint8_t old_root[32], uint8_t new_root[32]) {
    if (ov->n == 0) {
        memcpy(new_root, old_root, 32);
        return 0;
    }
    upd *u = malloc(ov->n * sizeof *u);
    if (!u) return WICAS_CHAIN_ERR_NOMEM;
    int rc = 0;
    for (size_t i = 0; i < ov->n && !rc; i++) {
        const kv_entry *e = &ov->e[i];
        MDB_val k = {e->kl, e->k};
        wicas_sha256(e->k, e->kl, u[i].kh);
        u[i].del = e->del;
        if (e->del) {
            memset(u[i].vh, 0, 32);
            int r = mdb_del(txn, s->state, &k, NULL);
            if (r && r != MDB_NOTFOUND) rc = WICAS_CHAIN_ERR_IO;
        } else {
            wicas_sha256(e->v, e->vl, u[i].vh);
            MDB_val d = {e->vl, e->v}, hk = {32, u[i].vh};
            if (mdb_put(txn, s->state, &k, &d, 0)) rc = WICAS_CHAIN_ERR_IO;
            int r = mdb_put(txn, s->vals, &hk, &d, MDB_NOOVERWRITE);
            if (r && r != MDB_KEYEXIST) rc = WICAS_CHAIN_ERR_IO;
        }
    }
    if (!rc) {
        qsort(u, ov->n, sizeof *u, upd_cmp);
        tnode root, out;
        rc = node_load(s, txn, old_root, &root);
        if (!rc) rc = update(s, txn, &root, 0, u, ov->n, &out);
        if (!rc) memcpy(new_root, out.kind == T_EMPTY ? ZERO : out.h, 32);
    }
    free(u);
    return rc;
}

/* Proof layout (all integers big-endian):
 *   u8 version (1) | u8 kind (0 inclusion, 1 absent: empty slot, 2 absent:
 *   another leaf) | u16 depth | kind 2: other key hash (32) + value hash (32) |
 *   bitmap of non-empty siblings, ceil(depth/8) bytes, bit i (MSB first) = depth i |
 *   the non-empty sibling hashes in depth order, 32 bytes each. */
int wicas_smt_get(wstore *s, MDB_txn *txn, const uint8_t root[32], const uint8_t *key, size_t kl,
                  uint8_t **val, size_t *vl, uint8_t **proof, size_t *proof_len) {
    uint8_t kh[32];
    wicas_sha256(key, kl, kh);
    uint8_t sib[256][32];
    int depth = 0, rc;
    tnode n;
    if ((rc = node_load(s, txn, root, &n))) return rc;
    while (n.kind == T_INNER) {
        if (depth >= 256) return WICAS_CHAIN_ERR_CORRUPT;
        int b = bit_at(kh, depth);
        memcpy(sib[depth], b ? n.a : n.b, 32);
        depth++;
        if ((rc = node_load(s, txn, b ? n.b : n.a, &n))) return rc;
    }
    int kind = n.kind == T_EMPTY ? 1 : memcmp(n.a, kh, 32) == 0 ? 0 : 2;
    int found = 0;
    if (kind == 0 && val) {
        MDB_val hk = {32, n.b}, d;
        int r = mdb_get(txn, s->vals, &hk, &d);
        if (r) return r == MDB_NOTFOUND ? WICAS_CHAIN_ERR_CORRUPT : WICAS_CHAIN_ERR_IO;
        if (!(*val = dup_bytes(d.mv_data, d.mv_size))) return WICAS_CHAIN_ERR_NOMEM;
        *vl = d.mv_size;
    }
    if (kind == 0) found = 1;
    if (proof) {
        size_t bm = ((size_t)depth + 7) / 8, ne = 0;
        for (int i = 0; i < depth; i++)
            ne += memcmp(sib[i], ZERO, 32) != 0;
        size_t len = 4 + (kind == 2 ? 64 : 0) + bm + 32 * ne;
        uint8_t *p = calloc(1, len);
        if (!p) {
            if (found && val) free(*val);
            return WICAS_CHAIN_ERR_NOMEM;
        }
        p[0] = 1;
        p[1] = (uint8_t)kind;
        p[2] = (uint8_t)(depth >> 8);
        p[3] = (uint8_t)depth;
        size_t o = 4;
        if (kind == 2) {
            memcpy(p + o, n.a, 32);
            memcpy(p + o + 32, n.b, 32);
            o += 64;
        }
        uint8_t *bmp = p + o;
        o += bm;
        for (int i = 0; i < depth; i++)
            if (memcmp(sib[i], ZERO, 32) != 0) {
                bmp[i >> 3] |= (uint8_t)(0x80 >> (i & 7));
                memcpy(p + o, sib[i], 32);
                o += 32;
            }
        *proof = p;
        *proof_len = len;
    }
    return found;
}

int wicas_smt_verify(const uint8_t root[32], const uint8_t *key, size_t kl, const uint8_t *value, size_t vl,
                     const uint8_t *p, size_t len) {
    if (!p || len < 4 || p[0] != 1 || p[1] > 2) return WICAS_CHAIN_ERR_INVALID;
    int kind = p[1], depth = (p[2] << 8) | p[3];
    if (depth > 256) return WICAS_CHAIN_ERR_INVALID;
    size_t o = 4, bm = ((size_t)depth + 7) / 8;
    const uint8_t *other = NULL;
    if (kind == 2) {
        if (len < o + 64) return WICAS_CHAIN_ERR_INVALID;
        other = p + o;
        o += 64;
    }
    if (len < o + bm) return WICAS_CHAIN_ERR_INVALID;
    const uint8_t *bmp = p + o;
    o += bm;
    size_t ne = 0;
    for (int i = 0; i < depth; i++)
        ne += (bmp[i >> 3] >> (7 - (i & 7))) & 1;
    if (len != o + 32 * ne) return WICAS_CHAIN_ERR_INVALID;
    /* padding bits of the bitmap must be zero (one encoding per proof) */
    if (depth & 7 && (bmp[bm - 1] & (0xFF >> (depth & 7)))) return WICAS_CHAIN_ERR_INVALID;

    uint8_t kh[32], h[32];
    wicas_sha256(key, kl, kh);
    if (kind == 0) {
        if (!value) return WICAS_CHAIN_ERR_PROOF;
        uint8_t vh[32];
        wicas_sha256(value, vl, vh);
        hash2(0, kh, vh, h);
    } else {
        if (value) return WICAS_CHAIN_ERR_PROOF;
        if (kind == 1) {
            memset(h, 0, 32);
        } else {
            if (memcmp(other, kh, 32) == 0) return WICAS_CHAIN_ERR_PROOF;
            for (int i = 0; i < depth; i++)
                if (bit_at(other, i) != bit_at(kh, i)) return WICAS_CHAIN_ERR_PROOF;
            hash2(0, other, other + 32, h);
        }
    }
    /* walk up: siblings are stored top-down, so read them from the end */
    size_t so = len;
    for (int i = depth - 1; i >= 0; i--) {
        uint8_t s[32];
        if ((bmp[i >> 3] >> (7 - (i & 7))) & 1) {
            so -= 32;
            memcpy(s, p + so, 32);
        } else {
            memset(s, 0, 32);
        }
        if (bit_at(kh, i))
            hash2(1, s, h, h);
        else
            hash2(1, h, s, h);
    }
    /* an empty tree has root zero; a lone leaf at depth 0 is the root */
    if (kind == 1 && depth == 0) memset(h, 0, 32);
    return memcmp(h, root, 32) == 0 ? 0 : WICAS_CHAIN_ERR_PROOF;
}

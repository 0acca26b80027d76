/*
 * snapshot.c — state-sync snapshots of the chain state (see chain.h for the
 * format and the guarantees).
 *
 * Why this shape: the "state" database already holds the latest committed
 * key/value state in key order, and the app hash is a function of that set
 * alone (the tree's shape does not depend on insertion order), so a snapshot
 * is just the sorted pairs, and a restore is "insert them all, compare the
 * root". Taking one reads an LMDB read transaction (a consistent view of the
 * last commit) into files; restoring writes each verified chunk into one
 * write transaction as it arrives (nothing of a chunk is held afterwards) and
 * commits it only when the rebuilt root matches after the last chunk, so a
 * snapshot whose root does not match leaves no trace. The snapshot hash
 * covers the metadata, and the metadata holds every chunk's hash, so a
 * corrupt chunk is caught on arrival (and fetched again from another peer)
 * and a consistent but forged state is caught by the root. The chain id and
 * initial height in the metadata are not in the root and the metadata's hash
 * comes from the same peer, so they are checked against the joining node's
 * own genesis.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain_internal.h"
#include "common.h"

#define META_MAGIC "WSS1"
#define MAX_KEY 511 /* LMDB's default key limit */
#define MAX_CHUNKS 1000000u

static void be32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static uint32_t be32_get(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void snap_root(const wicas_chain *c, char *out, size_t cap) {
    snprintf(out, cap, "%s/snapshots", c->data_dir);
}

/* Writes data to path; returns 0 or -1. */
static int write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    bool ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0) ok = false;
    return ok ? 0 : -1;
}

/* rm -r of a snapshot directory (flat: files only). */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- metadata ---------------------------------------------------------------------------
 * "WSS1" | u64 height | u64 n_keys | u64 initial_height | u16 chain id length |
 * chain id | chunk hashes (32 bytes each, the rest of the buffer). The height
 * is in it so that two snapshots of an unchanged state differ in hash. */
#define META_HEAD 30
typedef struct {
    int64_t height;
    uint64_t n_keys;
    int64_t initial_height;
    char chain_id[128];
    const uint8_t *hashes;
    uint32_t chunks;
} meta_view;

static int meta_parse(const uint8_t *m, size_t len, meta_view *v) {
    if (len < META_HEAD || memcmp(m, META_MAGIC, 4) != 0) return -1;
    v->height = (int64_t)wicas_be64_get(m + 4);
    v->n_keys = wicas_be64_get(m + 12);
    v->initial_height = (int64_t)wicas_be64_get(m + 20);
    size_t cl = (size_t)m[28] << 8 | m[29];
    if (cl == 0 || cl >= sizeof v->chain_id || len < META_HEAD + cl) return -1;
    memcpy(v->chain_id, m + META_HEAD, cl);
    v->chain_id[cl] = 0;
    if (memchr(v->chain_id, 0, cl)) return -1;
    size_t rest = len - META_HEAD - cl;
    if (rest == 0 || rest % 32 || rest / 32 > MAX_CHUNKS || v->initial_height < 1 ||
        v->height < v->initial_height)
        return -1;
    v->hashes = m + META_HEAD + cl;
    v->chunks = (uint32_t)(rest / 32);
    return 0;
}

/* ---- taking snapshots ----------------------------------------------------------------- */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} gbuf;

static int gb_put(gbuf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n)
            nc *= 2;
        uint8_t *nb = realloc(b->buf, nc);
        if (!nb) return -1;
        b->buf = nb;
        b->cap = nc;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

/* Keeps the newest `keep` complete snapshots, removes the rest and stray temporaries. */
static void prune(wicas_chain *c, unsigned keep) {
    wicas_chain_snapshot *s;
    size_t n;
    if (wicas_chain_snapshot_list(c, &s, &n) == 0) {
        char root[600], dir[700];
        snap_root(c, root, sizeof root);
        for (size_t i = keep; i < n; i++) {
            snprintf(dir, sizeof dir, "%s/%020lld", root, (long long)s[i].height);
            remove_dir(dir);
        }
        wicas_chain_snapshots_free(s, n);
    }
}

int wicas_chain_snapshot_take(wicas_chain *c, unsigned keep, size_t chunk_bytes, char *err, size_t errlen) {
    if (!c || keep < 1) {
        wicas_errf(err, errlen, "snapshot: keep must be >= 1");
        return WICAS_CHAIN_ERR_INVALID;
    }
    if (c->pending || c->st.wtxn || c->last_height < 1) {
        wicas_errf(err, errlen, "snapshot: no committed state to snapshot (or a block is pending)");
        return WICAS_CHAIN_ERR_STATE;
    }
    if (!chunk_bytes) chunk_bytes = WICAS_CHAIN_SNAPSHOT_CHUNK_BYTES;
    char root[600], tmp[700], fin[700], path[800];
    snap_root(c, root, sizeof root);
    snprintf(fin, sizeof fin, "%s/%020lld", root, (long long)c->last_height);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%020lld", root, (long long)c->last_height);
    struct stat st;
    if (stat(fin, &st) == 0) return 0;
    if (mkdir(root, 0755) && errno != EEXIST) {
        wicas_errf(err, errlen, "snapshot: cannot create %s: %s", root, strerror(errno));
        return WICAS_CHAIN_ERR_IO;
    }
    remove_dir(tmp);
    if (mkdir(tmp, 0755)) {
        wicas_errf(err, errlen, "snapshot: cannot create %s: %s", tmp, strerror(errno));
        return WICAS_CHAIN_ERR_IO;
    }
    MDB_txn *t;
    MDB_cursor *cur;
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &t)) {
        remove_dir(tmp);
        wicas_errf(err, errlen, "snapshot: cannot read the store");
        return WICAS_CHAIN_ERR_IO;
    }
    if (mdb_cursor_open(t, c->st.state, &cur)) {
        mdb_txn_abort(t);
        remove_dir(tmp);
        wicas_errf(err, errlen, "snapshot: cannot read the store");
        return WICAS_CHAIN_ERR_IO;
    }
    gbuf chunk = {0}, hashes = {0};
    uint64_t n_keys = 0;
    uint32_t n_chunks = 0;
    int rc = 0;
    MDB_val k, v;
    int mr = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (;;) {
        bool end = mr != 0;
        if (mr && mr != MDB_NOTFOUND) {
            rc = WICAS_CHAIN_ERR_IO;
            break;
        }
        if (!end) {
            uint8_t h[8];
            be32_put(h, (uint32_t)k.mv_size);
            be32_put(h + 4, (uint32_t)v.mv_size);
            if (gb_put(&chunk, h, 4) || gb_put(&chunk, k.mv_data, k.mv_size) || gb_put(&chunk, h + 4, 4) ||
                gb_put(&chunk, v.mv_data, v.mv_size)) {
                rc = WICAS_CHAIN_ERR_NOMEM;
                break;
            }
            n_keys++;
        }
        /* a chunk is cut when full, and the last one at the end (an empty
         * state still has one, empty, chunk) */
        if (chunk.len >= chunk_bytes || (end && (chunk.len || n_chunks == 0))) {
            uint8_t ch[32];
            wicas_sha256(chunk.buf, chunk.len, ch);
            snprintf(path, sizeof path, "%s/chunk-%06u", tmp, n_chunks);
            if (write_file(path, chunk.buf ? chunk.buf : (const uint8_t *)"", chunk.len) ||
                gb_put(&hashes, ch, 32)) {
                rc = WICAS_CHAIN_ERR_IO;
                break;
            }
            n_chunks++;
            chunk.len = 0;
        }
        if (end) break;
        mr = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(t);
    free(chunk.buf);
    gbuf meta = {0};
    if (!rc) {
        uint8_t hd[META_HEAD];
        size_t cl = strlen(c->chain_id);
        memcpy(hd, META_MAGIC, 4);
        wicas_be64_put(hd + 4, (uint64_t)c->last_height);
        wicas_be64_put(hd + 12, n_keys);
        wicas_be64_put(hd + 20, (uint64_t)(c->initial_height > 0 ? c->initial_height : 1));
        hd[28] = (uint8_t)(cl >> 8), hd[29] = (uint8_t)cl;
        snprintf(path, sizeof path, "%s/metadata", tmp);
        if (gb_put(&meta, hd, sizeof hd) || gb_put(&meta, c->chain_id, cl) ||
            gb_put(&meta, hashes.buf, hashes.len) || write_file(path, meta.buf, meta.len) || rename(tmp, fin))
            rc = WICAS_CHAIN_ERR_IO;
    }
    free(hashes.buf);
    free(meta.buf);
    if (rc) {
        remove_dir(tmp);
        wicas_errf(err, errlen, "snapshot at height %lld: %s", (long long)c->last_height,
                   wicas_chain_strerror(rc));
        return rc;
    }
    prune(c, keep);
    return 0;
}

/* ---- serving them --------------------------------------------------------------------------- */
void wicas_chain_snapshots_free(wicas_chain_snapshot *s, size_t n) {
    for (size_t i = 0; s && i < n; i++)
        free(s[i].metadata);
    free(s);
}

static int cmp_height_desc(const void *a, const void *b) {
    int64_t x = ((const wicas_chain_snapshot *)a)->height, y = ((const wicas_chain_snapshot *)b)->height;
    return x < y ? 1 : x > y ? -1 : 0;
}

int wicas_chain_snapshot_list(wicas_chain *c, wicas_chain_snapshot **out, size_t *n) {
    *out = NULL;
    *n = 0;
    char root[600];
    snap_root(c, root, sizeof root);
    DIR *d = opendir(root);
    if (!d) return 0;
    size_t cap = 0;
    wicas_chain_snapshot *v = NULL;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 20 || strspn(e->d_name, "0123456789") != 20) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/metadata", root, e->d_name);
        size_t ml;
        uint8_t *m = wicas_read_file(path, 64u << 20, &ml);
        meta_view mv;
        if (!m || meta_parse(m, ml, &mv) || mv.height != atoll(e->d_name)) {
            free(m);
            continue;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            wicas_chain_snapshot *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(m);
                rc = WICAS_CHAIN_ERR_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        wicas_chain_snapshot *s = &v[(*n)++];
        s->height = atoll(e->d_name);
        s->format = WICAS_CHAIN_SNAPSHOT_FORMAT;
        s->chunks = mv.chunks;
        wicas_sha256(m, ml, s->hash);
        s->metadata = m;
        s->metadata_len = ml;
    }
    closedir(d);
    if (rc) {
        wicas_chain_snapshots_free(v, *n);
        *n = 0;
        return rc;
    }
    if (*n) qsort(v, *n, sizeof *v, cmp_height_desc);
    *out = v;
    return 0;
}

int wicas_chain_snapshot_chunk(wicas_chain *c, int64_t height, uint32_t format, uint32_t index, uint8_t **out,
                               size_t *len) {
    *out = NULL;
    *len = 0;
    if (format != WICAS_CHAIN_SNAPSHOT_FORMAT || height < 1) return WICAS_CHAIN_ERR_NOT_FOUND;
    char root[600], path[800];
    snap_root(c, root, sizeof root);
    snprintf(path, sizeof path, "%s/%020lld/chunk-%06u", root, (long long)height, index);
    uint8_t *d = wicas_read_file(path, 256u << 20, len);
    if (!d) return errno == ENOENT ? WICAS_CHAIN_ERR_NOT_FOUND : WICAS_CHAIN_ERR_IO;
    *out = d;
    return 0;
}

/* ---- restoring ------------------------------------------------------------------------------
 * Incremental: restore_begin opens ONE LMDB write transaction and each
 * verified chunk's records go straight into it (kv overlay -> wicas_smt_apply, the
 * root carried from chunk to chunk); nothing of a chunk is kept after it is
 * applied. The root is compared with the trusted app hash after the last
 * chunk, and only then is the transaction committed: a mismatch, an abort or
 * a crash part-way leaves nothing on disk (LMDB discards an uncommitted
 * transaction). Memory held by the restore itself is the metadata plus the
 * last key (WICAS_CHAIN_RESTORE_HELD_MAX over the metadata), whatever the
 * snapshot's size; LMDB keeps the transaction's dirty pages and spills them
 * to the file itself beyond its own limit. The transaction belongs to the
 * thread that offered the snapshot (CometBFT sends OfferSnapshot and
 * ApplySnapshotChunk on one connection, served by one thread). While it is
 * open the chain is marked pending (with no block transaction), so InitChain,
 * FinalizeBlock, Commit and snapshot taking refuse instead of touching it. */
struct wicas_chain_restore {
    wicas_chain *c;
    int64_t height;
    uint8_t app_hash[32];
    meta_view mv;
    uint8_t *meta; /* owns mv's hashes */
    size_t meta_len;
    uint32_t next; /* next chunk index expected */
    uint64_t keys; /* records seen so far */
    uint8_t last_key[MAX_KEY];
    size_t last_kl; /* 0 = none yet */
    MDB_txn *txn;   /* the restore's write transaction (c->pending while open) */
    uint8_t root[32];
    size_t held, held_peak;
};

static void restore_drop_txn(wicas_chain_restore *r) {
    if (r->txn) {
        mdb_txn_abort(r->txn);
        r->c->pending = false;
        r->txn = NULL;
    }
}

void wicas_chain_restore_free(wicas_chain_restore *r) {
    if (!r) return;
    restore_drop_txn(r);
    free(r->meta);
    free(r);
}

size_t wicas_chain_restore_held_peak(const wicas_chain_restore *r) {
    return r ? r->held_peak : 0;
}

static void held_note(wicas_chain_restore *r, size_t now) {
    r->held = now;
    if (now > r->held_peak) r->held_peak = now;
}

wicas_chain_restore_result wicas_chain_restore_begin(wicas_chain *c, const wicas_chain_snapshot *s,
                                                     const uint8_t app_hash[32], const char *chain_id,
                                                     int64_t initial_height, wicas_chain_restore **out,
                                                     char *err, size_t errlen) {
    *out = NULL;
    if (c->last_height > 0 || c->pending || c->st.wtxn || c->chain_id[0]) {
        wicas_errf(err, errlen, "restore: the state is not empty (height %lld)", (long long)c->last_height);
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    if (!chain_id || !chain_id[0] || initial_height < 1) {
        wicas_errf(err, errlen, "restore: this node's genesis (chain id, initial height) is unknown");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    if (s->format != WICAS_CHAIN_SNAPSHOT_FORMAT) {
        wicas_errf(err, errlen, "restore: unknown snapshot format %u", s->format);
        return WICAS_CHAIN_RESTORE_REJECT_FORMAT;
    }
    meta_view mv;
    uint8_t h[32];
    if (s->height < 1 || !s->metadata || meta_parse(s->metadata, s->metadata_len, &mv)) {
        wicas_errf(err, errlen, "restore: snapshot at height %lld has malformed metadata",
                   (long long)s->height);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    wicas_sha256(s->metadata, s->metadata_len, h);
    if (memcmp(h, s->hash, 32) != 0 || mv.chunks != s->chunks || mv.height != s->height) {
        wicas_errf(
            err, errlen,
            "restore: snapshot at height %lld: hash, height or chunk count does not match its metadata",
            (long long)s->height);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    /* The metadata's hash comes from the same peer as the metadata, and the
     * chain id and initial height are not in the app hash: only this node's
     * own genesis can vouch for them. */
    if (strcmp(mv.chain_id, chain_id) != 0 || mv.initial_height != initial_height) {
        wicas_errf(
            err, errlen,
            "restore: snapshot is of chain \"%s\" (initial height %lld), this node's genesis says \"%s\" "
            "(initial height %lld)",
            mv.chain_id, (long long)mv.initial_height, chain_id, (long long)initial_height);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    wicas_chain_restore *r = calloc(1, sizeof *r);
    if (r) r->meta = malloc(s->metadata_len);
    if (!r || !r->meta) {
        wicas_chain_restore_free(r);
        wicas_errf(err, errlen, "restore: out of memory");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    r->c = c;
    if (mdb_txn_begin(c->st.env, NULL, 0, &r->txn)) {
        r->txn = NULL;
        wicas_chain_restore_free(r);
        wicas_errf(err, errlen, "restore: cannot begin a write transaction");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    c->pending = true; /* no block, InitChain or Commit while restoring */
    memcpy(r->meta, s->metadata, s->metadata_len);
    r->meta_len = s->metadata_len;
    meta_parse(r->meta, s->metadata_len, &r->mv);
    r->height = s->height;
    memcpy(r->app_hash, app_hash, 32);
    held_note(r, sizeof *r + r->meta_len);
    *out = r;
    return WICAS_CHAIN_RESTORE_ACCEPT;
}

/* Checks a chunk's records: well formed, keys strictly ascending across the
 * whole snapshot. Touches nothing (the caller commits *keys / last key only
 * when the chunk is then applied). -1 if malformed. */
static int check_records(const wicas_chain_restore *r, const uint8_t *p, size_t len, uint64_t *keys) {
    size_t off = 0;
    const uint8_t *prev = r->last_kl ? r->last_key : NULL;
    size_t prev_l = r->last_kl;
    *keys = 0;
    while (off < len) {
        if (len - off < 4) return -1;
        uint32_t kl = be32_get(p + off);
        off += 4;
        if (kl == 0 || kl > MAX_KEY || len - off < (size_t)kl + 4) return -1;
        const uint8_t *k = p + off;
        off += kl;
        uint32_t vl = be32_get(p + off);
        off += 4;
        if (len - off < vl) return -1;
        off += vl;
        if (prev) {
            size_t m = kl < prev_l ? kl : prev_l;
            int c = memcmp(prev, k, m);
            if (c > 0 || (c == 0 && prev_l >= kl)) return -1;
        }
        prev = k;
        prev_l = kl;
        (*keys)++;
    }
    return 0;
}

/* Writes one verified chunk's records into the restore's transaction and
 * advances the root. */
static int apply_chunk(wicas_chain_restore *r, const uint8_t *p, size_t len) {
    wicas_chain *c = r->c;
    kv base, ov;
    wicas_kv_init_base(&base, &c->st, r->txn);
    wicas_kv_init_overlay(&ov, &base);
    size_t off = 0;
    int rc = 0;
    const uint8_t *lk = NULL;
    size_t lkl = 0;
    while (off < len && !rc) { /* already validated by check_records */
        uint32_t kl = be32_get(p + off);
        const uint8_t *k = p + off + 4;
        uint32_t vl = be32_get(p + off + 4 + kl);
        const uint8_t *v = p + off + 8 + kl;
        rc = wicas_kv_set(&ov, k, kl, v, vl);
        lk = k, lkl = kl;
        off += 8 + (size_t)kl + vl;
    }
    uint8_t next_root[32];
    if (!rc) rc = wicas_smt_apply(&c->st, r->txn, &ov, r->root, next_root);
    wicas_kv_clear(&ov);
    if (!rc) {
        memcpy(r->root, next_root, 32);
        if (lk) {
            memcpy(r->last_key, lk, lkl);
            r->last_kl = lkl;
        }
    }
    return rc;
}

/* After the last chunk: commits only if the root matches. */
static wicas_chain_restore_result install(wicas_chain_restore *r, char *err, size_t errlen) {
    wicas_chain *c = r->c;
    if (memcmp(r->root, r->app_hash, 32) != 0) {
        restore_drop_txn(r);
        char a[65], b[65];
        wicas_hex_encode(r->root, 32, a);
        wicas_hex_encode(r->app_hash, 32, b);
        wicas_errf(err, errlen,
                   "restore: snapshot at height %lld rebuilds app hash %s, the trusted one is %s",
                   (long long)r->height, a, b);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    int rc = wicas_chain_restore_install(c, r->txn, r->height, r->root, r->mv.chain_id, r->mv.initial_height);
    if (rc) {
        restore_drop_txn(r);
        wicas_errf(err, errlen, "restore: committing the state failed");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    MDB_txn *t = r->txn;
    r->txn = NULL;
    c->pending = false;
    if (mdb_txn_commit(t)) {
        wicas_errf(err, errlen, "restore: committing the state failed");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    if ((rc = wicas_chain_reload(c))) {
        wicas_errf(err, errlen, "restore: reloading the state: %s", wicas_chain_strerror(rc));
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    return WICAS_CHAIN_RESTORE_ACCEPT;
}

wicas_chain_restore_result wicas_chain_restore_chunk(wicas_chain_restore *r, uint32_t index,
                                                     const uint8_t *chunk, size_t len, bool *done, char *err,
                                                     size_t errlen) {
    *done = false;
    if (!r || !r->txn) {
        wicas_errf(err, errlen, "restore: no snapshot offered");
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    if (index != r->next || index >= r->mv.chunks) {
        wicas_errf(err, errlen, "restore: chunk %u out of order (expected %u of %u)", index, r->next,
                   r->mv.chunks);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    uint8_t h[32];
    wicas_sha256(chunk, len, h);
    if (memcmp(h, r->mv.hashes + 32 * (size_t)index, 32) != 0) {
        wicas_errf(err, errlen, "restore: chunk %u does not match its hash", index);
        return WICAS_CHAIN_RESTORE_RETRY_CHUNK;
    }
    /* matches its hash but is malformed: the snapshot itself is bad */
    uint64_t nk;
    if (check_records(r, chunk, len, &nk) || r->keys + nk > r->mv.n_keys) {
        restore_drop_txn(r);
        wicas_errf(err, errlen, "restore: chunk %u is malformed (records, key order or key count)", index);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    int rc = apply_chunk(r, chunk, len);
    if (rc) {
        restore_drop_txn(r);
        wicas_errf(err, errlen, "restore: writing the state: %s", wicas_chain_strerror(rc));
        return WICAS_CHAIN_RESTORE_ABORT;
    }
    r->keys += nk;
    r->next++;
    held_note(r, sizeof *r + r->meta_len);
    if (r->next < r->mv.chunks) return WICAS_CHAIN_RESTORE_ACCEPT;
    if (r->keys != r->mv.n_keys) {
        restore_drop_txn(r);
        wicas_errf(err, errlen, "restore: %llu keys received, the metadata says %llu",
                   (unsigned long long)r->keys, (unsigned long long)r->mv.n_keys);
        return WICAS_CHAIN_RESTORE_REJECT;
    }
    wicas_chain_restore_result res = install(r, err, errlen);
    if (res == WICAS_CHAIN_RESTORE_ACCEPT) *done = true;
    return res;
}

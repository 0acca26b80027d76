/*
 * store.h — internal to src/chain: the authenticated key/value store.
 *
 * Three pieces, kept apart so each can be tested alone:
 *
 *   1. wstore: the LMDB environment. Four named databases:
 *        "state" key -> value        the latest committed state (fast reads)
 *        "nodes" hash -> node        sparse-Merkle-tree nodes, content addressed
 *        "vals"  SHA-256(v) -> v     values by hash (answers past-height queries)
 *        "meta"  height, app hash, chain id, "root/<height>" -> tree root
 *      A block is ONE write transaction (wstore_begin .. wstore_commit) holding
 *      state, nodes, vals and meta, so a crash leaves the last commit intact.
 *
 *   2. kv: a layered view. The bottom layer reads an LMDB transaction; overlay
 *      layers keep sorted in-memory writes (and deletions) over a parent and can
 *      be merged down (tx succeeded) or dropped (tx failed). Iteration merges
 *      the layers in key order, so contracts see a consistent sorted store.
 *
 *   3. smt: a sparse Merkle tree over SHA-256(key), 256 levels, where a subtree
 *      holding one leaf is that leaf ("shortcut leaf") and an empty subtree is
 *      32 zero bytes. The shape depends only on the set of keys, so the root
 *      is independent of insertion order. Hashes:
 *        leaf     = SHA-256(0x00 || SHA-256(key) || SHA-256(value))
 *        internal = SHA-256(0x01 || left || right)
 *      Updating k keys costs O(k log n) node reads and writes.
 */
#ifndef WICAS_CHAIN_STORE_H
#define WICAS_CHAIN_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wstore {
    MDB_env *env;
    MDB_dbi state, nodes, vals, meta;
    MDB_txn *wtxn; /* the pending block's write transaction, or NULL */
} wstore;

/* Opens dir (created by the caller). Returns 0 or a wicas_chain_err. */
int wicas_wstore_open(const char *dir, size_t map_size, bool no_sync, wstore *s, char *err, size_t errlen);
void wicas_wstore_close(wstore *s);

/* Meta helpers on any transaction. get returns 1 found (malloc'd copy in *v),
 * 0 absent, <0 error. */
int wicas_wstore_meta_get(wstore *s, MDB_txn *txn, const char *key, uint8_t **v, size_t *vl);
int wicas_wstore_meta_put(wstore *s, MDB_txn *txn, const char *key, const void *v, size_t vl);
/* The tree root recorded for height h (0 when none). */
int wicas_wstore_root_at(wstore *s, MDB_txn *txn, int64_t h, uint8_t root[32]);

/* ---- layered views ------------------------------------------------------------ */
typedef struct kv_entry {
    uint8_t *k, *v;
    size_t kl, vl;
    bool del;
} kv_entry;

typedef struct kv {
    struct kv *parent; /* NULL for a base layer */
    /* base layer */
    wstore *s;
    MDB_txn *txn;
    /* overlay layer: entries sorted by key (memcmp order, shorter first) */
    kv_entry *e;
    size_t n, cap;
} kv;

void wicas_kv_init_base(kv *v, wstore *s, MDB_txn *txn);
void wicas_kv_init_overlay(kv *v, kv *parent);
/* Frees an overlay's entries (a base layer owns nothing). */
void wicas_kv_clear(kv *v);

/* 1 found (*val malloc'd, NUL terminated past vl), 0 absent, <0 error. val may
 * be NULL to test existence. */
int wicas_kv_get(kv *v, const uint8_t *k, size_t kl, uint8_t **val, size_t *vl);
/* On an overlay only. Return 0 or ERR_NOMEM. */
int wicas_kv_set(kv *v, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl);
int wicas_kv_del(kv *v, const uint8_t *k, size_t kl);
/* Moves an overlay's entries into its parent overlay and empties it. */
int wicas_kv_merge_down(kv *v);

/* Iteration. wicas_kv_next: the smallest present key >= lo (> lo when !incl);
 * wicas_kv_prev: the largest present key < hi (<= hi when incl; hi NULL = from the
 * end). Return 1 with malloc'd key and value, 0 when there is none, <0 error. */
int wicas_kv_next(kv *v, const uint8_t *lo, size_t lol, bool incl, uint8_t **k, size_t *kl, uint8_t **val,
                  size_t *vl);
int wicas_kv_prev(kv *v, const uint8_t *hi, size_t hil, bool incl, uint8_t **k, size_t *kl, uint8_t **val,
                  size_t *vl);

/* ---- sparse Merkle tree ------------------------------------------------------- */

/* Applies an overlay's entries (sets and deletes) to the state database and the
 * tree in write transaction txn, starting from root `old_root`; writes the new
 * root to new_root. Returns 0 or an error. */
int wicas_smt_apply(wstore *s, MDB_txn *txn, const kv *overlay, const uint8_t old_root[32],
                    uint8_t new_root[32]);

/* Looks key up under root in txn: returns 1 found (*val malloc'd), 0 absent,
 * <0 error. With proof != NULL writes a malloc'd proof (see wicas_smt_verify). */
int wicas_smt_get(wstore *s, MDB_txn *txn, const uint8_t root[32], const uint8_t *key, size_t kl,
                  uint8_t **val, size_t *vl, uint8_t **proof, size_t *proof_len);

/* Checks a proof: value != NULL for inclusion of key->value, NULL for absence.
 * Returns 0, WICAS_CHAIN_ERR_PROOF or WICAS_CHAIN_ERR_INVALID. */
int wicas_smt_verify(const uint8_t root[32], const uint8_t *key, size_t kl, const uint8_t *value, size_t vl,
                     const uint8_t *proof, size_t proof_len);

#endif

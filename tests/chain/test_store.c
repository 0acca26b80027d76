/* test_store.c — the authenticated store on its own: layered views (get, set,
 * delete, merged iteration in both directions), the sparse Merkle tree (root
 * independent of insertion order, deletes restore earlier roots, inclusion and
 * exclusion proofs verify and fail when tampered), and past roots staying
 * readable. Expected roots are not hard-coded: they are compared between two
 * independent constructions of the same set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "chain.h"
#include "common.h"
#include "store.h"

static char dir[256];

static void mkdir_tmp(void) {
    snprintf(dir, sizeof dir, "/tmp/wicas_store_XXXXXX");
    assert_non_null(mkdtemp(dir));
}
static void rm_tmp(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Writes the pairs through an overlay into a fresh write txn from root old. */
static void apply(wstore *s, uint8_t root[32], const char **keys, const char **vals, size_t n, bool commit) {
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &t), 0);
    kv base, ov;
    wicas_kv_init_base(&base, s, t);
    wicas_kv_init_overlay(&ov, &base);
    for (size_t i = 0; i < n; i++) {
        if (vals[i])
            assert_int_equal(wicas_kv_set(&ov, (const uint8_t *)keys[i], strlen(keys[i]),
                                          (const uint8_t *)vals[i], strlen(vals[i])),
                             0);
        else
            assert_int_equal(wicas_kv_del(&ov, (const uint8_t *)keys[i], strlen(keys[i])), 0);
    }
    uint8_t nr[32];
    assert_int_equal(wicas_smt_apply(s, t, &ov, root, nr), 0);
    memcpy(root, nr, 32);
    wicas_kv_clear(&ov);
    if (commit)
        assert_int_equal(mdb_txn_commit(t), 0);
    else
        mdb_txn_abort(t);
}

static void test_overlay_iteration(void **st) {
    (void)st;
    mkdir_tmp();
    wstore s;
    char err[200];
    assert_int_equal(wicas_wstore_open(dir, 64 << 20, true, &s, err, sizeof err), 0);
    uint8_t root[32] = {0};
    const char *k[] = {"a", "b", "c", "d"}, *v[] = {"1", "2", "3", "4"};
    apply(&s, root, k, v, 4, true);

    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(s.env, NULL, MDB_RDONLY, &t), 0);
    kv base, blk, tx;
    wicas_kv_init_base(&base, &s, t);
    wicas_kv_init_overlay(&blk, &base);
    wicas_kv_init_overlay(&tx, &blk);
    assert_int_equal(wicas_kv_del(&blk, (const uint8_t *)"b", 1), 0);
    assert_int_equal(wicas_kv_set(&tx, (const uint8_t *)"bb", 2, (const uint8_t *)"x", 1), 0);
    assert_int_equal(wicas_kv_set(&tx, (const uint8_t *)"c", 1, (const uint8_t *)"33", 2), 0);
    assert_int_equal(wicas_kv_del(&tx, (const uint8_t *)"d", 1), 0);

    /* forward: a, bb, c(33) */
    const char *want[] = {"a", "bb", "c"};
    uint8_t *key, *val;
    size_t kl, vl;
    const uint8_t *lo = NULL;
    size_t lol = 0;
    uint8_t *prev = NULL;
    int i = 0;
    while (wicas_kv_next(&tx, lo, lol, false, &key, &kl, &val, &vl) == 1) {
        assert_true(i < 3);
        assert_int_equal(kl, strlen(want[i]));
        assert_memory_equal(key, want[i], kl);
        if (i == 2) assert_memory_equal(val, "33", 2);
        free(prev);
        free(val);
        prev = key;
        lo = key;
        lol = kl;
        i++;
    }
    free(prev);
    assert_int_equal(i, 3);
    /* backward from the end: c, bb, a */
    const uint8_t *hi = NULL;
    size_t hil = 0;
    prev = NULL;
    i = 2;
    while (wicas_kv_prev(&tx, hi, hil, false, &key, &kl, &val, &vl) == 1) {
        assert_true(i >= 0);
        assert_memory_equal(key, want[i], kl);
        free(prev);
        free(val);
        prev = key;
        hi = key;
        hil = kl;
        i--;
    }
    free(prev);
    assert_int_equal(i, -1);
    /* get through layers */
    assert_int_equal(wicas_kv_get(&tx, (const uint8_t *)"b", 1, NULL, NULL), 0);
    assert_int_equal(wicas_kv_get(&tx, (const uint8_t *)"a", 1, &val, &vl), 1);
    assert_memory_equal(val, "1", 1);
    free(val);
    /* dropping the tx layer restores d */
    wicas_kv_clear(&tx);
    assert_int_equal(wicas_kv_get(&blk, (const uint8_t *)"d", 1, NULL, NULL), 1);
    assert_int_equal(wicas_kv_merge_down(&tx), 0);
    wicas_kv_clear(&blk);
    mdb_txn_abort(t);
    wicas_wstore_close(&s);
    rm_tmp();
}

static void test_smt_order_and_proofs(void **st) {
    (void)st;
    mkdir_tmp();
    wstore s;
    char err[200];
    assert_int_equal(wicas_wstore_open(dir, 256 << 20, true, &s, err, sizeof err), 0);
    enum { N = 300 };
    static char kbuf[N][16], vbuf[N][16];
    const char *k[N], *v[N];
    for (int i = 0; i < N; i++) {
        snprintf(kbuf[i], 16, "key%d", i);
        snprintf(vbuf[i], 16, "val%d", i * 7);
        k[i] = kbuf[i];
        v[i] = vbuf[i];
    }
    /* A: all at once; B: one at a time in reverse order, committed each time */
    uint8_t ra[32] = {0}, rb[32] = {0}, zero[32] = {0};
    apply(&s, ra, k, v, N, true);
    for (int i = N - 1; i >= 0; i--)
        apply(&s, rb, &k[i], &v[i], 1, true);
    assert_memory_equal(ra, rb, 32);
    assert_memory_not_equal(ra, zero, 32);

    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(s.env, NULL, MDB_RDONLY, &t), 0);
    for (int i = 0; i < N; i += 17) {
        uint8_t *val = NULL, *proof = NULL;
        size_t vl = 0, pl = 0;
        assert_int_equal(
            wicas_smt_get(&s, t, ra, (const uint8_t *)k[i], strlen(k[i]), &val, &vl, &proof, &pl), 1);
        assert_int_equal(vl, strlen(v[i]));
        assert_memory_equal(val, v[i], vl);
        assert_int_equal(wicas_smt_verify(ra, (const uint8_t *)k[i], strlen(k[i]), val, vl, proof, pl), 0);
        /* public wrapper agrees */
        assert_int_equal(
            wicas_chain_verify_proof(ra, (const uint8_t *)k[i], strlen(k[i]), val, vl, proof, pl), 0);
        /* wrong value, absence claim, flipped bytes anywhere: all fail */
        assert_int_equal(
            wicas_smt_verify(ra, (const uint8_t *)k[i], strlen(k[i]), (const uint8_t *)"nope", 4, proof, pl),
            WICAS_CHAIN_ERR_PROOF);
        assert_int_not_equal(wicas_smt_verify(ra, (const uint8_t *)k[i], strlen(k[i]), NULL, 0, proof, pl),
                             0);
        for (size_t b = 0; b < pl; b++) {
            proof[b] ^= 0x01;
            assert_int_not_equal(
                wicas_smt_verify(ra, (const uint8_t *)k[i], strlen(k[i]), val, vl, proof, pl), 0);
            proof[b] ^= 0x01;
        }
        uint8_t bad[32];
        memcpy(bad, ra, 32);
        bad[5] ^= 0x80;
        assert_int_equal(wicas_smt_verify(bad, (const uint8_t *)k[i], strlen(k[i]), val, vl, proof, pl),
                         WICAS_CHAIN_ERR_PROOF);
        assert_int_not_equal(
            wicas_smt_verify(ra, (const uint8_t *)k[i], strlen(k[i]), val, vl, proof, pl - 1), 0);
        free(val);
        free(proof);
    }
    /* exclusion proofs for absent keys; both kinds (empty slot / other leaf) occur */
    int kinds[3] = {0};
    for (int i = 0; i < 200; i++) {
        char ak[32];
        snprintf(ak, sizeof ak, "absent%d", i);
        uint8_t *proof = NULL;
        size_t pl = 0;
        assert_int_equal(wicas_smt_get(&s, t, ra, (const uint8_t *)ak, strlen(ak), NULL, NULL, &proof, &pl),
                         0);
        kinds[proof[1]]++;
        assert_int_equal(wicas_smt_verify(ra, (const uint8_t *)ak, strlen(ak), NULL, 0, proof, pl), 0);
        assert_int_equal(
            wicas_smt_verify(ra, (const uint8_t *)ak, strlen(ak), (const uint8_t *)"x", 1, proof, pl),
            WICAS_CHAIN_ERR_PROOF);
        /* an exclusion proof for one key does not prove another present key absent */
        assert_int_not_equal(
            wicas_smt_verify(ra, (const uint8_t *)k[i % N], strlen(k[i % N]), NULL, 0, proof, pl), 0);
        for (size_t b = 2; b < pl; b++) {
            proof[b] ^= 0x10;
            assert_int_not_equal(wicas_smt_verify(ra, (const uint8_t *)ak, strlen(ak), NULL, 0, proof, pl),
                                 0);
            proof[b] ^= 0x10;
        }
        free(proof);
    }
    assert_int_equal(kinds[0], 0);
    assert_true(kinds[1] > 0);
    assert_true(kinds[2] > 0);
    mdb_txn_abort(t);

    /* deleting the second half gives the root of the first half alone */
    uint8_t rc[32] = {0}, rd[32];
    apply(&s, rc, k, v, N / 2, true);
    memcpy(rd, ra, 32);
    const char *dels[N / 2];
    for (int i = 0; i < N / 2; i++)
        dels[i] = NULL;
    apply(&s, rd, &k[N / 2], dels, N / 2, true);
    assert_memory_equal(rc, rd, 32);
    /* deleting everything gives the empty root */
    apply(&s, rd, k, dels, N / 2, true);
    assert_memory_equal(rd, zero, 32);
    /* the old root is still readable (content-addressed nodes) */
    assert_int_equal(mdb_txn_begin(s.env, NULL, MDB_RDONLY, &t), 0);
    uint8_t *val = NULL;
    size_t vl = 0;
    assert_int_equal(
        wicas_smt_get(&s, t, ra, (const uint8_t *)k[N - 1], strlen(k[N - 1]), &val, &vl, NULL, NULL), 1);
    assert_memory_equal(val, v[N - 1], vl);
    free(val);
    /* empty tree: absence proof of depth 0 */
    uint8_t *proof;
    size_t pl;
    assert_int_equal(wicas_smt_get(&s, t, zero, (const uint8_t *)"a", 1, NULL, NULL, &proof, &pl), 0);
    assert_int_equal(wicas_smt_verify(zero, (const uint8_t *)"a", 1, NULL, 0, proof, pl), 0);
    free(proof);
    mdb_txn_abort(t);
    /* single key tree: root is the leaf itself, proof of depth 0 */
    uint8_t r1[32] = {0};
    const char *one = "solo", *onev = "v";
    apply(&s, r1, &one, &onev, 1, false);
    uint8_t kh[32], vh[32], buf[65], leaf[32];
    wicas_sha256(one, 4, kh);
    wicas_sha256(onev, 1, vh);
    buf[0] = 0;
    memcpy(buf + 1, kh, 32);
    memcpy(buf + 33, vh, 32);
    wicas_sha256(buf, 65, leaf);
    assert_memory_equal(r1, leaf, 32);
    /* garbage proofs are rejected as malformed, not crashes */
    uint8_t junk[5] = {1, 0, 0xff, 0xff, 0};
    assert_int_equal(wicas_smt_verify(ra, (const uint8_t *)"a", 1, NULL, 0, junk, sizeof junk),
                     WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_smt_verify(ra, (const uint8_t *)"a", 1, NULL, 0, NULL, 0),
                     WICAS_CHAIN_ERR_INVALID);
    wicas_wstore_close(&s);
    rm_tmp();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlay_iteration),
        cmocka_unit_test(test_smt_order_and_proofs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_snapshot.c — state-sync snapshots (snapshot.c): a chain with real
 * bank sends is snapshotted in small chunks; a fresh chain restores it and
 * ends with the same height, app hash and chain id, and then computes the
 * same next block as the original; a corrupt chunk asks for a refetch and
 * the right one is taken afterwards; a snapshot that does not rebuild the
 * trusted app hash is rejected and leaves the fresh state empty on disk;
 * malformed offers, unknown formats, out-of-order chunks and a non-empty
 * target are refused; only the newest `keep` snapshots stay. */
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

#define N_ACC 20
static uint8_t sks[N_ACC][32];
static char addrs[N_ACC][100];
static uint64_t seqs[N_ACC];

static wicas_chain *open_at(const char *d) {
    wicas_chain_options o = {.no_sync = true, .map_size = 256u << 20};
    wicas_chain *c;
    char err[256];
    if (wicas_chain_open(d, &o, &c, err, sizeof err)) {
        fprintf(stderr, "open %s: %s\n", d, err);
        return NULL;
    }
    return c;
}

/* block h: every account sends 1uwicas to the next (signed afresh) */
static void block(wicas_chain *c, int64_t h, uint8_t hash[32]) {
    uint8_t *txs[N_ACC];
    size_t lens[N_ACC];
    char err[256];
    for (int i = 0; i < N_ACC; i++) {
        wicas_chain_any m;
        assert_int_equal(
            wicas_chain_msg_send(addrs[i], addrs[(i + 1) % N_ACC], "1uwicas", &m, err, sizeof err), 0);
        wicas_chain_tx_params p = {.chain_id = "snap",
                                   .account_number = (uint64_t)i,
                                   .sequence = seqs[i],
                                   .gas_limit = 200000,
                                   .fee = "10uwicas"};
        assert_int_equal(
            wicas_chain_tx_build_sign(sks[i], NULL, &p, &m, 1, &txs[i], &lens[i], err, sizeof err), 0);
        wicas_chain_any_free(&m);
    }
    wicas_chain_block b = {.height = h,
                           .time_seconds = 1000 + h,
                           .txs = (const uint8_t *const *)txs,
                           .tx_lens = lens,
                           .n_txs = N_ACC};
    wicas_chain_tx_result r[N_ACC];
    wicas_chain_event *ev;
    size_t nev;
    assert_int_equal(wicas_chain_finalize_block(c, &b, r, &ev, &nev, hash, err, sizeof err), 0);
    for (int i = 0; i < N_ACC; i++) {
        assert_int_equal(r[i].code, 0);
        wicas_chain_tx_result_free(&r[i]);
        free(txs[i]);
    }
    wicas_chain_events_free(ev, nev);
    assert_int_equal(wicas_chain_commit(c, NULL), 0);
}

static char dir_a[64], dir_b[64];
static wicas_chain *A;

static int setup(void **state) {
    (void)state;
    snprintf(dir_a, sizeof dir_a, "/tmp/wicas_snapA_XXXXXX");
    snprintf(dir_b, sizeof dir_b, "/tmp/wicas_snapB_XXXXXX");
    if (!mkdtemp(dir_a) || !mkdtemp(dir_b)) return -1;
    A = open_at(dir_a);
    if (!A) return -1;
    char g[8192];
    size_t off = (size_t)snprintf(g, sizeof g, "{\"bank\":{\"balances\":[");
    for (int i = 0; i < N_ACC; i++) {
        memset(sks[i], 0, 32);
        sks[i][0] = 0x17;
        sks[i][31] = (uint8_t)(i + 1);
        uint8_t pk[33], a[20];
        wicas_chain_pubkey_from_secret(sks[i], pk);
        wicas_chain_pubkey_address(pk, a);
        wicas_chain_addr_encode(a, 20, addrs[i], 100);
        off += (size_t)snprintf(
            g + off, sizeof g - off,
            "%s{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"1000000\"}]}", i ? "," : "",
            addrs[i]);
    }
    snprintf(g + off, sizeof g - off, "]}}");
    uint8_t h[32];
    char err[256];
    if (wicas_chain_init_chain(A, "snap", 1, g, strlen(g), h, err, sizeof err)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wicas_chain_close(A);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir_a, dir_b);
    return system(cmd) ? -1 : 0;
}

/* Restores snapshot s of A into a fresh chain at dir with trusted hash
 * `trust`; returns the final result of the last step. */
static wicas_chain_restore_result restore(wicas_chain *c, const wicas_chain_snapshot *s,
                                          const uint8_t trust[32]) {
    char err[512];
    wicas_chain_restore *r;
    wicas_chain_restore_result res = wicas_chain_restore_begin(c, s, trust, &r, err, sizeof err);
    if (res != WICAS_CHAIN_RESTORE_ACCEPT) return res;
    bool done = false;
    for (uint32_t i = 0; i < s->chunks; i++) {
        uint8_t *d;
        size_t l;
        assert_int_equal(wicas_chain_snapshot_chunk(A, s->height, s->format, i, &d, &l), 0);
        res = wicas_chain_restore_chunk(r, i, d, l, &done, err, sizeof err);
        free(d);
        if (res != WICAS_CHAIN_RESTORE_ACCEPT) break;
        assert_true(done == (i + 1 == s->chunks));
    }
    wicas_chain_restore_free(r);
    return res;
}

static void test_snapshot_restore(void **state) {
    (void)state;
    char err[512];
    uint8_t h[32];
    for (int64_t height = 1; height <= 3; height++) {
        block(A, height, h);
        for (int i = 0; i < N_ACC; i++)
            seqs[i]++;
    }
    /* small chunks: several of them */
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 512, err, sizeof err), 0);
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 512, err, sizeof err), 0); /* same height: no-op */
    wicas_chain_snapshot *s;
    size_t n;
    assert_int_equal(wicas_chain_snapshot_list(A, &s, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].height, 3);
    assert_int_equal(s[0].format, WICAS_CHAIN_SNAPSHOT_FORMAT);
    assert_true(s[0].chunks > 2);
    uint8_t *d;
    size_t l;
    assert_int_equal(wicas_chain_snapshot_chunk(A, 3, s[0].format, s[0].chunks, &d, &l),
                     WICAS_CHAIN_ERR_NOT_FOUND);
    assert_int_equal(wicas_chain_snapshot_chunk(A, 3, 99, 0, &d, &l), WICAS_CHAIN_ERR_NOT_FOUND);
    int64_t ha;
    uint8_t hash_a[32];
    wicas_chain_info(A, &ha, hash_a);

    /* a wrong trusted hash: every chunk fine, the root differs -> rejected,
     * and nothing was written (the fresh state is still empty on disk) */
    wicas_chain *B = open_at(dir_b);
    assert_non_null(B);
    uint8_t wrong[32];
    memcpy(wrong, hash_a, 32);
    wrong[0] ^= 1;
    assert_int_equal(restore(B, &s[0], wrong), WICAS_CHAIN_RESTORE_REJECT);
    int64_t hb;
    uint8_t hash_b[32];
    wicas_chain_info(B, &hb, hash_b);
    assert_int_equal(hb, 0);
    wicas_chain_close(B);
    B = open_at(dir_b);
    wicas_chain_info(B, &hb, hash_b);
    assert_int_equal(hb, 0);
    assert_string_equal(wicas_chain_id(B), "");

    /* refused offers */
    wicas_chain_restore *r;
    wicas_chain_snapshot bad = s[0];
    bad.format = 2;
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT_FORMAT);
    assert_null(r);
    bad = s[0];
    bad.hash[5] ^= 0x40; /* metadata no longer matches the hash */
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    bad = s[0];
    bad.chunks++;
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    bad = s[0];
    bad.metadata_len = 10;
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    assert_int_equal(wicas_chain_restore_begin(A, &s[0], hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ABORT);

    /* out of order, then a corrupt chunk (refetch), then the real restore */
    bool done = false;
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    assert_int_equal(wicas_chain_snapshot_chunk(A, 3, s[0].format, 1, &d, &l), 0);
    assert_int_equal(wicas_chain_restore_chunk(r, 1, d, l, &done, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    free(d);
    wicas_chain_restore_free(r);
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    for (uint32_t i = 0; i < s[0].chunks; i++) {
        assert_int_equal(wicas_chain_snapshot_chunk(A, 3, s[0].format, i, &d, &l), 0);
        if (i == 1) {
            d[l / 2] ^= 0x01;
            assert_int_equal(wicas_chain_restore_chunk(r, i, d, l, &done, err, sizeof err),
                             WICAS_CHAIN_RESTORE_RETRY_CHUNK);
            assert_non_null(strstr(err, "does not match its hash"));
            d[l / 2] ^= 0x01;
        }
        assert_int_equal(wicas_chain_restore_chunk(r, i, d, l, &done, err, sizeof err),
                         WICAS_CHAIN_RESTORE_ACCEPT);
        free(d);
    }
    assert_true(done);
    wicas_chain_restore_free(r);
    wicas_chain_info(B, &hb, hash_b);
    assert_int_equal(hb, ha);
    assert_memory_equal(hash_b, hash_a, 32);
    assert_string_equal(wicas_chain_id(B), "snap");
    /* it survives a reopen, and both chains compute the same next block */
    wicas_chain_close(B);
    B = open_at(dir_b);
    wicas_chain_info(B, &hb, hash_b);
    assert_int_equal(hb, ha);
    assert_memory_equal(hash_b, hash_a, 32);
    uint8_t na[32], nb[32];
    block(A, 4, na);
    block(B, 4, nb);
    assert_memory_equal(na, nb, 32);
    for (int i = 0; i < N_ACC; i++)
        seqs[i]++;
    wicas_chain_close(B);
    wicas_chain_snapshots_free(s, n);

    /* keep: only the newest stay */
    block(A, 5, na);
    for (int i = 0; i < N_ACC; i++)
        seqs[i]++;
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 0, err, sizeof err), 0);
    block(A, 6, na);
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 0, err, sizeof err), 0);
    assert_int_equal(wicas_chain_snapshot_list(A, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].height, 6);
    assert_int_equal(s[1].height, 5);
    assert_int_equal(s[0].chunks, 1); /* default chunk size holds the whole small state */
    wicas_chain_snapshots_free(s, n);
    /* an empty block leaves the state as it was: the snapshot still differs
     * in hash (the height is in the metadata) */
    wicas_chain_block eb = {.height = 7, .time_seconds = 1007};
    wicas_chain_event *ev;
    size_t nev;
    assert_int_equal(wicas_chain_finalize_block(A, &eb, NULL, &ev, &nev, na, err, sizeof err), 0);
    wicas_chain_events_free(ev, nev);
    assert_int_equal(wicas_chain_commit(A, NULL), 0);
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 0, err, sizeof err), 0);
    assert_int_equal(wicas_chain_snapshot_list(A, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].height, 7);
    assert_memory_not_equal(s[0].hash, s[1].hash, 32);
    assert_memory_equal(s[0].metadata + 12, s[1].metadata + 12, s[0].metadata_len - 12); /* same content */
    wicas_chain_snapshots_free(s, n);
    assert_int_equal(wicas_chain_snapshot_take(A, 0, 0, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_restore, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_snapshot.c — state-sync snapshots (snapshot.c): a chain with real
 * bank sends is snapshotted in small chunks; a fresh chain restores it and
 * ends with the same height, app hash and chain id, and then computes the
 * same next block as the original; a corrupt chunk asks for a refetch and
 * the right one is taken afterwards; a snapshot that does not rebuild the
 * trusted app hash is rejected and leaves the fresh state empty on disk;
 * malformed offers, unknown formats, out-of-order chunks and a non-empty
 * target are refused; a forged snapshot (chain id or initial height
 * changed, hash recomputed) is refused against the node's genesis even with
 * the real app hash; a restore of many chunks holds none of them (its peak
 * stays within WICAS_CHAIN_RESTORE_HELD_MAX over the metadata); only the
 * newest `keep` snapshots stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>
#include <cmocka.h>

#include "chain.h"
#include "client.h"
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
    wicas_chain_restore_result res = wicas_chain_restore_begin(c, s, trust, "snap", 1, &r, err, sizeof err);
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
    /* tiny chunks: about one record each, so many of them */
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 64, err, sizeof err), 0);
    assert_int_equal(wicas_chain_snapshot_take(A, 2, 64, err, sizeof err), 0); /* same height: no-op */
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
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT_FORMAT);
    assert_null(r);
    bad = s[0];
    bad.hash[5] ^= 0x40; /* metadata no longer matches the hash */
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    bad = s[0];
    bad.chunks++;
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    bad = s[0];
    bad.metadata_len = 10;
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    assert_int_equal(wicas_chain_restore_begin(A, &s[0], hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ABORT);

    /* forged metadata: the chain id (or initial height) changed and the hash
     * recomputed, as a peer can, offered against the REAL trusted app hash
     * (the chain id is not in the root): refused against this node's genesis */
    uint8_t *fm = malloc(s[0].metadata_len + 1);
    assert_non_null(fm);
    memcpy(fm, s[0].metadata, s[0].metadata_len);
    assert_memory_equal(fm + 30, "snap", 4); /* chain id after the 30-byte head */
    fm[30 + 3] = 'x';                        /* "snax" */
    bad = s[0];
    bad.metadata = fm;
    wicas_sha256(fm, bad.metadata_len, bad.hash);
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    assert_null(r);
    assert_non_null(strstr(err, "genesis"));
    /* the same forgery is what a node of chain "snax" would accept: the check
     * is against the node's genesis, not a constant */
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snax", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    wicas_chain_restore_free(r);
    memcpy(fm, s[0].metadata, s[0].metadata_len);
    fm[27] = 5; /* initial height 1 -> 5 (u64 BE at offset 20) */
    wicas_sha256(fm, bad.metadata_len, bad.hash);
    assert_int_equal(wicas_chain_restore_begin(B, &bad, hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    assert_null(r);
    free(fm);
    /* a node that does not know its genesis refuses to restore at all */
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, NULL, 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ABORT);
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, "", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ABORT);
    wicas_chain_info(B, &hb, hash_b);
    assert_int_equal(hb, 0);

    /* out of order, then a corrupt chunk (refetch), then the real restore */
    bool done = false;
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    assert_int_equal(wicas_chain_snapshot_chunk(A, 3, s[0].format, 1, &d, &l), 0);
    assert_int_equal(wicas_chain_restore_chunk(r, 1, d, l, &done, err, sizeof err),
                     WICAS_CHAIN_RESTORE_REJECT);
    free(d);
    wicas_chain_restore_free(r);
    assert_int_equal(wicas_chain_restore_begin(B, &s[0], hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    /* while a restore is open nothing else may write: InitChain, a block,
     * Commit and a snapshot refuse (CometBFT never sends them then) */
    {
        uint8_t gh[32];
        assert_int_equal(wicas_chain_init_chain(B, "snap", 1, "{}", 2, gh, err, sizeof err),
                         WICAS_CHAIN_ERR_STATE);
        wicas_chain_block b1 = {.height = 1, .time_seconds = 1001};
        wicas_chain_event *ev1;
        size_t nev1;
        assert_int_equal(wicas_chain_finalize_block(B, &b1, NULL, &ev1, &nev1, gh, err, sizeof err),
                         WICAS_CHAIN_ERR_STATE);
        assert_int_equal(wicas_chain_commit(B, NULL), WICAS_CHAIN_ERR_STATE);
        assert_int_equal(wicas_chain_snapshot_take(B, 1, 0, err, sizeof err), WICAS_CHAIN_ERR_STATE);
    }
    size_t total = 0;
    for (uint32_t i = 0; i < s[0].chunks; i++) {
        assert_int_equal(wicas_chain_snapshot_chunk(A, 3, s[0].format, i, &d, &l), 0);
        total += l;
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
    /* memory: chunks are written as they arrive, none is kept; the restore
     * held at most its bound over the metadata, less than the chunks' total
     * (which the old code held until the last chunk) */
    assert_true(s[0].chunks > 20);
    assert_true(wicas_chain_restore_held_peak(r) <= WICAS_CHAIN_RESTORE_HELD_MAX + s[0].metadata_len);
    (void)total;
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

/* Memory: a state of 4000 accounts (about 0.5 MB of records) in 1 KiB
 * chunks; each chunk is written as it arrives and none is kept, so the
 * restore's peak stays within WICAS_CHAIN_RESTORE_HELD_MAX over the metadata,
 * far below the chunks' total (which the restore used to hold until the last
 * chunk). The heap growth is printed, not asserted (LMDB's dirty pages). */
#define BIG_ACC 4000
static void test_snapshot_memory_bounded(void **state) {
    (void)state;
    char da[64], db[64], err[512];
    snprintf(da, sizeof da, "/tmp/wicas_snapMA_XXXXXX");
    snprintf(db, sizeof db, "/tmp/wicas_snapMB_XXXXXX");
    assert_non_null(mkdtemp(da));
    assert_non_null(mkdtemp(db));
    wicas_chain *a = open_at(da), *b = open_at(db);
    assert_non_null(a);
    assert_non_null(b);
    size_t cap = (size_t)BIG_ACC * 140 + 64, off = 0;
    char *g = malloc(cap);
    assert_non_null(g);
    off += (size_t)snprintf(g + off, cap - off, "{\"bank\":{\"balances\":[");
    for (int i = 0; i < BIG_ACC; i++) {
        uint8_t raw[20] = {0x5a};
        raw[18] = (uint8_t)(i >> 8), raw[19] = (uint8_t)i;
        char addr[100];
        wicas_chain_addr_encode(raw, 20, addr, sizeof addr);
        off += (size_t)snprintf(g + off, cap - off,
                                "%s{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"%d\"}]}",
                                i ? "," : "", addr, 1000 + i);
    }
    snprintf(g + off, cap - off, "]}}");
    uint8_t h[32];
    assert_int_equal(wicas_chain_init_chain(a, "snap", 1, g, strlen(g), h, err, sizeof err), 0);
    free(g);
    wicas_chain_block eb = {.height = 1, .time_seconds = 1001};
    wicas_chain_event *ev;
    size_t nev;
    assert_int_equal(wicas_chain_finalize_block(a, &eb, NULL, &ev, &nev, h, err, sizeof err), 0);
    wicas_chain_events_free(ev, nev);
    assert_int_equal(wicas_chain_commit(a, NULL), 0);
    assert_int_equal(wicas_chain_snapshot_take(a, 1, 1024, err, sizeof err), 0);
    wicas_chain_snapshot *s;
    size_t n;
    assert_int_equal(wicas_chain_snapshot_list(a, &s, &n), 0);
    assert_int_equal(n, 1);
    int64_t ha;
    uint8_t hash_a[32];
    wicas_chain_info(a, &ha, hash_a);

    wicas_chain_restore *r;
    assert_int_equal(wicas_chain_restore_begin(b, &s[0], hash_a, "snap", 1, &r, err, sizeof err),
                     WICAS_CHAIN_RESTORE_ACCEPT);
    struct mallinfo2 m0 = mallinfo2();
    size_t total = 0, heap_peak = 0;
    bool done = false;
    for (uint32_t i = 0; i < s[0].chunks; i++) {
        uint8_t *d;
        size_t l;
        assert_int_equal(wicas_chain_snapshot_chunk(a, s[0].height, s[0].format, i, &d, &l), 0);
        total += l;
        assert_int_equal(wicas_chain_restore_chunk(r, i, d, l, &done, err, sizeof err),
                         WICAS_CHAIN_RESTORE_ACCEPT);
        free(d);
        struct mallinfo2 m = mallinfo2();
        if (m.uordblks > m0.uordblks && m.uordblks - m0.uordblks > heap_peak)
            heap_peak = m.uordblks - m0.uordblks;
    }
    assert_true(done);
    size_t peak = wicas_chain_restore_held_peak(r);
    printf("restore of %u chunks, %zu bytes of records: the restore held at most %zu bytes (metadata %zu, "
           "bound %u + metadata); heap growth during the restore %zu bytes\n",
           s[0].chunks, total, peak, s[0].metadata_len, WICAS_CHAIN_RESTORE_HELD_MAX, heap_peak);
    assert_true(s[0].chunks > 200);
    assert_true(peak <= WICAS_CHAIN_RESTORE_HELD_MAX + s[0].metadata_len);
    assert_true(total > 10 * (WICAS_CHAIN_RESTORE_HELD_MAX + s[0].metadata_len));
    wicas_chain_restore_free(r);
    int64_t hb;
    uint8_t hash_b[32];
    wicas_chain_info(b, &hb, hash_b);
    assert_int_equal(hb, ha);
    assert_memory_equal(hash_b, hash_a, 32);
    wicas_chain_snapshots_free(s, n);
    wicas_chain_close(a);
    wicas_chain_close(b);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", da, db);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_restore, setup, teardown),
        cmocka_unit_test(test_snapshot_memory_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_crash.c — crash safety: a child process applies blocks (with real
 * bank-send txs) to the LMDB state and is killed with SIGKILL at random
 * moments, in a loop, each time resuming from what is on disk. After every
 * kill the parent reopens the state and checks that
 *   - the height is the last committed one, or the one whose commit had just
 *     been started (the commit is one atomic LMDB transaction), and
 *   - the app hash at that height equals the hash an uninterrupted reference
 *     run computes for the same height (nothing half-written, nothing lost).
 * The child reports "F <h> <hash>" before Commit and "C <h>" after it through
 * a pipe. Kill times come from a fixed-seed PRNG (test only). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "chain.h"
#include "client.h"
#include "common.h"

#define MAX_H 4000
static char dir[64], refdir[64];
static uint8_t sk[32];
static char alice[100], bob[100];
static uint8_t ref_hash[MAX_H + 1][32];
static int64_t ref_height;
static wicas_chain *ref;

static wicas_chain *open_at(const char *d, bool nosync) {
    wicas_chain_options o = {.no_sync = nosync, .map_size = 512u << 20};
    wicas_chain *c;
    char err[256];
    if (wicas_chain_open(d, &o, &c, err, sizeof err)) {
        fprintf(stderr, "open %s: %s\n", d, err);
        return NULL;
    }
    return c;
}

/* Applies block h (two deterministic sends) and returns finalize's hash. */
static int apply_block(wicas_chain *c, int64_t h, uint8_t hash[32]) {
    uint8_t *txs[2];
    size_t lens[2];
    char err[256];
    for (int i = 0; i < 2; i++) {
        wicas_chain_any m;
        if (wicas_chain_msg_send(alice, bob, i ? "2uwicas" : "1uwicas", &m, err, sizeof err)) return -1;
        wicas_chain_tx_params p = {.chain_id = "crash",
                                   .sequence = (uint64_t)(2 * (h - 1) + i),
                                   .gas_limit = 200000,
                                   .fee = "10uwicas"};
        if (wicas_chain_tx_build_sign(sk, NULL, &p, &m, 1, &txs[i], &lens[i], err, sizeof err)) return -1;
        wicas_chain_any_free(&m);
    }
    wicas_chain_block b = {.height = h,
                           .time_seconds = 1000 + h,
                           .txs = (const uint8_t *const *)txs,
                           .tx_lens = lens,
                           .n_txs = 2};
    wicas_chain_tx_result r[2];
    memset(r, 0, sizeof r);
    wicas_chain_event *ev;
    size_t nev;
    int rc = wicas_chain_finalize_block(c, &b, r, &ev, &nev, hash, err, sizeof err);
    for (int i = 0; i < 2; i++) {
        if (!rc && r[i].code) {
            fprintf(stderr, "block %lld tx %d: %s\n", (long long)h, i, r[i].log);
            rc = -1;
        }
        wicas_chain_tx_result_free(&r[i]);
        free(txs[i]);
    }
    if (rc == 0) wicas_chain_events_free(ev, nev);
    return rc;
}

static int init(wicas_chain *c) {
    char g[300];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000000\"}]}]}}",
             alice);
    uint8_t h[32];
    char err[256];
    return wicas_chain_init_chain(c, "crash", 1, g, strlen(g), h, err, sizeof err);
}

static void ref_upto(int64_t h) {
    while (ref_height < h) {
        ref_height++;
        assert_int_equal(apply_block(ref, ref_height, ref_hash[ref_height]), 0);
        assert_int_equal(wicas_chain_commit(ref, NULL), 0);
    }
}

static void child(int fd) {
    wicas_chain *c = open_at(dir, false);
    if (!c) _exit(3);
    int64_t h;
    uint8_t hash[32];
    wicas_chain_info(c, &h, hash);
    if (h == 0 && init(c)) _exit(4);
    for (int64_t n = h + 1; n <= MAX_H; n++) {
        if (apply_block(c, n, hash)) _exit(5);
        char line[100], hx[65];
        wicas_hex_encode(hash, 32, hx);
        int len = snprintf(line, sizeof line, "F %lld %s\n", (long long)n, hx);
        if (write(fd, line, (size_t)len) != len) _exit(6);
        if (wicas_chain_commit(c, NULL)) _exit(7);
        len = snprintf(line, sizeof line, "C %lld\n", (long long)n);
        if (write(fd, line, (size_t)len) != len) _exit(6);
    }
    wicas_chain_close(c);
    _exit(0);
}

static void test_kill_loop(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/wicas_crash_XXXXXX");
    snprintf(refdir, sizeof refdir, "/tmp/wicas_crashref_XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(refdir));
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(0x11 + i);
    uint8_t pk[33], a[20];
    assert_int_equal(wicas_chain_pubkey_from_secret(sk, pk), 0);
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, alice, sizeof alice);
    memset(a, 0xB0, 20);
    wicas_chain_addr_encode(a, 20, bob, sizeof bob);
    ref = open_at(refdir, true);
    assert_non_null(ref);
    assert_int_equal(init(ref), 0);

    srand(12345);
    int64_t last_seen = 0;
    int mid_commit = 0, at_commit = 0;
    const int iters = 20;
    for (int it = 0; it < iters; it++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(p[1]);
        }
        close(p[1]);
        /* 2..40 ms of work, then SIGKILL */
        struct timespec ts = {0, (long)(2 + rand() % 39) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        /* read the child's log */
        FILE *f = fdopen(p[0], "r");
        char line[128];
        int64_t committed = last_seen, finalizing = 0;
        char fin_hash[65] = "";
        while (fgets(line, sizeof line, f)) {
            long long h;
            char hx[65];
            if (sscanf(line, "F %lld %64s", &h, hx) == 2) {
                finalizing = h;
                memcpy(fin_hash, hx, 65);
            } else if (sscanf(line, "C %lld", &h) == 1) {
                committed = h;
                finalizing = 0;
            }
        }
        fclose(f);
        /* reopen: height is the last commit, or the one being committed */
        wicas_chain *c = open_at(dir, false);
        assert_non_null(c);
        int64_t h;
        uint8_t hash[32];
        wicas_chain_info(c, &h, hash);
        wicas_chain_close(c);
        if (h != committed) {
            assert_int_equal(h, finalizing);
            at_commit++;
            char hx[65];
            wicas_hex_encode(hash, 32, hx);
            assert_string_equal(hx, fin_hash);
        } else if (finalizing) {
            mid_commit++;
        }
        assert_true(h >= last_seen);
        assert_true(h < MAX_H);
        if (h > 0) {
            ref_upto(h);
            assert_memory_equal(hash, ref_hash[h], 32);
        }
        last_seen = h;
    }
    fprintf(stderr,
            "crash loop: %d kills, reached height %lld, %d kills between finalize and commit "
            "(%d of them after the commit landed)\n",
            iters, (long long)last_seen, mid_commit + at_commit, at_commit);
    assert_true(last_seen > 0);
    wicas_chain_close(ref);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, refdir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_loop)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

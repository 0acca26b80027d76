/*
 * test_abci_devnet.c — four CometBFT v0.38 validators on loopback, made by
 * `wicasd devnet init --validators 4` (one shared genesis, persistent peers,
 * distinct ports), each driving its own key/value test app through our ABCI
 * server in this process:
 *   - all four produce blocks and every node reports the same app hash at
 *     every height (also equal to what each app computed);
 *   - with one validator stopped the other three keep producing blocks;
 *   - restarted, it catches up and reports the same hashes.
 * This checks the devnet wiring and the server under real multi-validator
 * consensus (vote extensions from every validator included) independently of
 * the chain module; tests/integration repeats it with the real application.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abci.h"
#include "common.h"
#include "kvapp.h"
#include "node.h"
#include "rpc.h"
#include "test_ports.h"

#define N 4

typedef struct {
    char dir[256];
    char home[N][300];
    char rpc[N][64];
    char abci[N][64];
    kvapp *kv[N];
    wicas_abci_app app[N];
    wicas_abci_server *srv[N];
    wicas_node_child *child[N];
} fixture;

static void start_one(fixture *f, int i) {
    char err[512], log[400];
    f->srv[i] = wicas_abci_server_new(f->abci[i], &f->app[i], err, sizeof err);
    if (!f->srv[i]) fail_msg("node%d: %s", i, err);
    assert_int_equal(wicas_abci_server_start(f->srv[i]), 0);
    snprintf(log, sizeof log, "%s/cometbft.log", f->home[i]);
    f->child[i] = wicas_node_cometbft_start(f->home[i], "error", "cometbft", log, err, sizeof err);
    if (!f->child[i]) fail_msg("node%d: %s", i, err);
}

static void stop_one(fixture *f, int i) {
    if (f->child[i]) wicas_node_child_stop(f->child[i], 5000);
    f->child[i] = NULL;
    if (f->srv[i]) wicas_abci_server_free(f->srv[i]);
    f->srv[i] = NULL;
}

static int64_t height_of(fixture *f, int i) {
    cJSON *st = NULL;
    char err[256];
    if (wicas_rpc_status(f->rpc[i], &st, err, sizeof err) != 0) return -1;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "sync_info"),
                                                "latest_block_height");
    int64_t v = cJSON_IsString(h) ? atoll(h->valuestring) : -1;
    cJSON_Delete(st);
    return v;
}

static void wait_all(fixture *f, const bool *which, int64_t want, int timeout_ms) {
    for (int t = 0; t < timeout_ms; t += 100) {
        bool ok = true;
        for (int i = 0; i < N; i++)
            if (which[i] && height_of(f, i) < want) ok = false;
        if (ok) return;
        wicas_node_sleep_ms(100);
    }
    for (int i = 0; i < N; i++)
        fprintf(stderr, "node%d height %lld\n", i, (long long)height_of(f, i));
    fail_msg("height %lld not reached in %d ms (homes in %s)", (long long)want, timeout_ms, f->dir);
}

/* Header app_hash of block h on node i (hex, upper case) into out[65]. */
static void app_hash_at(fixture *f, int i, int64_t h, char out[65]) {
    char q[64], err[256];
    snprintf(q, sizeof q, "height=%lld", (long long)h);
    cJSON *b = NULL;
    if (wicas_rpc_get(f->rpc[i], "block", q, &b, err, sizeof err) != 0) fail_msg("node%d: %s", i, err);
    cJSON *ah = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "block"), "header"), "app_hash");
    assert_true(cJSON_IsString(ah));
    snprintf(out, 65, "%s", ah->valuestring);
    cJSON_Delete(b);
}

/* Every node in `which` has the same header app hash for heights 2..upto,
 * and it equals what node i's app committed at h-1. */
static void check_hashes(fixture *f, const bool *which, int64_t upto) {
    for (int64_t h = 2; h <= upto; h++) {
        char first[65] = "";
        for (int i = 0; i < N; i++) {
            if (!which[i]) continue;
            char a[65];
            app_hash_at(f, i, h, a);
            if (!first[0]) snprintf(first, sizeof first, "%s", a);
            if (strcmp(a, first) != 0)
                fail_msg("height %lld: node%d app hash %s != %s", (long long)h, i, a, first);
            char mine[65];
            wicas_hex_encode(f->kv[i]->hash_at[h - 1], 32, mine);
            for (char *p = mine; *p; p++)
                if (*p >= 'a') *p = (char)(*p - 'a' + 'A');
            if (strcmp(a, mine) != 0)
                fail_msg("height %lld: node%d header %s but its app committed %s", (long long)h, i, a, mine);
        }
    }
}

static int setup(void **state) {
    const char *bd = getenv("WICAS_BUILD_DIR");
    if (!bd || !getenv("WICAS_COMETBFT")) return -1;
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/wicas-abci-devnet-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    int base = wicas_test_port_block(); /* held until this test exits: see test_ports.h */
    if (base < 0) {
        fprintf(stderr, "no free block of loopback ports\n");
        return -1;
    }
    char cmd[1024];
    snprintf(
        cmd, sizeof cmd,
        "'%s/bin/wicasd' devnet init --validators %d --home '%s/net' --base-port %d --timeout-commit 150 "
        "--chain-id kv-devnet --no-model >'%s/init.log' 2>&1",
        bd, N, f->dir, base, f->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "wicasd devnet init failed (%s/init.log)\n", f->dir);
        return -1;
    }
    char path[400];
    snprintf(path, sizeof path, "%s/net/devnet.json", f->dir);
    size_t len;
    char *text = (char *)wicas_read_file(path, 1 << 20, &len);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(j, "nodes");
    if (cJSON_GetArraySize(nodes) != N) return -1;
    char dir[256];
    memcpy(dir, f->dir, sizeof dir);
    for (int i = 0; i < N; i++) {
        cJSON *o = cJSON_GetArrayItem(nodes, i);
        snprintf(f->home[i], sizeof f->home[i], "%s/net/node%d", dir, i);
        snprintf(f->rpc[i], sizeof f->rpc[i], "tcp://127.0.0.1:%d",
                 cJSON_GetObjectItemCaseSensitive(o, "rpc")->valueint);
        snprintf(f->abci[i], sizeof f->abci[i], "tcp://127.0.0.1:%d",
                 cJSON_GetObjectItemCaseSensitive(o, "abci")->valueint);
        f->kv[i] = calloc(1, sizeof *f->kv[i]);
        kvapp_init(f->kv[i], &f->app[i]);
    }
    cJSON_Delete(j);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    for (int i = 0; i < N; i++)
        stop_one(f, i);
    if (!getenv("WICAS_KEEP_HOME")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    }
    for (int i = 0; i < N; i++)
        free(f->kv[i]);
    free(f);
    return 0;
}

static void test_four_validators(void **state) {
    fixture *f = *state;
    bool all[N] = {true, true, true, true};
    for (int i = 0; i < N; i++)
        start_one(f, i);
    wait_all(f, all, 4, 60000);

    /* A tx through node 1 reaches every app. */
    const char *tx = "color=blue";
    cJSON *res = NULL;
    char err[512];
    if (wicas_rpc_broadcast_tx(f->rpc[1], (const uint8_t *)tx, strlen(tx), true, &res, err, sizeof err) != 0)
        fail_msg("%s", err);
    int64_t txh = atoll(cJSON_GetObjectItemCaseSensitive(res, "height")->valuestring);
    cJSON_Delete(res);
    wait_all(f, all, txh + 2, 30000);
    for (int i = 0; i < N; i++) {
        assert_int_equal(f->kv[i]->n_init, 1);
        assert_true(f->kv[i]->n_verify > 0); /* others' vote extensions were verified */
    }
    check_hashes(f, all, txh + 2);

    /* Stop node 3: 30 of 40 voting power remains (> 2/3): blocks go on. */
    stop_one(f, 3);
    bool three[N] = {true, true, true, false};
    int64_t h0 = height_of(f, 0);
    wait_all(f, three, h0 + 3, 30000);

    /* Restart node 3: it catches up to the others with the same hashes. */
    start_one(f, 3);
    int64_t target = height_of(f, 0) + 1;
    wait_all(f, all, target, 60000);
    check_hashes(f, all, target);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_four_validators, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

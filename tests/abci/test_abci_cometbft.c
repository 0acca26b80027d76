/*
 * test_abci_cometbft.c — a REAL CometBFT v0.38 node ($WICAS_COMETBFT) drives
 * the key/value test app through our socket server:
 *   - blocks are produced (every ABCI 2.0 call is exercised, vote extensions
 *     enabled from height 1, and our own extension comes back to us in the
 *     next PrepareProposal);
 *   - a tx broadcast over JSON-RPC (src/cli/rpc.c) lands in a block, and the
 *     value is visible through abci_query;
 *   - the app hash our FinalizeBlock returned for height H is the app_hash in
 *     the header of block H+1;
 *   - after stopping both cometbft and the server, a restart resumes at the
 *     committed height (Info handshake, no second InitChain) and goes on.
 * Child processes are always stopped, also when an assertion fails.
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

typedef struct {
    char home[256];
    char node[64];
    char abci_addr[64];
    wicas_node_ports ports;
    kvapp *kv;
    wicas_abci_app app;
    wicas_abci_server *srv;
    wicas_node_child *child;
} fixture;

static void start_node(fixture *f) {
    char err[512];
    f->srv = wicas_abci_server_new(f->abci_addr, &f->app, err, sizeof err);
    if (!f->srv) fail_msg("%s", err);
    assert_int_equal(wicas_abci_server_start(f->srv), 0);
    char log[300];
    snprintf(log, sizeof log, "%s/cometbft.log", f->home);
    f->child = wicas_node_cometbft_start(f->home, "error", "cometbft", log, err, sizeof err);
    if (!f->child) fail_msg("%s", err);
}

static void stop_node(fixture *f) {
    if (f->child) wicas_node_child_stop(f->child, 5000);
    f->child = NULL;
    if (f->srv) wicas_abci_server_free(f->srv);
    f->srv = NULL;
}

static int64_t latest_height(fixture *f) {
    cJSON *st = NULL;
    char err[256];
    if (wicas_rpc_status(f->node, &st, err, sizeof err) != 0) return -1;
    cJSON *si = cJSON_GetObjectItemCaseSensitive(st, "sync_info");
    cJSON *h = cJSON_GetObjectItemCaseSensitive(si, "latest_block_height");
    int64_t v = cJSON_IsString(h) ? atoll(h->valuestring) : -1;
    cJSON_Delete(st);
    return v;
}

static void wait_height(fixture *f, int64_t want, int timeout_ms) {
    for (int t = 0; t < timeout_ms; t += 100) {
        if (latest_height(f) >= want) return;
        if (f->child && wicas_node_child_exited(f->child, NULL))
            fail_msg("cometbft exited early (see %s/cometbft.log)", f->home);
        wicas_node_sleep_ms(100);
    }
    fail_msg("height %lld not reached in %d ms (at %lld; log in %s)", (long long)want, timeout_ms,
             (long long)latest_height(f), f->home);
}

/* app_hash of block h's header, as raw bytes. */
static void header_app_hash(fixture *f, int64_t h, uint8_t out[32]) {
    char q[64];
    snprintf(q, sizeof q, "height=%lld", (long long)h);
    cJSON *b = NULL;
    char err[256];
    if (wicas_rpc_get(f->node, "block", q, &b, err, sizeof err) != 0) fail_msg("%s", err);
    cJSON *hdr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "block"), "header");
    cJSON *ah = cJSON_GetObjectItemCaseSensitive(hdr, "app_hash");
    assert_true(cJSON_IsString(ah));
    assert_int_equal(strlen(ah->valuestring), 64);
    assert_int_equal(wicas_hex_decode(ah->valuestring, out, 32), 0);
    cJSON_Delete(b);
}

static int setup(void **state) {
    const char *cb = getenv("WICAS_COMETBFT");
    if (!cb || access(cb, X_OK) != 0) {
        fprintf(stderr, "WICAS_COMETBFT not set or not executable\n");
        return -1;
    }
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->home, sizeof f->home, "/tmp/wicas-abci-cbft-XXXXXX");
    if (!mkdtemp(f->home)) return -1;
    char err[512];
    if (wicas_node_cometbft_init(f->home, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    int base = wicas_test_port_block(); /* held until this test exits: see test_ports.h */
    if (base < 0) {
        fprintf(stderr, "no free block of loopback ports\n");
        return -1;
    }
    f->ports.p2p = base;
    f->ports.rpc = base + 1;
    f->ports.abci = base + 2;
    snprintf(f->node, sizeof f->node, "tcp://127.0.0.1:%d", f->ports.rpc);
    snprintf(f->abci_addr, sizeof f->abci_addr, "tcp://127.0.0.1:%d", f->ports.abci);
    wicas_node_config cfg = {
        .moniker = "abci-test", .ports = f->ports, .timeout_commit_ms = 150, .fast = true};
    if (wicas_node_configure(f->home, &cfg, err, sizeof err) != 0 ||
        wicas_node_genesis_edit(f->home, "kv-test-1", NULL, 1, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->kv = calloc(1, sizeof *f->kv);
    kvapp_init(f->kv, &f->app);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    stop_node(f);
    char cmd[400];
    if (getenv("WICAS_KEEP_HOME") == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->home);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->home);
    } else {
        fprintf(stderr, "home kept: %s\n", f->home);
    }
    free(f->kv);
    free(f);
    return 0;
}

static void test_real_cometbft(void **state) {
    fixture *f = *state;
    kvapp *kv = f->kv;
    start_node(f);
    wait_height(f, 3, 30000);
    assert_int_equal(kv->n_init, 1);
    assert_string_equal(kv->chain_id, "kv-test-1");
    assert_true(kv->n_info >= 1);
    assert_true(kv->n_prepare >= 3 && kv->n_process >= 3 && kv->n_finalize >= 3 && kv->n_commit >= 3);
    assert_true(kv->n_extend >= 2);
    assert_true(kv->n_prepare_ext_seen >= 1); /* our extension came back in local_last_commit */

    /* A tx over JSON-RPC, waiting for inclusion. */
    const char *tx = "name=wicas";
    cJSON *res = NULL;
    char err[512];
    if (wicas_rpc_broadcast_tx(f->node, (const uint8_t *)tx, strlen(tx), true, &res, err, sizeof err) != 0)
        fail_msg("%s", err);
    cJSON *hj = cJSON_GetObjectItemCaseSensitive(res, "height");
    assert_true(cJSON_IsString(hj));
    int64_t txh = atoll(hj->valuestring);
    assert_true(txh >= 1);
    cJSON *txr = cJSON_GetObjectItemCaseSensitive(res, "tx_result");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(txr, "code")->valuedouble, 0);
    cJSON_Delete(res);

    /* A tx CheckTx rejects: code 1 and our log, not an RPC failure. */
    const char *badtx = "no-equals-sign";
    assert_int_equal(
        wicas_rpc_broadcast_tx(f->node, (const uint8_t *)badtx, strlen(badtx), true, &res, err, sizeof err),
        0);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(res, "code")->valuedouble, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(res, "log")->valuestring, "tx must be key=value");
    cJSON_Delete(res);

    /* abci_query sees the value. */
    if (wicas_rpc_abci_query(f->node, "/store", (const uint8_t *)"name", 4, 0, false, &res, err,
                             sizeof err) != 0)
        fail_msg("%s", err);
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    assert_true(cJSON_IsString(val));
    assert_string_equal(val->valuestring, "d2ljYXM="); /* base64("wicas") */
    cJSON_Delete(res);

    /* App hash of FinalizeBlock(H) is in header H+1. */
    wait_height(f, txh + 1, 20000);
    uint8_t ah[32];
    header_app_hash(f, txh + 1, ah);
    assert_memory_equal(ah, kv->hash_at[txh], 32);
    header_app_hash(f, txh, ah);
    assert_memory_equal(ah, kv->hash_at[txh - 1], 32);
    assert_memory_not_equal(kv->hash_at[txh], kv->hash_at[txh - 1], 32); /* the tx changed state */

    /* Restart: stop everything, start again with the same app state. */
    stop_node(f);
    int64_t h1 = kv->height;
    int infos = kv->n_info;
    assert_true(h1 >= txh + 1);
    start_node(f);
    wait_height(f, h1 + 2, 30000);
    assert_int_equal(kv->n_init, 1); /* handshake resumed, no second InitChain */
    assert_true(kv->n_info > infos);
    header_app_hash(f, h1 + 1, ah);
    assert_memory_equal(ah, kv->hash_at[h1], 32);
    if (wicas_rpc_abci_query(f->node, "/store", (const uint8_t *)"name", 4, 0, false, &res, err,
                             sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "response"), "value")
            ->valuestring,
        "d2ljYXM=");
    cJSON_Delete(res);

    /* rpc error paths: unreachable node, bad URL scheme. */
    assert_int_equal(wicas_rpc_status("tcp://127.0.0.1:1", &res, err, sizeof err), -1);
    assert_null(res);
    assert_true(strlen(err) > 0);
    assert_int_equal(wicas_rpc_status("ftp://x:1", &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "scheme"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_cometbft, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

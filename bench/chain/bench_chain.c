/*
 * bench_chain.c — throughput of the chain state machine in-process (no
 * network, no consensus): what one node can execute per second.
 *   - anchor: secp256k1 signature verifications per second (the floor of
 *     every tx's cost), measured in the same run
 *   - bank sends: CheckTx tx/s; FinalizeBlock + Commit tx/s in blocks of 500,
 *     with LMDB's fsync on (the real setting) and the commit latency
 *   - counter executes (wasm): FinalizeBlock + Commit tx/s, blocks of 100
 *   - store queries with a Merkle proof per second
 * Usage: bench_chain WASM_DIR. Prints figures and ratios to the anchor.
 * Consensus-level figures (block time, inclusion latency on a devnet) are
 * the devnet benchmark's business.
 */
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "client.h"
#include "common.h"

#define N_ACC 50
#define PER_ACC 40
static size_t BLOCK = 500; /* argv[2] overrides */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err) {
    fprintf(stderr, "bench_chain: %s: %s\n", what, err);
    exit(1);
}

static uint8_t sks[N_ACC][32];
static char addrs[N_ACC][100];

static void key(int i, uint8_t sk[32], char addr[100]) {
    memset(sk, 0, 32);
    sk[0] = 0x42;
    sk[31] = (uint8_t)(i + 1);
    uint8_t pk[33], a[20];
    wicas_chain_pubkey_from_secret(sk, pk);
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, addr, 100);
}

static uint8_t *sign(int acc, uint64_t seq, const wicas_chain_any *m, uint64_t gas, size_t *len) {
    wicas_chain_tx_params p = {.chain_id = "bench",
                               .account_number = (uint64_t)acc,
                               .sequence = seq,
                               .gas_limit = gas,
                               .fee = "1000uwicas"};
    uint8_t *tx;
    char err[256];
    if (wicas_chain_tx_build_sign(sks[acc], NULL, &p, m, 1, &tx, len, err, sizeof err)) die("sign", err);
    return tx;
}

static double run_blocks(wicas_chain *c, int64_t *h, uint8_t **txs, size_t *lens, size_t n, size_t per_block,
                         double *commit_ms) {
    char err[256];
    double t0 = now(), tc = 0;
    for (size_t i = 0; i < n; i += per_block) {
        size_t k = n - i < per_block ? n - i : per_block;
        wicas_chain_tx_result *r = calloc(k, sizeof *r);
        wicas_chain_block b = {.height = ++*h,
                               .time_seconds = 1000 + *h,
                               .txs = (const uint8_t *const *)(txs + i),
                               .tx_lens = lens + i,
                               .n_txs = k};
        wicas_chain_event *ev;
        size_t nev;
        uint8_t app[32];
        if (wicas_chain_finalize_block(c, &b, r, &ev, &nev, app, err, sizeof err)) die("finalize", err);
        for (size_t j = 0; j < k; j++) {
            if (r[j].code) die("tx failed", r[j].log);
            wicas_chain_tx_result_free(&r[j]);
        }
        wicas_chain_events_free(ev, nev);
        free(r);
        double c0 = now();
        if (wicas_chain_commit(c, NULL)) die("commit", "failed");
        tc += now() - c0;
    }
    *commit_ms = tc * 1000.0 / (double)((n + per_block - 1) / per_block);
    return (double)n / (now() - t0);
}

int main(int argc, char **argv) {
    const char *wasm_dir = argc > 1 ? argv[1] : "wasm";
    if (argc > 2 && atoi(argv[2]) > 0) BLOCK = (size_t)atoi(argv[2]);
    /* anchor: raw signature verification */
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    uint8_t sk[32] = {1}, msg[32] = {2};
    secp256k1_pubkey pub;
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, sk) || !secp256k1_ecdsa_sign(ctx, &sig, msg, sk, NULL, NULL))
        die("secp", "setup");
    int nv = 20000;
    double t0 = now();
    for (int i = 0; i < nv; i++)
        if (!secp256k1_ecdsa_verify(ctx, &sig, msg, &pub)) die("secp", "verify");
    double verify_rate = nv / (now() - t0);
    secp256k1_context_destroy(ctx);
    printf("anchor: secp256k1 verify          %10.0f /s\n", verify_rate);

    char dir[] = "/tmp/wicas_bench_XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    wicas_chain_options o = {.map_size = (size_t)2 << 30};
    wicas_chain *c;
    char err[256];
    if (wicas_chain_open(dir, &o, &c, err, sizeof err)) die("open", err);
    size_t gl = 64 + N_ACC * 120;
    char *g = malloc(gl);
    size_t off = (size_t)snprintf(g, gl, "{\"bank\":{\"balances\":[");
    for (int i = 0; i < N_ACC; i++) {
        key(i, sks[i], addrs[i]);
        off += (size_t)snprintf(
            g + off, gl - off,
            "%s{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":\"1000000000\"}]}",
            i ? "," : "", addrs[i]);
    }
    snprintf(g + off, gl - off, "]}}");
    uint8_t app[32];
    if (wicas_chain_init_chain(c, "bench", 1, g, strlen(g), app, err, sizeof err)) die("init", err);
    free(g);

    /* bank sends: account i sends to account i+1, PER_ACC times */
    size_t n = N_ACC * PER_ACC;
    uint8_t **txs = malloc(n * sizeof *txs);
    size_t *lens = malloc(n * sizeof *lens);
    for (int s = 0; s < PER_ACC; s++)
        for (int i = 0; i < N_ACC; i++) {
            wicas_chain_any m;
            if (wicas_chain_msg_send(addrs[i], addrs[(i + 1) % N_ACC], "1uwicas", &m, err, sizeof err))
                die("msg", err);
            size_t k = (size_t)s * N_ACC + (size_t)i;
            txs[k] = sign(i, (uint64_t)s, &m, 100000, &lens[k]);
            wicas_chain_any_free(&m);
        }
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        wicas_chain_tx_result r;
        wicas_chain_check_tx(c, txs[i], lens[i], false, &r);
        if (r.code) die("check", r.log);
        wicas_chain_tx_result_free(&r);
    }
    double check_rate = n / (now() - t0);
    int64_t h = 0;
    double commit_ms;
    double bank_rate = run_blocks(c, &h, txs, lens, n, BLOCK, &commit_ms);
    printf("bank send  CheckTx                %10.0f tx/s   (%.3f x anchor)\n", check_rate,
           check_rate / verify_rate);
    printf("bank send  FinalizeBlock+Commit   %10.0f tx/s   (%.3f x anchor), blocks of %zu, commit %.1f "
           "ms/block\n",
           bank_rate, bank_rate / verify_rate, BLOCK, commit_ms);
    for (size_t i = 0; i < n; i++)
        free(txs[i]);

    /* counter executes */
    char path[512];
    snprintf(path, sizeof path, "%s/counter.wasm", wasm_dir);
    size_t wl;
    uint8_t *wasm = wicas_read_file(path, 4 << 20, &wl);
    if (wasm) {
        wicas_chain_any m;
        size_t len;
        wicas_chain_tx_result r;
        if (wicas_chain_msg_store_code(addrs[0], wasm, wl, &m, err, sizeof err)) die("store", err);
        uint8_t *tx = sign(0, PER_ACC, &m, 9000000, &len);
        wicas_chain_any_free(&m);
        run_blocks(c, &h, &tx, &len, 1, 1, &commit_ms);
        free(tx);
        if (wicas_chain_msg_instantiate(addrs[0], NULL, 1, "c", "{\"count\":0}", NULL, &m, err, sizeof err))
            die("inst", err);
        tx = sign(0, PER_ACC + 1, &m, 5000000, &len);
        wicas_chain_any_free(&m);
        wicas_chain_block b = {
            .height = ++h, .txs = (const uint8_t *const *)&tx, .tx_lens = &len, .n_txs = 1};
        wicas_chain_event *ev;
        size_t nev;
        if (wicas_chain_finalize_block(c, &b, &r, &ev, &nev, app, err, sizeof err) || r.code)
            die("instantiate", r.log);
        char contract[100];
        for (size_t i = 0; i < r.n_events; i++)
            if (strcmp(r.events[i].type, "instantiate") == 0)
                snprintf(contract, sizeof contract, "%s", r.events[i].attrs[0].value);
        wicas_chain_tx_result_free(&r);
        wicas_chain_events_free(ev, nev);
        wicas_chain_commit(c, NULL);
        free(tx);
        size_t ne = 10 * N_ACC;
        for (size_t k = 0; k < ne; k++) {
            int acc = (int)(k % N_ACC);
            uint64_t seq = PER_ACC + (acc == 0 ? 2 : 0) + k / N_ACC;
            if (wicas_chain_msg_execute(addrs[acc], contract, "{\"increment\":{}}", NULL, &m, err,
                                        sizeof err))
                die("exec", err);
            txs[k] = sign(acc, seq, &m, 500000, &lens[k]);
            wicas_chain_any_free(&m);
        }
        double exec_rate = run_blocks(c, &h, txs, lens, ne, 100, &commit_ms);
        printf("counter execute FinalizeBlock+Commit %7.0f tx/s   (%.3f x anchor), blocks of 100, commit "
               "%.1f ms/block\n",
               exec_rate, exec_rate / verify_rate, commit_ms);
        for (size_t k = 0; k < ne; k++)
            free(txs[k]);
        free(wasm);
    } else {
        printf("counter execute: skipped (%s not found)\n", path);
    }

    /* proofs */
    int nq = 2000;
    t0 = now();
    for (int i = 0; i < nq; i++) {
        char k[64];
        int kl = snprintf(k, sizeof k, "acc/%d", i);
        wicas_chain_query_result q;
        wicas_chain_query(c, "store/main/key", (uint8_t *)k, (size_t)kl, 0, true, &q);
        if (q.code || q.n_ops != 1) die("query", q.log);
        wicas_chain_query_result_free(&q);
    }
    double q_rate = nq / (now() - t0);
    printf("store query with proof            %10.0f /s     (%.3f x anchor)\n", q_rate, q_rate / verify_rate);
    wicas_chain_close(c);
    free(txs);
    free(lens);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 1;
    return 0;
}

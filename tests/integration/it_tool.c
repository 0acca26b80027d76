/*
 * it_tool.c — a small client for the integration scripts, built from the
 * chain's transaction builders and the CLI's RPC client, so the node tests
 * can move real funds without depending on the keyring commands:
 *   it_tool addr SECRET_HEX
 *       the bech32 account address of a 32-byte secp256k1 secret
 *   it_tool send NODE CHAIN_ID SECRET_HEX ACCOUNT_NUMBER SEQUENCE TO AMOUNT
 *       signs a MsgSend (SIGN_MODE_DIRECT), broadcasts it and waits for the
 *       block; prints "height=H code=C"; exit 0 only when code is 0
 *   it_tool balance NODE ADDRESS DENOM
 *       /cosmos.bank.v1beta1.Query/Balance over abci_query; prints the amount
 *   it_tool store NODE CHAIN_ID SECRET_HEX ACCOUNT_NUMBER SEQUENCE WASM_FILE
 *   it_tool instantiate NODE CHAIN_ID SECRET_HEX ACCOUNT_NUMBER SEQUENCE CODE_ID LABEL JSON
 *   it_tool execute NODE CHAIN_ID SECRET_HEX ACCOUNT_NUMBER SEQUENCE CONTRACT JSON FUNDS|-
 *       wasm messages; print "height=H code=C" and, from the events,
 *       "code_id=N" / "contract=ADDR"; exit 0 only when code is 0
 *   it_tool smart NODE CONTRACT JSON
 *       SmartContractState query; prints the contract's JSON answer
 *   it_tool flood NODE CHAIN_ID SECRET_HEX ACCOUNT_NUMBER SEQUENCE CONTRACT QUERY_JSON EXEC_JSON SECONDS
 * THREADS THREADS threads, for SECONDS, each alternating a SmartContractState query (QUERY_JSON) and a
 * Simulate of a signed execute (EXEC_JSON) as fast as the node answers (at least one round each). An answer
 * (any code) must carry a height no lower than the thread's previous one; a request the RPC gives up on
 * (CometBFT cuts an HTTP answer after 10 s) counts as "cut". Prints "queries=N simulates=M cut=K min_height=A
 *       max_height=B"; exit 0 when something was answered and no height went
 *       backwards
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "client.h"
#include "common.h"
#include "rpc.h"

static int secret_of(const char *hex, uint8_t sk[32], uint8_t pk[33]) {
    if (strlen(hex) != 64 || wicas_hex_decode(hex, sk, 32) != 0) {
        fprintf(stderr, "it_tool: secret must be 64 hex digits\n");
        return -1;
    }
    if (wicas_chain_pubkey_from_secret(sk, pk) != 0) {
        fprintf(stderr, "it_tool: invalid secret key\n");
        return -1;
    }
    return 0;
}

static int addr_of(const uint8_t pk[33], char *out, size_t cap) {
    uint8_t a[20];
    wicas_chain_pubkey_address(pk, a);
    return wicas_chain_addr_encode(a, 20, out, cap);
}

/* Reads a protobuf varint at *p (< end). */
static int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* Finds length-delimited field `field` in msg; returns its span or -1. */
static int pb_field(const uint8_t *msg, size_t len, unsigned field, const uint8_t **out, size_t *out_len) {
    const uint8_t *p = msg, *end = msg + len;
    while (p < end) {
        uint64_t key, l;
        if (pb_varint(&p, end, &key)) return -1;
        unsigned wt = key & 7;
        if (wt == 2) {
            if (pb_varint(&p, end, &l) || l > (uint64_t)(end - p)) return -1;
            if ((key >> 3) == field) {
                *out = p;
                *out_len = (size_t)l;
                return 0;
            }
            p += l;
        } else if (wt == 0) {
            if (pb_varint(&p, end, &l)) return -1;
        } else {
            return -1;
        }
    }
    return -1;
}

/* Prints attribute `key` of any event in a /tx result as "name=value". */
static void print_attr(const cJSON *tr, const char *key, const char *name) {
    const cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(tr, "events")) {
        const cJSON *at;
        cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(ev, "attributes")) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(at, "key");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(at, "value");
            if (cJSON_IsString(k) && cJSON_IsString(v) && strcmp(k->valuestring, key) == 0) {
                printf("%s=%s\n", name, v->valuestring);
                return;
            }
        }
    }
}

/* Signs msg with secret sk and sends it to node, waiting for the block. */
static int sign_send(const char *node, const char *chain_id, const uint8_t sk[32], const char *accnum,
                     const char *seq, uint64_t gas, wicas_chain_any *msg) {
    char err[512];
    wicas_chain_tx_params p = {.chain_id = chain_id,
                               .account_number = strtoull(accnum, NULL, 10),
                               .sequence = strtoull(seq, NULL, 10),
                               .gas_limit = gas,
                               .fee = "2000uwicas",
                               .memo = "integration"};
    uint8_t *tx = NULL;
    size_t tl = 0;
    int rc = wicas_chain_tx_build_sign(sk, NULL, &p, msg, 1, &tx, &tl, err, sizeof err);
    wicas_chain_any_free(msg);
    if (rc != 0) {
        fprintf(stderr, "it_tool: %s\n", err);
        return 1;
    }
    cJSON *res = NULL;
    rc = wicas_rpc_broadcast_tx(node, tx, tl, true, &res, err, sizeof err);
    free(tx);
    if (rc != 0) {
        fprintf(stderr, "it_tool: %s\n", err);
        return 1;
    }
    cJSON *h = cJSON_GetObjectItemCaseSensitive(res, "height");
    cJSON *tr = cJSON_GetObjectItemCaseSensitive(res, "tx_result");
    cJSON *code = cJSON_GetObjectItemCaseSensitive(tr ? tr : res, "code");
    cJSON *log = cJSON_GetObjectItemCaseSensitive(tr ? tr : res, "log");
    int c = cJSON_IsNumber(code) ? code->valueint : -1;
    printf("height=%s code=%d\n", cJSON_IsString(h) ? h->valuestring : "none", c);
    if (c != 0) fprintf(stderr, "it_tool: tx failed: %s\n", cJSON_IsString(log) ? log->valuestring : "?");
    if (tr) {
        print_attr(tr, "code_id", "code_id");
        print_attr(tr, "_contract_address", "contract");
    }
    cJSON_Delete(res);
    return c == 0 && tr ? 0 : 1;
}

/* ---- flood: concurrent heavy queries and simulations ------------------------------------- */
typedef struct {
    const char *node;
    const uint8_t *q; /* SmartContractState request */
    size_t ql;
    const uint8_t *sim; /* SimulateRequest */
    size_t sl;
    double until;
    atomic_long queries, simulates, cut;
    atomic_llong min_h, max_h;
    atomic_bool regressed;
} flood_ctx;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One abci_query; returns the answer's height (>= 0) or -1 when no answer came. */
static long long flood_one(const char *node, const char *path, const uint8_t *d, size_t dl) {
    cJSON *res = NULL;
    char err[8192];
    if (wicas_rpc_abci_query(node, path, d, dl, 0, false, &res, err, sizeof err) != 0) {
        size_t el = strlen(err); /* the message starts with the (long) URL: keep its end */
        fprintf(stderr, "it_tool flood: %s: ...%s\n", path, el > 160 ? err + el - 160 : err);
        return -1;
    }
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cJSON *h = cJSON_GetObjectItemCaseSensitive(resp, "height");
    long long hv = cJSON_IsString(h) ? strtoll(h->valuestring, NULL, 10) : -1;
    if (hv < 0) fprintf(stderr, "it_tool flood: %s: answer without a height\n", path);
    cJSON_Delete(res);
    return hv;
}

static void flood_seen(flood_ctx *f, long long h, long long *last) {
    if (h < *last) atomic_store(&f->regressed, true);
    *last = h;
    long long m = atomic_load(&f->min_h);
    while ((m < 0 || h < m) && !atomic_compare_exchange_weak(&f->min_h, &m, h)) {
    }
    m = atomic_load(&f->max_h);
    while (h > m && !atomic_compare_exchange_weak(&f->max_h, &m, h)) {
    }
}

static void *flood_main(void *arg) {
    flood_ctx *f = arg;
    long long last = 0;
    do { /* at least one round */
        long long h = flood_one(f->node, "/cosmwasm.wasm.v1.Query/SmartContractState", f->q, f->ql);
        if (h < 0)
            atomic_fetch_add(&f->cut, 1);
        else {
            atomic_fetch_add(&f->queries, 1);
            flood_seen(f, h, &last);
        }
        h = flood_one(f->node, "/cosmos.tx.v1beta1.Service/Simulate", f->sim, f->sl);
        if (h < 0)
            atomic_fetch_add(&f->cut, 1);
        else {
            atomic_fetch_add(&f->simulates, 1);
            flood_seen(f, h, &last);
        }
    } while (now_s() < f->until);
    return NULL;
}

/* protobuf: field `tag` (wire type 2) holding d[0..n) appended at out+*o */
static void pb_bytes(uint8_t *out, size_t *o, uint8_t tag, const void *d, size_t n) {
    out[(*o)++] = tag;
    uint8_t vb[10];
    size_t vn = 0;
    size_t v = n;
    do {
        vb[vn++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memcpy(out + *o, vb, vn);
    *o += vn;
    memcpy(out + *o, d, n);
    *o += n;
}

static int cmd_flood(int argc, char **argv) {
    char err[512];
    uint8_t sk[32], pk[33];
    char from[100];
    if (argc != 12 || secret_of(argv[4], sk, pk) || addr_of(pk, from, sizeof from)) return 2;
    const char *contract = argv[7], *qjson = argv[8], *ejson = argv[9];
    double secs = atof(argv[10]);
    int nt = atoi(argv[11]);
    if (nt < 1 || nt > 16 || secs <= 0) return 2;
    size_t al = strlen(contract), jl = strlen(qjson);
    uint8_t *q = malloc(al + jl + 32);
    size_t ql = 0;
    pb_bytes(q, &ql, 0x0a, contract, al);
    pb_bytes(q, &ql, 0x12, qjson, jl);
    wicas_chain_any msg;
    if (wicas_chain_msg_execute(from, contract, ejson, NULL, &msg, err, sizeof err)) {
        fprintf(stderr, "it_tool: %s\n", err);
        return 1;
    }
    wicas_chain_tx_params p = {.chain_id = argv[3],
                               .account_number = strtoull(argv[5], NULL, 10),
                               .sequence = strtoull(argv[6], NULL, 10),
                               .gas_limit = 100000000,
                               .fee = "2000uwicas"};
    uint8_t *tx = NULL;
    size_t tl = 0;
    int rc = wicas_chain_tx_build_sign(sk, NULL, &p, &msg, 1, &tx, &tl, err, sizeof err);
    wicas_chain_any_free(&msg);
    if (rc) {
        fprintf(stderr, "it_tool: %s\n", err);
        return 1;
    }
    uint8_t *sim = malloc(tl + 16);
    size_t sl = 0;
    pb_bytes(sim, &sl, 0x12, tx, tl); /* SimulateRequest{2: tx_bytes} */
    free(tx);
    flood_ctx f = {.node = argv[2], .q = q, .ql = ql, .sim = sim, .sl = sl, .until = now_s() + secs};
    atomic_init(&f.min_h, -1);
    atomic_init(&f.max_h, -1);
    pthread_t th[16];
    int started = 0;
    for (int i = 0; i < nt; i++)
        if (pthread_create(&th[i], NULL, flood_main, &f) == 0) started++;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    long answered = atomic_load(&f.queries) + atomic_load(&f.simulates);
    printf("queries=%ld simulates=%ld cut=%ld min_height=%lld max_height=%lld%s\n", atomic_load(&f.queries),
           atomic_load(&f.simulates), atomic_load(&f.cut), atomic_load(&f.min_h), atomic_load(&f.max_h),
           atomic_load(&f.regressed) ? " HEIGHT-REGRESSED" : "");
    free(q);
    free(sim);
    return started == nt && answered > 0 && !atomic_load(&f.regressed) ? 0 : 1;
}

int main(int argc, char **argv) {
    char err[512];
    if (argc >= 2 && strcmp(argv[1], "flood") == 0) return cmd_flood(argc, argv);
    if (argc == 3 && strcmp(argv[1], "addr") == 0) {
        uint8_t sk[32], pk[33];
        char a[100];
        if (secret_of(argv[2], sk, pk) || addr_of(pk, a, sizeof a)) return 1;
        printf("%s\n", a);
        return 0;
    }
    bool is_tx = argc >= 7 && (!strcmp(argv[1], "send") || !strcmp(argv[1], "store") ||
                               !strcmp(argv[1], "instantiate") || !strcmp(argv[1], "execute"));
    if (is_tx) {
        uint8_t sk[32], pk[33];
        char from[100];
        if (secret_of(argv[4], sk, pk) || addr_of(pk, from, sizeof from)) return 1;
        wicas_chain_any msg;
        int rc = -1;
        uint64_t gas = 200000;
        if (!strcmp(argv[1], "send") && argc == 9) {
            rc = wicas_chain_msg_send(from, argv[7], argv[8], &msg, err, sizeof err);
        } else if (!strcmp(argv[1], "store") && argc == 8) {
            size_t wl = 0;
            uint8_t *wasm = wicas_read_file(argv[7], 8 << 20, &wl);
            if (!wasm) {
                fprintf(stderr, "it_tool: cannot read %s\n", argv[7]);
                return 1;
            }
            rc = wicas_chain_msg_store_code(from, wasm, wl, &msg, err, sizeof err);
            free(wasm);
            gas = 100000000;
        } else if (!strcmp(argv[1], "instantiate") && argc == 10) {
            rc = wicas_chain_msg_instantiate(from, from, strtoull(argv[7], NULL, 10), argv[8], argv[9], NULL,
                                             &msg, err, sizeof err);
            gas = 5000000;
        } else if (!strcmp(argv[1], "execute") && argc == 10) {
            rc = wicas_chain_msg_execute(from, argv[7], argv[8], strcmp(argv[9], "-") ? argv[9] : NULL, &msg,
                                         err, sizeof err);
            gas = 5000000;
        } else {
            fprintf(stderr, "it_tool: wrong number of arguments for %s\n", argv[1]);
            return 2;
        }
        if (rc != 0) {
            fprintf(stderr, "it_tool: %s\n", err);
            return 1;
        }
        return sign_send(argv[2], argv[3], sk, argv[5], argv[6], gas, &msg);
    }
    if (argc == 5 && strcmp(argv[1], "smart") == 0) {
        /* QuerySmartContractStateRequest{1: address, 2: query_data} */
        size_t al = strlen(argv[3]), jl = strlen(argv[4]);
        if (al > 120 || jl > 100) return 1;
        uint8_t q[256];
        size_t n = 0;
        q[n++] = 0x0a;
        q[n++] = (uint8_t)al;
        memcpy(q + n, argv[3], al);
        n += al;
        q[n++] = 0x12;
        q[n++] = (uint8_t)jl;
        memcpy(q + n, argv[4], jl);
        n += jl;
        cJSON *res = NULL;
        if (wicas_rpc_abci_query(argv[2], "/cosmwasm.wasm.v1.Query/SmartContractState", q, n, 0, false, &res,
                                 err, sizeof err) != 0) {
            fprintf(stderr, "it_tool: %s\n", err);
            return 1;
        }
        cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
        cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
        cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
        uint8_t buf[4096];
        long vl = cJSON_IsString(val)
                      ? wicas_base64_decode(val->valuestring, strlen(val->valuestring), buf, sizeof buf)
                      : -1;
        if (cJSON_IsNumber(code) && code->valueint != 0) {
            cJSON *log = cJSON_GetObjectItemCaseSensitive(resp, "log");
            fprintf(stderr, "it_tool: query failed (code %d): %s\n", code->valueint,
                    cJSON_IsString(log) ? log->valuestring : "?");
            cJSON_Delete(res);
            return 1;
        }
        cJSON_Delete(res);
        const uint8_t *data;
        size_t dl;
        /* QuerySmartContractStateResponse{1: data} */
        if (vl < 0 || pb_field(buf, (size_t)vl, 1, &data, &dl)) {
            fprintf(stderr, "it_tool: malformed SmartContractState response\n");
            return 1;
        }
        printf("%.*s\n", (int)dl, (const char *)data);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "balance") == 0) {
        /* QueryBalanceRequest{1: address, 2: denom} */
        size_t al = strlen(argv[3]), dl = strlen(argv[4]);
        if (al > 120 || dl > 120) return 1;
        uint8_t q[256];
        size_t n = 0;
        q[n++] = 0x0a;
        q[n++] = (uint8_t)al;
        memcpy(q + n, argv[3], al);
        n += al;
        q[n++] = 0x12;
        q[n++] = (uint8_t)dl;
        memcpy(q + n, argv[4], dl);
        n += dl;
        cJSON *res = NULL;
        if (wicas_rpc_abci_query(argv[2], "/cosmos.bank.v1beta1.Query/Balance", q, n, 0, false, &res, err,
                                 sizeof err) != 0) {
            fprintf(stderr, "it_tool: %s\n", err);
            return 1;
        }
        cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
        cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
        uint8_t buf[512];
        long vl = cJSON_IsString(val)
                      ? wicas_base64_decode(val->valuestring, strlen(val->valuestring), buf, sizeof buf)
                      : -1;
        cJSON_Delete(res);
        const uint8_t *coin, *amount;
        size_t cl, aml;
        /* QueryBalanceResponse{1: Coin{1: denom, 2: amount}} */
        if (vl < 0 || pb_field(buf, (size_t)vl, 1, &coin, &cl) || pb_field(coin, cl, 2, &amount, &aml)) {
            printf("0\n");
            return 0;
        }
        printf("%.*s\n", (int)aml, (const char *)amount);
        return 0;
    }
    fprintf(stderr, "usage: it_tool addr SECRET | send NODE CHAIN SECRET ACCNUM SEQ TO AMOUNT | balance NODE "
                    "ADDR DENOM\n");
    return 2;
}

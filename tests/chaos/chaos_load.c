/*
 * chaos_load.c — load generator and ledger checker of the chaos suite
 * (tests/chaos/run.sh), built from the chain's transaction builders and the
 * CLI's RPC client like it_tool:
 *
 *   chaos_load addrs N
 *       the addresses of the N load accounts (secrets 0x43 0..0 i+1), one a
 *       line, for `wicasd devnet --account ADDR:COINS`
 *   chaos_load account RPC ADDRESS
 *       "ACCOUNT_NUMBER SEQUENCE" of an account (auth Account query)
 *   chaos_load run --rpc HOST:PORT[,...] --chain-id ID --accounts N --out FILE --stop FILE
 *       [--counter ADDR] [--ai ADDR]
 *       one thread per account sends until FILE --stop exists: account i%4
 *       0,1 bank sends, 2 `counter` increments (when --counter), 3 AI txs
 *       through nameservice-ai (when --ai): `describe` (inference inside the
 *       tx) and `describe_async` (answered through vote extensions) in turn.
 *       Each tx goes to every node (broadcast_tx_sync; nodes that are down or
 *       paused just fail), so a validator killed right after CheckTx cannot
 *       take the only copy with it. A tx is "accepted" when at least one node
 *       answered CheckTx code 0; its hash goes to --out ("HASH KIND ACCOUNT
 *       SEQ" a line). The thread then waits (120 s at most) until some node
 *       serves it from /tx before the account's next tx; a tx nobody accepts
 *       is "rejected", and the account's sequence is read again from the chain.
 *       Prints sent= accepted= rejected= unsent= (no node answered at all).
 *   chaos_load check --rpc HOST:PORT[,...] --accepted FILE [--from H]
 *       the ledger, from height H (default 1) to the lowest height all nodes
 *       have: every node's block hash and header app hash equal at every
 *       height; every accepted tx in exactly one block (SHA-256 of the tx
 *       bytes over every block's txs); prints heights= committed= lost=
 *       duplicated= failed_in_block= divergent_heights= and exits 1 on any
 *       loss, duplicate or divergence.
 *
 * Timing is never asserted; only counts are.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "client.h"
#include "common.h"
#include "rpc.h"

#define MAX_NODES 16
#define MAX_ACCOUNTS 64

static char *nodes[MAX_NODES];
static int n_nodes;
static const char *chain_id, *out_path, *stop_path, *counter_addr, *ai_addr;
static FILE *out_f;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long n_sent, n_accepted, n_rejected, n_unsent;

static void die(const char *what, const char *err) {
    fprintf(stderr, "chaos_load: %s: %s\n", what, err);
    exit(1);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void account_key(int i, uint8_t sk[32], char addr[100]) {
    memset(sk, 0, 32);
    sk[0] = 0x43;
    sk[31] = (uint8_t)(i + 1);
    uint8_t pk[33], a[20];
    if (wicas_chain_pubkey_from_secret(sk, pk)) die("key", "invalid secret");
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, addr, 100);
}

static void split_nodes(char *list) {
    for (char *t = strtok(list, ","); t && n_nodes < MAX_NODES; t = strtok(NULL, ","))
        nodes[n_nodes++] = t;
    if (!n_nodes) die("--rpc", "no nodes");
}

/* finds "key" anywhere below o (the account may be nested in an Any) */
static bool json_u64(const cJSON *o, const char *key, uint64_t *v) {
    if (!o) return false;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(f)) return *v = strtoull(f->valuestring, NULL, 10), true;
    const cJSON *c;
    cJSON_ArrayForEach(c, o) if (cJSON_IsObject(c) && json_u64(c, key, v)) return true;
    return false;
}

/* Account number and sequence from node; 0 or -1. */
static int query_account(const char *node, const char *addr, uint64_t *number, uint64_t *seq) {
    char err[512];
    const char *path = "/cosmos.auth.v1beta1.Query/Account";
    wicas_chain_query_args qa = {.address = addr};
    uint8_t *q;
    size_t ql;
    if (wicas_chain_query_request(path, &qa, &q, &ql, err, sizeof err)) return -1;
    cJSON *res = NULL;
    int rc = wicas_rpc_abci_query(node, path, q, ql, 0, false, &res, err, sizeof err);
    free(q);
    if (rc) return -1;
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
    cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    if ((cJSON_IsNumber(code) && code->valueint != 0) || !cJSON_IsString(val)) {
        cJSON_Delete(res);
        return -1;
    }
    size_t vcap = strlen(val->valuestring);
    uint8_t *buf = malloc(vcap + 1);
    long vl = buf && vcap ? wicas_base64_decode(val->valuestring, vcap, buf, vcap) : -1;
    char *js = vl > 0 ? wicas_chain_query_response_json(path, buf, (size_t)vl) : NULL;
    free(buf);
    cJSON_Delete(res);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    bool ok = json_u64(j, "account_number", number);
    if (!json_u64(j, "sequence", seq)) *seq = 0; /* proto3 omits a zero */
    cJSON_Delete(j);
    return ok ? 0 : -1;
}

/* ---- run ------------------------------------------------------------------------------- */
typedef struct {
    int i;
    uint8_t sk[32];
    char addr[100], to[100];
    uint64_t number, seq;
} worker;

static bool stopped(void) {
    return access(stop_path, F_OK) == 0;
}

/* Re-reads the account from any node that answers (up to 60 s). */
static void reload(worker *w) {
    for (int t = 0; t < 300 && !stopped(); t++) {
        if (query_account(nodes[(w->i + t) % n_nodes], w->addr, &w->number, &w->seq) == 0) return;
        sleep_ms(200);
    }
}

static bool committed_somewhere(const char *hash_hex) {
    char q[100], err[256];
    snprintf(q, sizeof q, "hash=0x%s", hash_hex);
    for (int k = 0; k < n_nodes; k++) {
        cJSON *r = NULL;
        if (wicas_rpc_get(nodes[k], "tx", q, &r, err, sizeof err) == 0) {
            cJSON_Delete(r);
            return true;
        }
    }
    return false;
}

static void *run_worker(void *arg) {
    worker *w = arg;
    long k = 0;
    reload(w);
    while (!stopped()) {
        char err[512];
        wicas_chain_any msg;
        const char *kind;
        int rc;
        uint64_t gas = 200000;
        int cls = w->i % 4;
        if (cls == 2 && counter_addr) {
            kind = "counter";
            rc = wicas_chain_msg_execute(w->addr, counter_addr, "{\"increment\":{}}", NULL, &msg, err,
                                         sizeof err);
            gas = 2000000;
        } else if (cls == 3 && ai_addr) {
            bool async = k % 2 == 1;
            kind = async ? "ai-async" : "ai-sync";
            rc = wicas_chain_msg_execute(w->addr, ai_addr,
                                         async ? "{\"describe_async\":{\"name\":\"chaos\"}}"
                                               : "{\"describe\":{\"name\":\"chaos\"}}",
                                         NULL, &msg, err, sizeof err);
            gas = 5000000;
        } else {
            kind = "bank";
            rc = wicas_chain_msg_send(w->addr, w->to, "1uwicas", &msg, err, sizeof err);
        }
        if (rc) die("message", err);
        wicas_chain_tx_params p = {.chain_id = chain_id,
                                   .account_number = w->number,
                                   .sequence = w->seq,
                                   .gas_limit = gas,
                                   .fee = "2000uwicas",
                                   .memo = "chaos"};
        uint8_t *tx = NULL;
        size_t tl = 0;
        rc = wicas_chain_tx_build_sign(w->sk, NULL, &p, &msg, 1, &tx, &tl, err, sizeof err);
        wicas_chain_any_free(&msg);
        if (rc) die("sign", err);
        uint8_t h[32];
        char hex[65];
        wicas_sha256(tx, tl, h);
        wicas_hex_encode(h, 32, hex);
        int accepted = 0, answered = 0;
        for (int j = 0; j < n_nodes; j++) {
            cJSON *res = NULL;
            if (wicas_rpc_broadcast_tx(nodes[(w->i + j) % n_nodes], tx, tl, false, &res, err, sizeof err) !=
                0)
                continue; /* down, paused, or "already in cache" */
            answered++;
            cJSON *code = cJSON_GetObjectItemCaseSensitive(res, "code");
            if (cJSON_IsNumber(code) && code->valueint == 0) accepted++;
            cJSON_Delete(res);
        }
        free(tx);
        pthread_mutex_lock(&mu);
        if (accepted) {
            n_sent++, n_accepted++;
            fprintf(out_f, "%s %s %d %llu\n", hex, kind, w->i, (unsigned long long)w->seq);
            fflush(out_f);
        } else if (answered) {
            n_sent++, n_rejected++;
        } else {
            n_unsent++;
        }
        pthread_mutex_unlock(&mu);
        if (!accepted) {
            sleep_ms(500);
            reload(w);
            continue;
        }
        k++;
        w->seq++;
        /* wait for the block before the account's next tx (bounded; the check decides) */
        double t0 = now_s();
        while (!committed_somewhere(hex) && now_s() - t0 < 120)
            sleep_ms(250);
        if (now_s() - t0 >= 120) reload(w);
    }
    return NULL;
}

static int cmd_run(int argc, char **argv) {
    int accounts = 8;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rpc"))
            split_nodes(argv[i + 1]);
        else if (!strcmp(argv[i], "--chain-id"))
            chain_id = argv[i + 1];
        else if (!strcmp(argv[i], "--accounts"))
            accounts = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out_path = argv[i + 1];
        else if (!strcmp(argv[i], "--stop"))
            stop_path = argv[i + 1];
        else if (!strcmp(argv[i], "--counter"))
            counter_addr = argv[i + 1];
        else if (!strcmp(argv[i], "--ai"))
            ai_addr = argv[i + 1];
        else
            die("run", "unknown option");
    }
    if (!n_nodes || !chain_id || !out_path || !stop_path || accounts < 1 || accounts > MAX_ACCOUNTS)
        die("run", "need --rpc --chain-id --out --stop and 1..64 --accounts");
    out_f = fopen(out_path, "a");
    if (!out_f) die(out_path, strerror(errno));
    cJSON *st = NULL;
    char err[256];
    wicas_rpc_status(nodes[0], &st, err, sizeof err); /* curl's global init before the threads */
    cJSON_Delete(st);
    static worker ws[MAX_ACCOUNTS];
    pthread_t th[MAX_ACCOUNTS];
    for (int i = 0; i < accounts; i++) {
        ws[i].i = i;
        account_key(i, ws[i].sk, ws[i].addr);
        uint8_t sk2[32];
        account_key((i + 1) % accounts, sk2, ws[i].to);
    }
    for (int i = 0; i < accounts; i++)
        if (pthread_create(&th[i], NULL, run_worker, &ws[i])) die("thread", "cannot start");
    for (int i = 0; i < accounts; i++)
        pthread_join(th[i], NULL);
    fclose(out_f);
    printf("sent=%ld accepted=%ld rejected=%ld unsent=%ld\n", n_sent, n_accepted, n_rejected, n_unsent);
    return 0;
}

/* ---- check ----------------------------------------------------------------------------- */
typedef struct {
    uint8_t h[32];
    int count, code;
} seen_tx;

static int cmp_seen(const void *a, const void *b) {
    return memcmp(a, b, 32);
}

static int64_t node_height(const char *node) {
    char err[256];
    cJSON *st = NULL;
    if (wicas_rpc_status(node, &st, err, sizeof err) != 0) return -1;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "sync_info"),
                                                "latest_block_height");
    int64_t v = cJSON_IsString(h) ? atoll(h->valuestring) : -1;
    cJSON_Delete(st);
    return v;
}

static const char *jpath_str(const cJSON *o, const char *a, const char *b, const char *c) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c) x = cJSON_GetObjectItemCaseSensitive(x, c);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int cmd_check(int argc, char **argv) {
    const char *acc_path = NULL;
    int64_t from = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rpc"))
            split_nodes(argv[i + 1]);
        else if (!strcmp(argv[i], "--accepted"))
            acc_path = argv[i + 1];
        else if (!strcmp(argv[i], "--from"))
            from = atoll(argv[i + 1]);
        else
            die("check", "unknown option");
    }
    if (!n_nodes || !acc_path) die("check", "need --rpc and --accepted");
    int64_t to = INT64_MAX;
    for (int k = 0; k < n_nodes; k++) {
        int64_t h = node_height(nodes[k]);
        if (h < 0) die("check", "a node does not answer /status");
        if (h < to) to = h;
    }
    size_t n_seen = 0, cap = 1024;
    seen_tx *seen = malloc(cap * sizeof *seen);
    long divergent = 0;
    if (!seen) die("check", "out of memory");
    for (int64_t h = from; h <= to; h++) {
        char q[64], err[256];
        snprintf(q, sizeof q, "height=%lld", (long long)h);
        char first_app[80] = "", first_id[80] = "";
        for (int k = 0; k < n_nodes; k++) {
            cJSON *b = NULL;
            if (wicas_rpc_get(nodes[k], "block", q, &b, err, sizeof err) != 0) die("check /block", err);
            const char *app = jpath_str(b, "block", "header", "app_hash");
            const char *id = jpath_str(b, "block_id", "hash", NULL);
            if (!app || !id) die("check", "/block without app_hash or block_id");
            if (k == 0) {
                snprintf(first_app, sizeof first_app, "%s", app);
                snprintf(first_id, sizeof first_id, "%s", id);
                const cJSON *t;
                cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(
                                          cJSON_GetObjectItemCaseSensitive(
                                              cJSON_GetObjectItemCaseSensitive(b, "block"), "data"),
                                          "txs")) {
                    if (!cJSON_IsString(t)) continue;
                    size_t bl = strlen(t->valuestring);
                    uint8_t *raw = malloc(bl + 1);
                    long rl = raw ? wicas_base64_decode(t->valuestring, bl, raw, bl + 1) : -1;
                    if (rl < 0) die("check", "undecodable tx in a block");
                    if (n_seen == cap) {
                        seen_tx *ns = realloc(seen, (cap *= 2) * sizeof *seen);
                        if (!ns) die("check", "out of memory");
                        seen = ns;
                    }
                    wicas_sha256(raw, (size_t)rl, seen[n_seen].h);
                    seen[n_seen].count = 1;
                    seen[n_seen].code = 0;
                    n_seen++;
                    free(raw);
                }
            } else if (strcmp(app, first_app) || strcmp(id, first_id)) {
                fprintf(stderr,
                        "chaos_load: height %lld: node %s has block %s app hash %s, node %s %s / %s\n",
                        (long long)h, nodes[k], id, app, nodes[0], first_id, first_app);
                divergent++;
            }
            cJSON_Delete(b);
        }
    }
    qsort(seen, n_seen, sizeof *seen, cmp_seen);
    FILE *f = fopen(acc_path, "r");
    if (!f) die(acc_path, strerror(errno));
    long committed = 0, lost = 0, dup = 0, failed = 0, total = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char hex[80];
        if (sscanf(line, "%79s", hex) != 1 || strlen(hex) != 64) continue;
        total++;
        seen_tx key;
        if (wicas_hex_decode(hex, key.h, 32)) die("check", "bad hash in the accepted file");
        seen_tx *s = bsearch(&key, seen, n_seen, sizeof *seen, cmp_seen);
        size_t c = 0;
        if (s) {
            while (s > seen && !memcmp(s[-1].h, key.h, 32))
                s--;
            while (s + c < seen + n_seen && !memcmp(s[c].h, key.h, 32))
                c++;
        }
        if (c == 0) {
            lost++;
            fprintf(stderr, "chaos_load: accepted tx %s is in no block up to height %lld\n", hex,
                    (long long)to);
            continue;
        }
        committed++;
        if (c > 1) {
            dup++;
            fprintf(stderr, "chaos_load: accepted tx %s is in %zu blocks\n", hex, c);
        }
        /* the result code of its block */
        char q[100], err[256];
        snprintf(q, sizeof q, "hash=0x%s", hex);
        cJSON *r = NULL;
        if (wicas_rpc_get(nodes[0], "tx", q, &r, err, sizeof err) == 0) {
            cJSON *code =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "tx_result"), "code");
            if (cJSON_IsNumber(code) && code->valueint != 0) failed++;
            cJSON_Delete(r);
        }
    }
    fclose(f);
    free(seen);
    printf("heights=%lld..%lld accepted=%ld committed=%ld lost=%ld duplicated=%ld failed_in_block=%ld "
           "divergent_heights=%ld\n",
           (long long)from, (long long)to, total, committed, lost, dup, failed, divergent);
    return lost || dup || divergent ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "addrs")) {
        int n = atoi(argv[2]);
        if (n < 1 || n > MAX_ACCOUNTS) die("addrs", "N must be 1..64");
        for (int i = 0; i < n; i++) {
            uint8_t sk[32];
            char a[100];
            account_key(i, sk, a);
            printf("%s\n", a);
        }
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "account")) {
        uint64_t num = 0, seq = 0;
        if (query_account(argv[2], argv[3], &num, &seq)) die("account", "query failed");
        printf("%llu %llu\n", (unsigned long long)num, (unsigned long long)seq);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "run")) return cmd_run(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "check")) return cmd_check(argc, argv);
    fprintf(stderr,
            "usage: chaos_load addrs N | account RPC ADDR | run ... | check ... (see chaos_load.c)\n");
    return 2;
}

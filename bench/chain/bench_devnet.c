/*
 * bench_devnet.c — load generator for a running devnet (`wicasd devnet`):
 * sustained tx/s, block time and inclusion latency of bank sends and
 * `counter` executes through the whole node (RPC, CheckTx, mempool,
 * consensus, FinalizeBlock, Commit). bench/chain/run drives it on 1 and 4
 * validators; bench_chain.c next to it gives the in-process anchor.
 *
 *   bench_devnet addrs N
 *       the addresses of the N bench accounts (one a line), to put in the
 *       devnet's genesis with `wicasd devnet --account ADDR:COINS`
 *   bench_devnet run --rpc URL[,URL...] --chain-id ID --workload bank|counter
 *       [--accounts N] [--txs N] [--rate R] [--threads T] [--wasm FILE]
 *       [--anchor TXPS] [--label TEXT] [--timeout S]
 *
 * How a run goes, and why:
 *   - account numbers and sequences are read from the chain (auth Account
 *     query), so bank and counter runs can follow each other on one devnet;
 *   - all N txs are signed before the clock starts (tx k: account k % A,
 *     the account's next sequence), so signing is not measured; many
 *     genesis accounts keep the mempool's per-sender ordering from being the
 *     bottleneck; every tx of an account goes to the same node (account
 *     a -> RPC a % nodes) and from the same sender thread, in sequence order,
 *     since a node's CheckTx only admits an account's next sequence;
 *   - T sender threads call broadcast_tx_sync (--rate R tx/s overall, paced
 *     on a fixed schedule; 0 = as fast as CheckTx answers); the send time of
 *     every tx is recorded (monotonic clock);
 *   - an observer thread polls /block_results of the next height at the
 *     first node every 5 ms and records when each height's results are first
 *     there (the block executed and committed): a tx's inclusion latency is
 *     that time for its block minus its send time;
 *   - afterwards /block and /block_results of every new height tell which
 *     block included which tx (SHA-256 of the tx bytes) and with which code,
 *     and the header times give the block time.
 * Printed: sent/accepted/committed (and failed in a block), sustained tx/s =
 * committed / (last inclusion seen - first send), mean block time (header
 * times over the blocks that carried the load), txs per block, latency
 * p50/p90/p99/max and, with --anchor and no --rate, sustained tx/s / anchor.
 * Exit 1 when a tx was rejected, failed in its block or never got in.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "client.h"
#include "common.h"
#include "rpc.h"

#define MAX_NODES 32
#define MAX_ACCOUNTS 1000
#define MAX_TXS 200000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void die(const char *what, const char *err) {
    fprintf(stderr, "bench_devnet: %s: %s\n", what, err);
    exit(1);
}

/* The bench accounts' secrets: 0x42 0..0 (i+1) as bench_chain.c uses. */
static void account_key(int i, uint8_t sk[32], char addr[100]) {
    memset(sk, 0, 32);
    sk[0] = 0x42;
    sk[30] = (uint8_t)((i + 1) >> 8);
    sk[31] = (uint8_t)(i + 1);
    uint8_t pk[33], a[20];
    if (wicas_chain_pubkey_from_secret(sk, pk)) die("key", "invalid secret");
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, addr, 100);
}

/* ---- options and shared state ----------------------------------------------------------- */
static struct {
    char *nodes[MAX_NODES];
    int n_nodes;
    const char *chain_id, *workload, *wasm, *label;
    int accounts, txs, threads, timeout_s;
    double rate, anchor;
} opt = {.accounts = 50, .txs = 2000, .threads = 4, .timeout_s = 120, .label = ""};

typedef struct {
    uint8_t sk[32];
    char addr[100];
    uint64_t number, sequence; /* from the chain, then advanced locally */
} account;
static account acc[MAX_ACCOUNTS];

typedef struct {
    uint8_t *bytes;
    size_t len;
    uint8_t hash[32];
    int account;
    double sent;    /* monotonic time broadcast_tx_sync was called; 0 = not sent */
    int check_code; /* CheckTx answer (-1: RPC failure) */
    int64_t height; /* including block, 0 = not found */
    int block_code; /* DeliverTx code in that block */
} bench_tx;
static bench_tx *txs;

/* heights first seen committed at the first node, by height - base */
static struct {
    pthread_mutex_t mu;
    int64_t base, latest;
    double *seen;
    size_t cap;
    volatile int stop;
} obs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t status_height(const char *node) {
    char err[256];
    cJSON *st = NULL;
    if (wicas_rpc_status(node, &st, err, sizeof err) != 0) return -1;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "sync_info"),
                                                "latest_block_height");
    int64_t v = cJSON_IsString(h) ? atoll(h->valuestring) : -1;
    cJSON_Delete(st);
    return v;
}

/* A height counts as committed once its results are stored: CometBFT saves
 * the block (what /status reports) before the app has executed it, and saves
 * the results after FinalizeBlock and Commit. */
static bool results_ready(int64_t h) {
    char q[64], err[256];
    snprintf(q, sizeof q, "height=%lld", (long long)h);
    cJSON *r = NULL;
    if (wicas_rpc_get(opt.nodes[0], "block_results", q, &r, err, sizeof err) != 0) return false;
    cJSON_Delete(r);
    return true;
}

static void *observer(void *arg) {
    (void)arg;
    while (!obs.stop) {
        int64_t h = obs.latest + 1;
        if (!results_ready(h)) {
            sleep_s(0.005);
            continue;
        }
        double t = now();
        pthread_mutex_lock(&obs.mu);
        size_t i = (size_t)(h - obs.base);
        if (i >= obs.cap) {
            size_t nc = obs.cap * 2;
            double *ns = realloc(obs.seen, nc * sizeof *ns);
            if (!ns) die("alloc", "out of memory");
            obs.seen = ns;
            obs.cap = nc;
        }
        obs.seen[i] = t;
        obs.latest = h;
        pthread_mutex_unlock(&obs.mu);
    }
    return NULL;
}

/* time height h was first seen committed (0 if never) */
static double seen_at(int64_t h) {
    pthread_mutex_lock(&obs.mu);
    double t = (h > obs.base && h <= obs.latest) ? obs.seen[h - obs.base] : 0;
    pthread_mutex_unlock(&obs.mu);
    return t;
}

/* ---- accounts from the chain ---------------------------------------------------------------- */
static uint64_t json_u64(const cJSON *o, const char *key, bool *found) {
    /* finds "key" anywhere below o (the account may be nested in an Any) */
    if (!o) return 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v)) {
        *found = true;
        return strtoull(v->valuestring, NULL, 10);
    }
    if (cJSON_IsNumber(v)) {
        *found = true;
        return (uint64_t)v->valuedouble;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, o) {
        if (cJSON_IsObject(c)) {
            uint64_t r = json_u64(c, key, found);
            if (*found) return r;
        }
    }
    return 0;
}

static void load_account(int i) {
    char err[512];
    const char *path = "/cosmos.auth.v1beta1.Query/Account";
    wicas_chain_query_args qa = {.address = acc[i].addr};
    uint8_t *q;
    size_t ql;
    if (wicas_chain_query_request(path, &qa, &q, &ql, err, sizeof err)) die("account query", err);
    cJSON *res = NULL;
    int rc = wicas_rpc_abci_query(opt.nodes[i % opt.n_nodes], path, q, ql, 0, false, &res, err, sizeof err);
    free(q);
    if (rc) die("account query", err);
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
    cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    if (cJSON_IsNumber(code) && code->valueint != 0) {
        fprintf(stderr,
                "bench_devnet: account %s is not on the chain (start the devnet with --account for "
                "every address of `bench_devnet addrs %d`)\n",
                acc[i].addr, opt.accounts);
        exit(1);
    }
    size_t vcap = cJSON_IsString(val) ? strlen(val->valuestring) : 0;
    uint8_t *buf = malloc(vcap + 1);
    long vl = buf && vcap ? wicas_base64_decode(val->valuestring, vcap, buf, vcap) : -1;
    char *js = vl > 0 ? wicas_chain_query_response_json(path, buf, (size_t)vl) : NULL;
    free(buf);
    cJSON_Delete(res);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    bool fn = false, fs = false;
    acc[i].number = json_u64(j, "account_number", &fn);
    acc[i].sequence = json_u64(j, "sequence", &fs);
    cJSON_Delete(j);
    if (!fn) die("account query", "no account_number in the answer");
    if (!fs) acc[i].sequence = 0; /* proto3 omits a zero */
}

static uint8_t *sign(int a, const wicas_chain_any *m, uint64_t gas, const char *fee, size_t *len) {
    wicas_chain_tx_params p = {.chain_id = opt.chain_id,
                               .account_number = acc[a].number,
                               .sequence = acc[a].sequence++,
                               .gas_limit = gas,
                               .fee = fee};
    uint8_t *tx;
    char err[512];
    if (wicas_chain_tx_build_sign(acc[a].sk, NULL, &p, m, 1, &tx, len, err, sizeof err)) die("sign", err);
    return tx;
}

/* First attribute `key` of any event in a /tx result, or NULL. */
static const char *tx_attr(const cJSON *txres, const char *key) {
    const cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(txres, "events")) {
        const cJSON *at;
        cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(ev, "attributes")) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(at, "key");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(at, "value");
            if (cJSON_IsString(k) && cJSON_IsString(v) && strcmp(k->valuestring, key) == 0)
                return v->valuestring;
        }
    }
    return NULL;
}

/* Sends one setup tx and waits for its block; returns the /tx result. */
static cJSON *send_wait(int a, wicas_chain_any *m, uint64_t gas, const char *what) {
    size_t len;
    uint8_t *tx = sign(a, m, gas, "200000uwicas", &len);
    wicas_chain_any_free(m);
    cJSON *res = NULL;
    char err[512];
    if (wicas_rpc_broadcast_tx(opt.nodes[a % opt.n_nodes], tx, len, true, &res, err, sizeof err))
        die(what, err);
    free(tx);
    cJSON *tr = cJSON_GetObjectItemCaseSensitive(res, "tx_result");
    cJSON *code = cJSON_GetObjectItemCaseSensitive(tr ? tr : res, "code");
    if (!tr || !cJSON_IsNumber(code) || code->valueint != 0) {
        cJSON *log = cJSON_GetObjectItemCaseSensitive(tr ? tr : res, "log");
        die(what, cJSON_IsString(log) ? log->valuestring : "failed");
    }
    return res;
}

/* Stores counter.wasm and instantiates it from account 0; returns the address. */
static void setup_counter(char contract[128]) {
    size_t wl;
    uint8_t *wasm = wicas_read_file(opt.wasm, 8 << 20, &wl);
    if (!wasm) die("read", opt.wasm);
    wicas_chain_any m;
    char err[512];
    if (wicas_chain_msg_store_code(acc[0].addr, wasm, wl, &m, err, sizeof err)) die("store", err);
    free(wasm);
    cJSON *r = send_wait(0, &m, 100000000, "store counter.wasm");
    const char *cid = tx_attr(cJSON_GetObjectItemCaseSensitive(r, "tx_result"), "code_id");
    if (!cid) die("store", "no code_id event");
    uint64_t code_id = strtoull(cid, NULL, 10);
    cJSON_Delete(r);
    if (wicas_chain_msg_instantiate(acc[0].addr, NULL, code_id, "bench-counter", "{\"count\":0}", NULL, &m,
                                    err, sizeof err))
        die("instantiate", err);
    r = send_wait(0, &m, 5000000, "instantiate counter");
    const char *ca = tx_attr(cJSON_GetObjectItemCaseSensitive(r, "tx_result"), "_contract_address");
    if (!ca) die("instantiate", "no _contract_address event");
    snprintf(contract, 128, "%s", ca);
    cJSON_Delete(r);
}

/* ---- sending ---------------------------------------------------------------------------------- */
static double t_start;
static char first_reject[512];
static pthread_mutex_t reject_mu = PTHREAD_MUTEX_INITIALIZER;

static void *sender(void *arg) {
    int t = (int)(intptr_t)arg;
    char err[512];
    for (int k = 0; k < opt.txs; k++) {
        bench_tx *x = &txs[k];
        if (x->account % opt.threads != t) continue;
        if (opt.rate > 0) sleep_s(t_start + k / opt.rate - now());
        cJSON *res = NULL;
        x->sent = now();
        if (wicas_rpc_broadcast_tx(opt.nodes[x->account % opt.n_nodes], x->bytes, x->len, false, &res, err,
                                   sizeof err)) {
            x->check_code = -1;
        } else {
            cJSON *code = cJSON_GetObjectItemCaseSensitive(res, "code");
            x->check_code = cJSON_IsNumber(code) ? code->valueint : -1;
            if (x->check_code != 0) {
                cJSON *log = cJSON_GetObjectItemCaseSensitive(res, "log");
                snprintf(err, sizeof err, "code %d: %s", x->check_code,
                         cJSON_IsString(log) ? log->valuestring : "?");
            }
        }
        cJSON_Delete(res);
        if (x->check_code != 0) {
            pthread_mutex_lock(&reject_mu);
            if (!first_reject[0]) snprintf(first_reject, sizeof first_reject, "%s", err);
            pthread_mutex_unlock(&reject_mu);
        }
    }
    return NULL;
}

/* ---- reading the blocks back -------------------------------------------------------------------- */
static int cmp_hash(const void *a, const void *b) {
    const bench_tx *x = *(bench_tx *const *)a, *y = *(bench_tx *const *)b;
    return memcmp(x->hash, y->hash, 32);
}

/* "2026-12-01T19:00:00.123456789Z" -> seconds since the epoch */
static double rfc3339(const char *s) {
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &n) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double frac = 0, scale = 0.1;
    if (s[n] == '.')
        for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    return (double)timegm(&tm) + frac;
}

typedef struct {
    int64_t height;
    double time; /* header time */
    int n_txs;   /* bench txs in it */
} block_info;

/* Fetches block h; marks the bench txs it holds. Returns the header time, -1 on error. */
static double scan_block(int64_t h, bench_tx **sorted, int n_sorted, int *n_found) {
    char q[64], err[512];
    snprintf(q, sizeof q, "height=%lld", (long long)h);
    cJSON *b = NULL, *br = NULL;
    if (wicas_rpc_get(opt.nodes[0], "block", q, &b, err, sizeof err)) die("block", err);
    cJSON *blk = cJSON_GetObjectItemCaseSensitive(b, "block");
    cJSON *hdr = cJSON_GetObjectItemCaseSensitive(blk, "header");
    cJSON *tm = cJSON_GetObjectItemCaseSensitive(hdr, "time");
    double t = cJSON_IsString(tm) ? rfc3339(tm->valuestring) : -1;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(blk, "data"), "txs");
    int n = cJSON_GetArraySize(list);
    *n_found = 0;
    if (n > 0) {
        if (wicas_rpc_get(opt.nodes[0], "block_results", q, &br, err, sizeof err)) die("block_results", err);
        cJSON *results = cJSON_GetObjectItemCaseSensitive(br, "txs_results");
        for (int i = 0; i < n; i++) {
            cJSON *e = cJSON_GetArrayItem(list, i);
            if (!cJSON_IsString(e)) continue;
            size_t sl = strlen(e->valuestring);
            uint8_t *raw = malloc(sl + 1);
            long rl = raw ? wicas_base64_decode(e->valuestring, sl, raw, sl) : -1;
            bench_tx key;
            if (rl >= 0) wicas_sha256(raw, (size_t)rl, key.hash);
            free(raw);
            if (rl < 0) continue;
            bench_tx *kp = &key, **hit = bsearch(&kp, sorted, (size_t)n_sorted, sizeof *sorted, cmp_hash);
            if (!hit) continue;
            (*hit)->height = h;
            cJSON *code = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, i), "code");
            (*hit)->block_code = cJSON_IsNumber(code) ? code->valueint : 0;
            (*n_found)++;
        }
    }
    cJSON_Delete(b);
    cJSON_Delete(br);
    return t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p) {
    if (n == 0) return 0;
    int i = (int)(p * n + 0.999999) - 1; /* nearest rank */
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}

static int run(void) {
    if (!opt.chain_id || !opt.workload || opt.n_nodes == 0)
        die("usage", "--rpc, --chain-id and --workload are required");
    bool counter = strcmp(opt.workload, "counter") == 0;
    if (!counter && strcmp(opt.workload, "bank") != 0) die("usage", "--workload must be bank or counter");
    if (counter && !opt.wasm) die("usage", "--workload counter needs --wasm counter.wasm");
    if (opt.threads > opt.accounts) opt.threads = opt.accounts;
    for (int i = 0; i < opt.accounts; i++) {
        account_key(i, acc[i].sk, acc[i].addr);
        load_account(i);
    }
    char contract[128] = "";
    if (counter) setup_counter(contract);

    /* sign everything before the clock starts */
    txs = calloc((size_t)opt.txs, sizeof *txs);
    bench_tx **sorted = malloc((size_t)opt.txs * sizeof *sorted);
    if (!txs || !sorted) die("alloc", "out of memory");
    char err[512];
    for (int k = 0; k < opt.txs; k++) {
        int a = k % opt.accounts;
        wicas_chain_any m;
        int rc = counter ? wicas_chain_msg_execute(acc[a].addr, contract, "{\"increment\":{}}", NULL, &m, err,
                                                   sizeof err)
                         : wicas_chain_msg_send(acc[a].addr, acc[(a + 1) % opt.accounts].addr, "1uwicas", &m,
                                                err, sizeof err);
        if (rc) die("message", err);
        txs[k].account = a;
        txs[k].bytes = sign(a, &m, counter ? 500000 : 100000, "1000uwicas", &txs[k].len);
        wicas_chain_any_free(&m);
        wicas_sha256(txs[k].bytes, txs[k].len, txs[k].hash);
        sorted[k] = &txs[k];
    }
    qsort(sorted, (size_t)opt.txs, sizeof *sorted, cmp_hash);

    int64_t h0 = status_height(opt.nodes[0]);
    if (h0 < 0) die("status", opt.nodes[0]);
    obs.base = obs.latest = h0;
    obs.cap = 1024;
    obs.seen = calloc(obs.cap, sizeof *obs.seen);
    if (!obs.seen) die("alloc", "out of memory");
    pthread_t ob, th[64];
    if (opt.threads > 64) opt.threads = 64;
    pthread_create(&ob, NULL, observer, NULL);
    t_start = now();
    for (int t = 0; t < opt.threads; t++)
        pthread_create(&th[t], NULL, sender, (void *)(intptr_t)t);
    for (int t = 0; t < opt.threads; t++)
        pthread_join(th[t], NULL);
    double t_sent = now();
    int accepted = 0;
    double first_send = 0;
    for (int k = 0; k < opt.txs; k++) {
        if (txs[k].check_code == 0) accepted++;
        if (txs[k].sent && (!first_send || txs[k].sent < first_send)) first_send = txs[k].sent;
    }

    /* follow the chain until every accepted tx is in a block (or timeout) */
    int found = 0;
    int64_t next = h0 + 1, last_h = h0, first_h = 0;
    size_t bcap = 256, nb = 0;
    block_info *blocks = malloc(bcap * sizeof *blocks);
    if (!blocks) die("alloc", "out of memory");
    double deadline = t_sent + opt.timeout_s;
    while (found < accepted && now() < deadline) {
        int64_t latest;
        pthread_mutex_lock(&obs.mu);
        latest = obs.latest;
        pthread_mutex_unlock(&obs.mu);
        if (next > latest) {
            sleep_s(0.02);
            continue;
        }
        int nf;
        double bt = scan_block(next, sorted, opt.txs, &nf);
        if (nb == bcap) {
            block_info *nbk = realloc(blocks, (bcap *= 2) * sizeof *blocks);
            if (!nbk) die("alloc", "out of memory");
            blocks = nbk;
        }
        blocks[nb++] = (block_info){next, bt, nf};
        if (nf) {
            if (!first_h) first_h = next;
            last_h = next;
        }
        found += nf;
        next++;
    }
    obs.stop = 1;
    pthread_join(ob, NULL);

    /* figures */
    int ok = 0, failed = 0;
    double *lat = malloc((size_t)(opt.txs ? opt.txs : 1) * sizeof *lat);
    if (!lat) die("alloc", "out of memory");
    int nl = 0;
    for (int k = 0; k < opt.txs; k++) {
        if (!txs[k].height) continue;
        if (txs[k].block_code == 0)
            ok++;
        else
            failed++;
        double s = seen_at(txs[k].height);
        if (s > 0) lat[nl++] = s - txs[k].sent;
    }
    qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
    double t_last = last_h > h0 ? seen_at(last_h) : 0;
    double span = t_last > first_send ? t_last - first_send : 0;
    double tps = span > 0 ? ok / span : 0;
    /* block time over the blocks that carried the load: header time of the
     * last one minus that of the block before the first, per block */
    double bt_mean = 0, max_per_block = 0;
    int nblocks = 0;
    if (first_h) {
        double tprev = 0, tlast = 0;
        for (size_t i = 0; i < nb; i++) {
            if (blocks[i].height == first_h - 1) tprev = blocks[i].time;
            if (blocks[i].height == last_h) tlast = blocks[i].time;
            if (blocks[i].height >= first_h && blocks[i].height <= last_h) {
                nblocks++;
                if (blocks[i].n_txs > max_per_block) max_per_block = blocks[i].n_txs;
            }
        }
        if (!tprev) { /* first_h - 1 was before the run: fetch its header */
            int dummy;
            tprev = first_h - 1 >= 1 ? scan_block(first_h - 1, sorted, 0, &dummy) : 0;
        }
        if (tprev > 0 && tlast > tprev && nblocks > 0) bt_mean = (tlast - tprev) / nblocks;
    }
    printf("%-26s sent %d, accepted %d, committed %d (failed in block %d)%s%s\n", opt.label, opt.txs,
           accepted, ok, failed, first_reject[0] ? "; first CheckTx rejection: " : "", first_reject);
    printf("%-26s send %.2f s (%.0f tx/s offered%s); %.0f tx/s sustained over %.2f s", opt.label,
           t_sent - t_start, opt.txs / (t_sent - t_start), opt.rate > 0 ? ", paced" : ", unpaced", tps, span);
    /* the ratio means something only when the load was not capped by --rate */
    if (opt.anchor > 0 && opt.rate <= 0)
        printf(" = %.3f x in-process anchor (%.0f tx/s)", tps / opt.anchor, opt.anchor);
    printf("\n");
    printf("%-26s %d blocks, mean block time %.0f ms, up to %.0f txs/block; inclusion latency ms p50 %.0f "
           "p90 %.0f "
           "p99 %.0f max %.0f\n",
           opt.label, nblocks, bt_mean * 1000, max_per_block, pct(lat, nl, 0.5) * 1000,
           pct(lat, nl, 0.9) * 1000, pct(lat, nl, 0.99) * 1000, nl ? lat[nl - 1] * 1000 : 0);
    int missing = accepted - found;
    for (int k = 0; k < opt.txs; k++)
        free(txs[k].bytes);
    free(txs);
    free(sorted);
    free(lat);
    free(blocks);
    free(obs.seen);
    if (missing > 0) {
        fprintf(stderr, "bench_devnet: %d accepted txs not in a block after %d s\n", missing, opt.timeout_s);
        return 1;
    }
    if (accepted < opt.txs || failed) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "addrs") == 0) {
        int n = atoi(argv[2]);
        if (n < 1 || n > MAX_ACCOUNTS) die("addrs", "N must be 1..1000");
        for (int i = 0; i < n; i++) {
            uint8_t sk[32];
            char a[100];
            account_key(i, sk, a);
            printf("%s\n", a);
        }
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr,
                "usage: bench_devnet addrs N\n"
                "       bench_devnet run --rpc URL[,URL...] --chain-id ID --workload bank|counter\n"
                "                        [--accounts N] [--txs N] [--rate R] [--threads T] [--wasm FILE]\n"
                "                        [--anchor TXPS] [--label TEXT] [--timeout S]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("usage", "option without a value");
        i++;
        if (!strcmp(a, "--rpc")) {
            char *s = strdup(v), *save = NULL;
            for (char *p = strtok_r(s, ",", &save); p && opt.n_nodes < MAX_NODES;
                 p = strtok_r(NULL, ",", &save))
                opt.nodes[opt.n_nodes++] = p;
        } else if (!strcmp(a, "--chain-id"))
            opt.chain_id = v;
        else if (!strcmp(a, "--workload"))
            opt.workload = v;
        else if (!strcmp(a, "--wasm"))
            opt.wasm = v;
        else if (!strcmp(a, "--label"))
            opt.label = v;
        else if (!strcmp(a, "--accounts"))
            opt.accounts = atoi(v);
        else if (!strcmp(a, "--txs"))
            opt.txs = atoi(v);
        else if (!strcmp(a, "--threads"))
            opt.threads = atoi(v);
        else if (!strcmp(a, "--timeout"))
            opt.timeout_s = atoi(v);
        else if (!strcmp(a, "--rate"))
            opt.rate = atof(v);
        else if (!strcmp(a, "--anchor"))
            opt.anchor = atof(v);
        else {
            fprintf(stderr, "bench_devnet: unknown option %s\n", a);
            return 2;
        }
    }
    if (opt.accounts < 1 || opt.accounts > MAX_ACCOUNTS) die("usage", "--accounts must be 1..1000");
    if (opt.txs < 1 || opt.txs > MAX_TXS) die("usage", "--txs must be 1..200000");
    if (opt.threads < 1) die("usage", "--threads must be >= 1");
    if (opt.timeout_s < 1) die("usage", "--timeout must be >= 1");
    return run();
}

/* test_ai_async.c — the asynchronous AI path inside one chain, driven the way
 * CometBFT drives it (chain.h: extend_vote, verify_vote_extension,
 * vote_injection, process_proposal, finalize_block), with four validators
 * whose ed25519 keys the test holds, so it can sign (and forge) extensions:
 *   - nameservice-ai `describe_async` records a pending request; its gas
 *     includes the worst-case inference; the request is queryable;
 *   - the background worker's answer appears in this node's vote extension,
 *     equal to the engine's answer for the same prompt;
 *   - VerifyVoteExtension refuses tampered text, wrong hashes, unknown ids,
 *     unsorted results, malformed JSON and unknown validators;
 *   - ProcessProposal refuses a forged signature, an unknown validator, a
 *     wrong power, the injection anywhere but first, trailing bytes and 300
 *     random mutations; a forged injection that reaches FinalizeBlock
 *     resolves nothing;
 *   - 3 honest + 1 wrong resolve "agreed" and the contract stores the text;
 *     2 + 2 resolve "no_agreement"; without votes the request times out; the
 *     outcomes, with every validator's hash, are in state and events;
 *   - a pending request survives a restart and is answered again. */
#include <libgen.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ai.h"
#include "chain.h"
#include "client.h"
#include "chain_internal.h"
#include "xai.h"
#include "common.h"
#include "wchain.pb-c.h"
#include "chain_test_util.h"
#include "apphash_pins.h"

#define CHAIN_ID "wicas-async"
#define NV 4

static char dir[256], models_dir[4096];
static uint8_t alice_sk[32];
static char alice[100];
static EVP_PKEY *vkey[NV];
static uint8_t vpub[NV][32], vaddr[NV][20];
static wicas_ai_host *host;
static uint64_t seq;
static int64_t height;

/* ---- set-up ------------------------------------------------------------------------- */

static int setup(void **st) {
    (void)st;
    const char *mp = getenv("WICAS_DEFAULT_MODEL");
    if (!mp || !getenv("WICAS_DEFAULT_MODEL_SHA256") || !getenv("WICAS_WASM_DIR")) return -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", mp);
    snprintf(models_dir, sizeof models_dir, "%s", dirname(tmp));
    snprintf(dir, sizeof dir, "/tmp/wicas_async_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    for (int i = 0; i < 32; i++)
        alice_sk[i] = (uint8_t)(i + 1);
    uint8_t pk[33], a[20];
    wicas_chain_pubkey_from_secret(alice_sk, pk);
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, alice, sizeof alice);
    for (int v = 0; v < NV; v++) {
        uint8_t seed[32];
        memset(seed, 0x50 + v, 32);
        vkey[v] = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
        size_t pl = 32;
        if (!vkey[v] || EVP_PKEY_get_raw_public_key(vkey[v], vpub[v], &pl) != 1) return -1;
        uint8_t h[32];
        wicas_sha256(vpub[v], 32, h);
        memcpy(vaddr[v], h, 20);
    }
    wicas_ai_host_config cfg = {.models_dir = models_dir, .n_threads = 2};
    char err[256];
    return wicas_ai_host_new(&cfg, &host, err, sizeof err) == WICAS_AI_OK ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    for (int v = 0; v < NV; v++)
        EVP_PKEY_free(vkey[v]);
    wicas_ai_host_free(host);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static wicas_chain *open_chain(void) {
    wicas_chain_options o = {0};
    o.no_sync = true;
    o.map_size = 256u << 20;
    o.ai_host = host;
    wicas_chain *c;
    char err[256];
    int rc = wicas_chain_open(dir, &o, &c, err, sizeof err);
    if (rc) fail_msg("open: %s", err);
    return c;
}

/* ---- blocks and txs --------------------------------------------------------------------- */

/* Runs and commits one block of txs; the block's events go to *bev (caller frees). */
static void run_block(wicas_chain *c, const uint8_t *const *txs, const size_t *lens, size_t n,
                      wicas_chain_tx_result *res, wicas_chain_event **bev, size_t *nbev) {
    height++;
    wicas_chain_block b = {
        .height = height, .time_seconds = 1700000000 + height, .txs = txs, .tx_lens = lens, .n_txs = n};
    memset(b.hash, (int)height, 32);
    char err[512] = "";
    uint8_t hash[32];
    wicas_chain_event *ev = NULL;
    size_t nev = 0;
    int rc = wicas_chain_finalize_block(c, &b, res, &ev, &nev, hash, err, sizeof err);
    if (rc) fail_msg("finalize %lld: %s", (long long)height, err);
    pins_add(hash);
    int64_t retain;
    assert_int_equal(wicas_chain_commit(c, &retain), 0);
    if (bev) {
        *bev = ev;
        *nbev = nev;
    } else {
        wicas_chain_events_free(ev, nev);
    }
}

static wicas_chain_tx_result run_msg(wicas_chain *c, wicas_chain_any *m, uint64_t gas) {
    wicas_chain_tx_params p = {
        .chain_id = CHAIN_ID, .account_number = 0, .sequence = seq++, .gas_limit = gas, .fee = "100uwicas"};
    uint8_t *tx;
    size_t len;
    char err[256];
    assert_int_equal(wicas_chain_tx_build_sign(alice_sk, NULL, &p, m, 1, &tx, &len, err, sizeof err), 0);
    wicas_chain_any_free(m);
    wicas_chain_tx_result r;
    const uint8_t *txs[1] = {tx};
    run_block(c, txs, &len, 1, &r, NULL, NULL);
    free(tx);
    if (r.code) fprintf(stderr, "tx at %lld: %u %s\n", (long long)height, r.code, r.log);
    return r;
}

static wicas_chain_tx_result execute(wicas_chain *c, const char *contract, const char *json) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_execute(alice, contract, json, NULL, &m, err, sizeof err), 0);
    return run_msg(c, &m, 20000000);
}

static char *smart(wicas_chain *c, const char *contract, const char *q) {
    wicas_chain_query_args a = {.address = contract, .bytes = (const uint8_t *)q, .bytes_len = strlen(q)};
    uint8_t *req;
    size_t rl;
    char err[256];
    assert_int_equal(wicas_chain_query_request("/cosmwasm.wasm.v1.Query/SmartContractState", &a, &req, &rl,
                                               err, sizeof err),
                     0);
    wicas_chain_query_result r;
    wicas_chain_query(c, "/cosmwasm.wasm.v1.Query/SmartContractState", req, rl, 0, false, &r);
    free(req);
    assert_int_equal(r.code, 0);
    char *out =
        wicas_chain_query_response_json("/cosmwasm.wasm.v1.Query/SmartContractState", r.value, r.value_len);
    wicas_chain_query_result_free(&r);
    return out;
}

static cJSON *request_record(wicas_chain *c, uint64_t id) {
    char ids[24];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
    wicas_chain_query_result r;
    wicas_chain_query(c, "/wicas.ai.v1.Query/Request", (const uint8_t *)ids, strlen(ids), 0, false, &r);
    cJSON *j = r.code == 0 ? cJSON_ParseWithLength((const char *)r.value, r.value_len) : NULL;
    wicas_chain_query_result_free(&r);
    return j;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(f) ? f->valuestring : "";
}

/* ---- vote extensions as a validator makes them ------------------------------------------ */

/* CometBFT's sign bytes, written here independently of aiasync.c:
 * uvarint(len) || CanonicalVoteExtension{1 extension, 2 sfixed64 height,
 * 3 sfixed64 round, 4 chain_id} with proto3's omission of zero values. */
static size_t sign_bytes(const uint8_t *ext, size_t el, int64_t h, int64_t round, uint8_t *out) {
    uint8_t m[8192];
    size_t n = 0;
    assert_true(el < 4096);
    if (el) {
        m[n++] = 0x0a;
        size_t v = el;
        while (v >= 0x80)
            m[n++] = (uint8_t)(v | 0x80), v >>= 7;
        m[n++] = (uint8_t)v;
        memcpy(m + n, ext, el), n += el;
    }
    if (h) {
        m[n++] = 0x11;
        for (int i = 0; i < 8; i++)
            m[n++] = (uint8_t)((uint64_t)h >> (8 * i));
    }
    if (round) {
        m[n++] = 0x19;
        for (int i = 0; i < 8; i++)
            m[n++] = (uint8_t)((uint64_t)round >> (8 * i));
    }
    m[n++] = 0x22, m[n++] = (uint8_t)strlen(CHAIN_ID);
    memcpy(m + n, CHAIN_ID, strlen(CHAIN_ID)), n += strlen(CHAIN_ID);
    size_t o = 0, v = n;
    while (v >= 0x80)
        out[o++] = (uint8_t)(v | 0x80), v >>= 7;
    out[o++] = (uint8_t)v;
    memcpy(out + o, m, n);
    return o + n;
}

static void sign(int v, const char *ext, int64_t h, uint8_t sig[64]) {
    uint8_t msg[8300];
    size_t ml = sign_bytes((const uint8_t *)ext, strlen(ext), h, 0, msg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sl = 64;
    assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, vkey[v]), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sl, msg, ml), 1);
    EVP_MD_CTX_free(md);
}

/* An extension answering request id with text (hash computed over it). */
static char *ext_json(uint64_t id, uint32_t pt, uint32_t gt, const char *text) {
    uint8_t h[32];
    char hex[65], ids[24];
    wicas_aiasync_result_hash(pt, gt, text, strlen(text), h);
    wicas_hex_encode(h, 32, hex);
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "results"), *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", ids);
    cJSON_AddStringToObject(e, "hash", hex);
    cJSON_AddNumberToObject(e, "prompt_tokens", pt);
    cJSON_AddNumberToObject(e, "generated_tokens", gt);
    cJSON_AddStringToObject(e, "text", text);
    cJSON_AddItemToArray(arr, e);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Waits for this node's own answer to request id: its vote extension. */
static cJSON *wait_own_answer(wicas_chain *c, uint64_t id) {
    for (int t = 0; t < 1200; t++) {
        uint8_t *e = NULL;
        size_t el = 0;
        assert_int_equal(wicas_chain_extend_vote(c, height + 1, &e, &el), 0);
        if (el) {
            cJSON *j = cJSON_ParseWithLength((const char *)e, el);
            char why[256] = "";
            bool ok = wicas_chain_verify_vote_extension(c, height + 1, vaddr[0], 20, e, el, why, sizeof why);
            if (!ok) fail_msg("own extension refused: %s", why);
            free(e);
            const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "results"), 0);
            char ids[24];
            snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
            if (r && strcmp(jstr(r, "id"), ids) == 0) return j;
            cJSON_Delete(j);
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("no answer for request %llu within 120 s", (unsigned long long)id);
    return NULL;
}

/* The injection for the next block: validator v signs exts[v] (NULL = no vote). */
static uint8_t *inject(wicas_chain *c, char *const exts[NV], size_t *len) {
    wicas_chain_vote votes[NV];
    uint8_t sigs[NV][64];
    size_t n = 0;
    for (int v = NV - 1; v >= 0; v--) { /* any order: the chain sorts */
        if (!exts[v]) continue;
        sign(v, exts[v], height, sigs[v]);
        votes[n++] = (wicas_chain_vote){.address = vaddr[v],
                                        .power = 10,
                                        .block_id_flag = 2,
                                        .extension = (const uint8_t *)exts[v],
                                        .extension_len = strlen(exts[v]),
                                        .signature = sigs[v],
                                        .signature_len = 64};
    }
    uint8_t *tx = NULL;
    assert_int_equal(wicas_chain_vote_injection(c, height + 1, 0, votes, n, &tx, len), 0);
    assert_non_null(tx);
    return tx;
}

static bool process(wicas_chain *c, const uint8_t *const *txs, const size_t *lens, size_t n) {
    char why[256] = "";
    bool ok = wicas_chain_process_proposal(c, height + 1, txs, lens, n, why, sizeof why);
    if (!ok) fprintf(stderr, "  proposal refused: %s\n", why);
    return ok;
}

/* ---- the test ---------------------------------------------------------------------------- */

static void async_requests(void **st) {
    (void)st;
    wicas_chain *c = open_chain();
    /* genesis: alice's funds, the default model, a 6-block timeout, 4 validators */
    struct stat sb;
    assert_int_equal(stat(getenv("WICAS_DEFAULT_MODEL"), &sb), 0);
    char g[1500];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"100000000\"}]}]},"
             "\"ai\":{\"models\":[{\"name\":\"smollm2-135m\",\"sha256\":\"%s\",\"size\":\"%lld\",\"arch\":"
             "\"llama\","
             "\"params\":\"134515008\"}],\"params\":{\"async_timeout_blocks\":\"6\"}}}",
             alice, getenv("WICAS_DEFAULT_MODEL_SHA256"), (long long)sb.st_size);
    wicas_chain_validator vals[NV];
    for (int v = 0; v < NV; v++) {
        memcpy(vals[v].pub_key, vpub[v], 32);
        vals[v].power = 10;
    }
    uint8_t hash[32];
    char err[512] = "";
    int rc = wicas_chain_init_chain_validators(c, CHAIN_ID, 1, g, strlen(g), vals, NV, hash, err, sizeof err);
    if (rc) fail_msg("init: %s", err);
    pins_add(hash);
    /* a duplicate validator key is refused at genesis */
    wicas_chain_validator dup[2] = {vals[0], vals[0]};
    wicas_chain *c2;
    char d2[300];
    snprintf(d2, sizeof d2, "%s/dup", dir);
    wicas_chain_options o2 = {.no_sync = true, .map_size = 64u << 20};
    assert_int_equal(wicas_chain_open(d2, &o2, &c2, err, sizeof err), 0);
    assert_int_not_equal(
        wicas_chain_init_chain_validators(c2, CHAIN_ID, 1, "{}", 2, dup, 2, hash, err, sizeof err), 0);
    wicas_chain_close(c2);

    /* deploy nameservice-ai, register a name */
    char path[600];
    snprintf(path, sizeof path, "%s/nameservice-ai.wasm", getenv("WICAS_WASM_DIR"));
    size_t wl;
    uint8_t *wasm = wicas_read_file(path, 4 << 20, &wl);
    assert_non_null(wasm);
    wicas_chain_any m;
    assert_int_equal(wicas_chain_msg_store_code(alice, wasm, wl, &m, err, sizeof err), 0);
    free(wasm);
    wicas_chain_tx_result r = run_msg(c, &m, 20000000);
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    assert_int_equal(wicas_chain_msg_instantiate(alice, NULL, 1, "names-ai",
                                                 "{\"purchase_price\":null,\"transfer_price\":null,"
                                                 "\"model\":\"smollm2-135m\",\"max_tokens\":4}",
                                                 NULL, &m, err, sizeof err),
                     0);
    r = run_msg(c, &m, 5000000);
    assert_int_equal(r.code, 0);
    char ns[100];
    const char *addr = ctu_event_attr(r.events, r.n_events, "instantiate", "_contract_address");
    assert_non_null(addr);
    snprintf(ns, sizeof ns, "%s", addr);
    wicas_chain_tx_result_free(&r);
    r = execute(c, ns, "{\"register\":{\"name\":\"wicas\"}}");
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);

    /* no pending request: no extension */
    uint8_t *e = NULL;
    size_t el = 0;
    assert_int_equal(wicas_chain_extend_vote(c, height + 1, &e, &el), 0);
    assert_int_equal(el, 0);

    /* 1. the request: pending, priced with the worst-case inference */
    r = execute(c, ns, "{\"describe_async\":{\"name\":\"wicas\"}}");
    assert_int_equal(r.code, 0);
    const char *rid = ctu_event_attr(r.events, r.n_events, "wicas_ai_request", "request_id");
    assert_non_null(rid);
    assert_string_equal(rid, "1");
    int64_t gas_async = r.gas_used;
    wicas_chain_tx_result_free(&r);
    cJSON *rec = request_record(c, 1);
    assert_non_null(rec);
    assert_string_equal(jstr(rec, "status"), "pending");
    uint64_t paid = strtoull(jstr(rec, "gas_paid"), NULL, 10);
    assert_true(paid > 0);
    assert_true((uint64_t)gas_async > paid + AIASYNC_REQUEST_GAS);
    cJSON_Delete(rec);

    /* 2. this node's answer = the engine's for the same request and seed */
    cJSON *own = wait_own_answer(c, 1);
    const cJSON *res0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(own, "results"), 0);
    const char *text = jstr(res0, "text");
    uint32_t pt = (uint32_t)cJSON_GetObjectItemCaseSensitive(res0, "prompt_tokens")->valuedouble;
    uint32_t gt = (uint32_t)cJSON_GetObjectItemCaseSensitive(res0, "generated_tokens")->valuedouble;
    assert_true(gt >= 1 && gt <= 4);
    char *honest = cJSON_PrintUnformatted(own);
    char *wrong = ext_json(1, pt, gt, "a different answer");

    /* VerifyVoteExtension: what other validators refuse */
    char why[256];
    const char *bad[] = {
        "{\"results\":[{\"id\":\"1\",\"hash\":\"00\",\"prompt_tokens\":1,\"generated_tokens\":1,\"text\":"
        "\"x\"}]}",
        "{\"results\":[]",
        "[1,2]",
        "{\"results\":[],\"extra\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(wicas_chain_verify_vote_extension(c, height + 1, vaddr[1], 20, (const uint8_t *)bad[i],
                                                       strlen(bad[i]), why, sizeof why));
    char *tampered = strdup(honest);
    char *tp = strstr(tampered, "\"text\":\"");
    assert_non_null(tp);
    tp[8] = tp[8] == 'Z' ? 'Y' : 'Z'; /* text changed, hash kept */
    assert_false(wicas_chain_verify_vote_extension(c, height + 1, vaddr[1], 20, (const uint8_t *)tampered,
                                                   strlen(tampered), why, sizeof why));
    assert_non_null(strstr(why, "hash does not match"));
    char *unknown = ext_json(99, pt, gt, text);
    assert_false(wicas_chain_verify_vote_extension(c, height + 1, vaddr[1], 20, (const uint8_t *)unknown,
                                                   strlen(unknown), why, sizeof why));
    assert_non_null(strstr(why, "not pending"));
    uint8_t stranger[20];
    memset(stranger, 0x77, 20);
    assert_false(wicas_chain_verify_vote_extension(c, height + 1, stranger, 20, (const uint8_t *)honest,
                                                   strlen(honest), why, sizeof why));
    assert_true(wicas_chain_verify_vote_extension(c, height + 1, vaddr[2], 20, (const uint8_t *)wrong,
                                                  strlen(wrong), why, sizeof why));

    /* ProcessProposal: forged and misplaced injections */
    char *exts[NV] = {honest, honest, honest, wrong};
    size_t il;
    uint8_t *inj = inject(c, exts, &il);
    const uint8_t *one[1] = {inj};
    assert_true(process(c, one, &il, 1));
    uint8_t *forged = malloc(il);
    memcpy(forged, inj, il);
    forged[il - 1] ^= 1; /* the last signature */
    const uint8_t *f1[1] = {forged};
    assert_false(process(c, f1, &il, 1));
    const uint8_t *two[2] = {(const uint8_t *)"x", inj};
    size_t two_l[2] = {1, il};
    assert_false(process(c, two, two_l, 2));
    size_t longer = il + 1;
    uint8_t *trail = calloc(1, longer);
    memcpy(trail, inj, il);
    const uint8_t *t1[1] = {trail};
    assert_false(process(c, t1, &longer, 1));
    free(trail);
    /* a vote claiming another power is refused */
    uint8_t *pw = malloc(il);
    memcpy(pw, inj, il);
    pw[8 + 16 + 20 + 7] ^= 1; /* the first vote's power, low byte */
    const uint8_t *p1[1] = {pw};
    assert_false(process(c, p1, &il, 1));
    free(pw);

    /* mutated injections and extensions (a fixed xorshift stream): never a
     * crash, never accepted unless the bytes are unchanged */
    uint64_t rs = 0x9E3779B97F4A7C15ULL;
    for (int k = 0; k < 300; k++) {
        uint8_t *mut = malloc(il);
        memcpy(mut, inj, il);
        size_t ml = il;
        for (int f = 0; f < 1 + k % 4; f++) {
            rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
            size_t pos = (size_t)(rs % il);
            mut[pos] ^= (uint8_t)(1u << (rs >> 32) % 8);
        }
        if (k % 5 == 0) ml = (size_t)(rs % il); /* truncated */
        const uint8_t *m1[1] = {mut};
        /* unchanged, or no longer an injection at all (magic hit, cut short):
         * then it is an ordinary (undecodable) tx, which FinalizeBlock rejects */
        bool same = (ml == il && memcmp(mut, inj, il) == 0) || !wicas_chain_is_vote_injection(mut, ml);
        char w2[256];
        assert_int_equal(wicas_chain_process_proposal(c, height + 1, m1, &ml, 1, w2, sizeof w2), same);
        size_t hl = strlen(honest);
        char *me = malloc(hl);
        memcpy(me, honest, hl);
        me[rs % hl] ^= (uint8_t)(1u << (rs >> 40) % 7);
        wicas_chain_verify_vote_extension(c, height + 1, vaddr[1], 20, (const uint8_t *)me,
                                          (size_t)(rs >> 8) % (hl + 1), w2, sizeof w2);
        free(me);
        free(mut);
    }

    /* a forged injection reaching FinalizeBlock resolves nothing */
    wicas_chain_tx_result fr;
    wicas_chain_event *bev = NULL;
    size_t nbev = 0;
    run_block(c, f1, &il, 1, &fr, &bev, &nbev);
    assert_int_equal(fr.code, 0);
    wicas_chain_tx_result_free(&fr);
    assert_null(ctu_event_attr(bev, nbev, "wicas_ai_result", "status"));
    wicas_chain_events_free(bev, nbev);
    rec = request_record(c, 1);
    assert_string_equal(jstr(rec, "status"), "pending");
    cJSON_Delete(rec);
    free(forged);
    free(inj);

    /* 3. 3 honest + 1 wrong: agreed, the contract has the text */
    inj = inject(c, exts, &il);
    one[0] = inj;
    assert_true(process(c, one, &il, 1));
    run_block(c, one, &il, 1, &fr, &bev, &nbev);
    wicas_chain_tx_result_free(&fr);
    assert_string_equal(ctu_event_attr(bev, nbev, "wicas_ai_result", "status"), "agreed");
    assert_string_equal(ctu_event_attr(bev, nbev, "wicas_ai_result", "agreeing_power"), "30");
    assert_string_equal(ctu_event_attr(bev, nbev, "wicas_ai_result", "distinct_answers"), "2");
    assert_non_null(ctu_event_attr(bev, nbev, "sudo", "_contract_address"));
    wicas_chain_events_free(bev, nbev);
    free(inj);
    rec = request_record(c, 1);
    assert_string_equal(jstr(rec, "status"), "agreed");
    assert_string_equal(jstr(rec, "text"), text);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "votes")), 4);
    assert_null(cJSON_GetObjectItemCaseSensitive(rec, "callback_error"));
    cJSON_Delete(rec);
    char *d = smart(c, ns, "{\"description\":{\"name\":\"wicas\"}}");
    assert_non_null(d);
    assert_non_null(strstr(d, "\"mode\":\"async\""));
    cJSON *dj = cJSON_Parse(d);
    assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(dj, "data"), "text"), text);
    cJSON_Delete(dj);
    free(d);
    /* the same prompt through the synchronous path gives the same text (greedy) */
    r = execute(c, ns, "{\"describe\":{\"name\":\"wicas\"}}");
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    d = smart(c, ns, "{\"description\":{\"name\":\"wicas\"}}");
    dj = cJSON_Parse(d);
    assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(dj, "data"), "text"), text);
    cJSON_Delete(dj);
    free(d);

    /* 4. 2 + 2: no agreement */
    r = execute(c, ns, "{\"describe_async\":{\"name\":\"wicas\"}}");
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    cJSON_Delete(own);
    own = wait_own_answer(c, 2);
    free(honest);
    free(wrong);
    honest = cJSON_PrintUnformatted(own);
    wrong = ext_json(2, pt, gt, "a different answer");
    char *exts2[NV] = {honest, wrong, honest, wrong};
    inj = inject(c, exts2, &il);
    one[0] = inj;
    assert_true(process(c, one, &il, 1));
    run_block(c, one, &il, 1, &fr, &bev, &nbev);
    wicas_chain_tx_result_free(&fr);
    assert_string_equal(ctu_event_attr(bev, nbev, "wicas_ai_result", "status"), "no_agreement");
    wicas_chain_events_free(bev, nbev);
    free(inj);
    d = smart(c, ns, "{\"description\":{\"name\":\"wicas\"}}");
    assert_non_null(strstr(d, "\"mode\":\"async-failed\""));
    free(d);
    /* with only 2 of 4 answering (both honest) the request stays open */
    r = execute(c, ns, "{\"describe_async\":{\"name\":\"wicas\"}}");
    assert_int_equal(r.code, 0);
    wicas_chain_tx_result_free(&r);
    cJSON_Delete(own);
    own = wait_own_answer(c, 3);
    free(honest);
    honest = cJSON_PrintUnformatted(own);
    char *exts3[NV] = {honest, NULL, honest, NULL};
    inj = inject(c, exts3, &il);
    one[0] = inj;
    run_block(c, one, &il, 1, &fr, &bev, &nbev);
    wicas_chain_tx_result_free(&fr);
    assert_null(ctu_event_attr(bev, nbev, "wicas_ai_result", "status"));
    wicas_chain_events_free(bev, nbev);
    free(inj);

    /* 5. a restart keeps the pending request; the worker answers it again */
    int64_t h_before;
    uint8_t app_before[32], app_after[32];
    wicas_chain_info(c, &h_before, app_before);
    wicas_chain_close(c);
    c = open_chain();
    int64_t h_after;
    wicas_chain_info(c, &h_after, app_after);
    assert_int_equal(h_after, h_before);
    assert_memory_equal(app_before, app_after, 32);
    cJSON *again = wait_own_answer(c, 3);
    char *again_s = cJSON_PrintUnformatted(again);
    assert_string_equal(again_s, honest);
    free(again_s);
    cJSON_Delete(again);

    /* 6. no more votes: the deadline (6 blocks after the request) resolves it */
    bool timed_out = false;
    for (int k = 0; k < 8 && !timed_out; k++) {
        run_block(c, NULL, NULL, 0, NULL, &bev, &nbev);
        const char *s = ctu_event_attr(bev, nbev, "wicas_ai_result", "status");
        if (s) {
            assert_string_equal(s, "timeout");
            timed_out = true;
        }
        wicas_chain_events_free(bev, nbev);
    }
    assert_true(timed_out);
    rec = request_record(c, 3);
    assert_string_equal(jstr(rec, "status"), "timeout");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "votes")), 0);
    cJSON_Delete(rec);
    /* the worker forgets resolved requests: no extension any more */
    e = NULL;
    assert_int_equal(wicas_chain_extend_vote(c, height + 1, &e, &el), 0);
    assert_int_equal(el, 0);

    /* an unknown request id is a clear not-found */
    wicas_chain_query_result q;
    wicas_chain_query(c, "/wicas.ai.v1.Query/Request", (const uint8_t *)"77", 2, 0, false, &q);
    assert_int_equal(q.code, WICAS_CODE_KEY_NOT_FOUND);
    wicas_chain_query_result_free(&q);
    wicas_chain_query(c, "/wicas.ai.v1.Query/Request", (const uint8_t *)"x1", 2, 0, false, &q);
    assert_int_equal(q.code, WICAS_CODE_INVALID_REQUEST);
    wicas_chain_query_result_free(&q);

    cJSON_Delete(own);
    free(honest);
    free(wrong);
    free(tampered);
    free(unknown);
    wicas_chain_close(c);
}

/* Last: the app hashes the tests above went through equal the pinned ones. */
static void apphash_pins(void **st) {
    (void)st;
    pins_check("test_ai_async");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(async_requests),
        cmocka_unit_test(apphash_pins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

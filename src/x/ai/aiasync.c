/*
 * aiasync.c — asynchronous inference requests, answered through ABCI vote
 * extensions and resolved by a 2/3 tally of voting power.
 *
 * The synchronous path (aimod.c) runs the model inside the transaction and
 * needs every validator to produce the same bytes. This path does not: it is
 * for back ends that may differ between machines (GPU engines, say), and it
 * makes agreement explicit instead of assumed:
 *
 *   1. A contract returns the custom message
 *        {"custom":{"ai":{"request":{<infer fields>,"callback":<any JSON>}}}}
 *      wicas_aiasync_request validates it like a synchronous request, charges the
 *      worst-case inference gas up front (the requester's tx is long finished
 *      when the answer arrives), derives the sampling seed from chain data and
 *      records it as pending (ai/req/pending/<id>). The message is read as
 *      the wasm module parsed it (no re-print, no second parse) and priced
 *      with one tokenisation of the prompt; the record keeps the request's
 *      JSON, not its tokens (state stays the same), so the worker, later
 *      and possibly after a restart, parses and tokenises it once more for
 *      its own run (price and run share that one tokenisation there).
 *   2. After each commit, and when it votes, every validator hands the pending
 *      requests to its background worker (src/ai, wicas_aimod_worker.c) and puts the
 *      answers it has into its vote extension (wicas_chain_extend_vote):
 *        {"results":[{"id":"7","hash":"<hex>","prompt_tokens":P,
 *                     "generated_tokens":G,"text":"..."}]}
 *      where hash = SHA-256("wicas/ai/result/v1" || u32be(P) || u32be(G) || text).
 *      Other validators check its shape, hashes and ids
 *      (wicas_chain_verify_vote_extension).
 *   3. The next proposer puts the signed extensions of the last commit into
 *      the block as its first transaction (wicas_chain_vote_injection): magic
 *      "WICASVE1", the votes' height and round, then per vote the validator
 *      address, power, flag, extension and ed25519 extension signature.
 *      ProcessProposal and FinalizeBlock verify every signature against the
 *      genesis validator set (val/set) over CometBFT's sign bytes
 *      (length-delimited CanonicalVoteExtension), so a proposer cannot forge
 *      answers.
 *   4. FinalizeBlock tallies each pending request over those votes: when one
 *      result hash has more than 2/3 of the total voting power the request
 *      resolves "agreed"; when no hash can reach 2/3 any more (everyone who
 *      answered disagrees) it resolves "no_agreement"; at its deadline height
 *      it resolves "timeout". The outcome, with every validator's hash, is
 *      stored (ai/req/done/<id>), emitted as a wicas_ai_result event, and sent
 *      to the contract as sudo {"ai_result":{...}} with its own gas limit.
 *
 * Only the tally feeds consensus; the worker's answers enter state only when
 * more than 2/3 of the voting power signed the same hash.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "chain_internal.h"
#include "xai.h"
#include "common.h"

#define K_REQ_SEQ "ai/req/seq"
#define K_REQ_PENDING "ai/req/pending/"
#define K_REQ_DONE "ai/req/done/"
#define K_VALSET "val/set"

#define VE_MAGIC "WICASVE1"
#define VE_MAGIC_LEN 8
#define VE_MAX_VOTES 256
#define VE_MAX_EXT (1u << 20)   /* bytes of one vote extension */
#define VE_MAX_TEXT (16u << 10) /* bytes of one answer's text */
#define RESULT_DOMAIN "wicas/ai/result/v1"

/* ---- small helpers ------------------------------------------------------------------ */

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void wicas_aiasync_result_hash(uint32_t prompt_tokens, uint32_t gen_tokens, const char *text, size_t len,
                               uint8_t out[32]) {
    wicas_sha256_ctx *h = wicas_sha256_begin();
    uint8_t n[8];
    put_be32(n, prompt_tokens);
    put_be32(n + 4, gen_tokens);
    wicas_sha256_update(h, RESULT_DOMAIN, sizeof RESULT_DOMAIN - 1);
    wicas_sha256_update(h, n, 8);
    wicas_sha256_update(h, text, len);
    wicas_sha256_final(h, out);
}

static void id_key(const char *pre, uint64_t id, uint8_t *k, size_t *kl) {
    size_t pl = strlen(pre);
    memcpy(k, pre, pl);
    wicas_be64_put(k + pl, id);
    *kl = pl + 8;
}

static char *u64s(uint64_t v, char buf[24]) {
    snprintf(buf, 24, "%" PRIu64, v);
    return buf;
}

/* Reads a decimal-string field of a record. 0 or -1. */
static int rec_u64(const cJSON *o, const char *k, uint64_t *v) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(f) && wicas_parse_u64(f->valuestring, v) == 0 ? 0 : -1;
}

/* ---- the validator set (genesis) ------------------------------------------------------- */

typedef struct {
    uint8_t address[20];
    uint8_t pub_key[32];
    int64_t power;
} val;

/* val/set: n x (address[20] | pub_key[32] | power i64 BE), sorted by address. */
int wicas_aiasync_store_validators(wctx *x, const wicas_chain_validator *v, size_t n, char *err,
                                   size_t errlen) {
    if (n == 0) return 0;
    if (n > VE_MAX_VOTES) return snprintf(err, errlen, "genesis: more than %d validators", VE_MAX_VOTES), -1;
    val *s = calloc(n, sizeof *s);
    uint8_t *buf = malloc(n * 60);
    if (!s || !buf) {
        free(s), free(buf);
        return snprintf(err, errlen, "genesis validators: out of memory"), -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].power <= 0) {
            free(s), free(buf);
            return snprintf(err, errlen, "genesis validator %zu: power must be positive", i), -1;
        }
        uint8_t h[32];
        wicas_sha256(v[i].pub_key, 32, h);
        memcpy(s[i].address, h, 20); /* CometBFT's ed25519 address */
        memcpy(s[i].pub_key, v[i].pub_key, 32);
        s[i].power = v[i].power;
    }
    /* insertion sort by address; a duplicate key is an error */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && memcmp(s[j - 1].address, s[j].address, 20) > 0; j--) {
            val t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        if (i && memcmp(s[i - 1].address, s[i].address, 20) == 0) {
            free(s), free(buf);
            return snprintf(err, errlen, "genesis validators: duplicate key"), -1;
        }
        memcpy(buf + 60 * i, s[i].address, 20);
        memcpy(buf + 60 * i + 20, s[i].pub_key, 32);
        wicas_be64_put(buf + 60 * i + 52, (uint64_t)s[i].power);
    }
    int rc = wicas_st_set(x, (const uint8_t *)K_VALSET, sizeof K_VALSET - 1, buf, n * 60);
    free(s);
    free(buf);
    if (rc) snprintf(err, errlen, "genesis validators: %s", x->err);
    return rc;
}

/* Loads the set; 0 (possibly empty) or -1. *total = sum of powers. */
static int load_validators(wctx *x, val **out, size_t *n, int64_t *total) {
    *out = NULL, *n = 0, *total = 0;
    uint8_t *v = NULL;
    size_t vl = 0;
    int f = wicas_st_get(x, (const uint8_t *)K_VALSET, sizeof K_VALSET - 1, &v, &vl);
    if (f < 0) return -1;
    if (f == 0) return 0;
    if (vl % 60) {
        free(v);
        return -1;
    }
    size_t k = vl / 60;
    val *s = calloc(k ? k : 1, sizeof *s);
    if (!s) {
        free(v);
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        memcpy(s[i].address, v + 60 * i, 20);
        memcpy(s[i].pub_key, v + 60 * i + 20, 32);
        s[i].power = (int64_t)wicas_be64_get(v + 60 * i + 52);
        *total += s[i].power;
    }
    free(v);
    *out = s, *n = k;
    return 0;
}

static const val *find_val(const val *s, size_t n, const uint8_t addr[20]) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(s[i].address, addr, 20) == 0) return &s[i];
    return NULL;
}

/* ---- pending requests ------------------------------------------------------------------- */

typedef struct {
    uint64_t id;
    cJSON *rec; /* the stored record */
} pending;

static void pending_free(pending *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(p[i].rec);
    free(p);
}

/* All pending requests in id order (at most AIASYNC_MAX_PENDING + slack). 0 or -1. */
static int list_pending(wctx *x, pending **out, size_t *n) {
    *out = NULL, *n = 0;
    const uint8_t *pre = (const uint8_t *)K_REQ_PENDING;
    size_t pl = sizeof K_REQ_PENDING - 1;
    uint8_t *cur = NULL, *k = NULL, *v = NULL;
    size_t cl = pl, kl = 0, vl = 0, cap = 0;
    pending *p = NULL;
    int rc = 0, f;
    while ((f = wicas_st_next(x, cur ? cur : pre, cur ? cl : pl, cur == NULL, &k, &kl, &v, &vl)) == 1) {
        if (kl != pl + 8 || memcmp(k, pre, pl) != 0) {
            free(k), free(v);
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            pending *np = realloc(p, cap * sizeof *np);
            if (!np) {
                free(k), free(v);
                rc = -1;
                break;
            }
            p = np;
        }
        p[*n].id = wicas_be64_get(k + pl);
        p[*n].rec = cJSON_ParseWithLength((const char *)v, vl);
        free(v);
        if (!p[*n].rec) {
            free(k);
            rc = wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai: corrupt pending request record");
            break;
        }
        (*n)++;
        free(cur);
        cur = k, cl = kl;
    }
    free(cur);
    if (f < 0) rc = -1;
    if (rc) {
        pending_free(p, *n);
        *n = 0;
        return -1;
    }
    *out = p;
    return 0;
}

static const pending *find_pending(const pending *p, size_t n, uint64_t id) {
    for (size_t i = 0; i < n; i++)
        if (p[i].id == id) return &p[i];
    return NULL;
}

/* The worker's input for a record: {"infer":<request>}. malloc'd. */
static char *record_request_json(const cJSON *rec) {
    cJSON *o = cJSON_CreateObject();
    cJSON *r = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "request"), 1);
    if (!o || !r) {
        cJSON_Delete(o), cJSON_Delete(r);
        return NULL;
    }
    cJSON_AddItemToObject(o, "infer", r);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- 1. the request (a contract's custom message) ---------------------------------------- */

int wicas_aiasync_request(wctx *x, const uint8_t contract[32], const cJSON *body) {
    wicas_chain *c = x->c;
    if (!cJSON_IsObject(body))
        return wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, "wasm",
                              "ai request: expected {\"ai\":{\"request\":{...}}}");
    cJSON *req = cJSON_Duplicate(body, 1);
    if (!req) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai request: out of memory");
    cJSON *cb = cJSON_DetachItemFromObjectCaseSensitive(req, "callback");
    if (!cb) cb = cJSON_CreateNull();
    /* {"infer":<the request>} read as it is: the contract's message was
     * parsed once, by the wasm module; no re-print, no second parse */
    cJSON *wrap = cJSON_CreateObject();
    bool wrapped = wrap && cJSON_AddItemReferenceToObject(wrap, "infer", req);
    char err[256] = "";
    int rc = -1;
    wicas_ai_request r;
    memset(&r, 0, sizeof r);
    wicas_ai_model m;
    pending *pl = NULL;
    size_t np = 0;
    if (!wrapped || !cb) {
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai request: out of memory");
        goto out;
    }
    if (wicas_ai_request_from_json(wrap, &r, err, sizeof err) != WICAS_AI_OK) {
        wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, "wasm", "%s", err);
        goto out;
    }
    if (r.max_tokens > AIASYNC_MAX_TOKENS) {
        wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, "wasm",
                       "ai request: asynchronous max_tokens must be 1..%d", AIASYNC_MAX_TOKENS);
        goto out;
    }
    int f = wicas_aimod_get_model(x, r.model, &m);
    if (f != 1) {
        if (f == 0)
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, "wasm", "ai: model '%s' is not registered",
                           r.model);
        goto out;
    }
    if (!c->opts.ai_host) {
        snprintf(c->halt, sizeof c->halt,
                 "model '%s' is needed but this node runs without a models directory", m.name);
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai: %s", c->halt);
        goto out;
    }
    uint32_t prompt_tokens = 0;
    uint64_t worst = 0;
    /* priced now, before the request is recorded: a request error (prompt +
     * max_tokens over the model's context, a prompt the tokenizer refuses)
     * fails this tx instead of a request no validator can answer */
    int prc = wicas_ai_host_price(c->opts.ai_host, &m, &r, &prompt_tokens, &worst, err, sizeof err);
    if (prc != WICAS_AI_OK && wicas_ai_err_class(prc) == WICAS_AI_CLASS_NODE) {
        wicas_aimod_node_fault(x, err);
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "%s", err);
        goto out;
    }
    if (prc != WICAS_AI_OK) {
        wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, "wasm", "%s", err);
        goto out;
    }
    if (list_pending(x, &pl, &np)) goto out;
    if (np >= AIASYNC_MAX_PENDING) {
        wicas_ctx_fail(x, WICAS_WASM_CODE_LIMIT, "wasm",
                       "ai request: %zu asynchronous requests are pending (at most %d): exceeds limit", np,
                       AIASYNC_MAX_PENDING);
        goto out;
    }
    /* the requester pays for the inference every validator will run */
    if (wicas_gas_use(x, AIASYNC_REQUEST_GAS, "ai async request") ||
        wicas_gas_use(x, worst, "ai async inference"))
        goto out;
    uint8_t *sv = NULL;
    size_t svl = 0;
    uint64_t id = 1;
    f = wicas_st_get(x, (const uint8_t *)K_REQ_SEQ, sizeof K_REQ_SEQ - 1, &sv, &svl);
    if (f < 0) goto out;
    if (f == 1 && svl == 8) id = wicas_be64_get(sv);
    free(sv);
    uint8_t nb[8];
    wicas_be64_put(nb, id + 1);
    if (wicas_st_set(x, (const uint8_t *)K_REQ_SEQ, sizeof K_REQ_SEQ - 1, nb, 8)) goto out;

    uint8_t seed[32];
    wicas_aimod_seed(x, r.user_seed, seed);
    char seedhex[65], contract_s[100], b1[24], b2[24], b3[24], b4[24], mt[24];
    wicas_hex_encode(seed, 32, seedhex);
    wicas_addr_str(contract, 32, contract_s);
    uint64_t deadline = (uint64_t)c->blk_height + wicas_aimod_async_timeout(x);

    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", u64s(id, b1));
    cJSON_AddStringToObject(rec, "contract", contract_s);
    cJSON_AddStringToObject(rec, "model", m.name);
    cJSON_AddItemToObject(rec, "request", cJSON_Duplicate(req, 1));
    cJSON_AddItemToObject(rec, "callback", cJSON_Duplicate(cb, 1));
    cJSON_AddStringToObject(rec, "seed", seedhex);
    cJSON_AddStringToObject(rec, "height", u64s((uint64_t)c->blk_height, b2));
    cJSON_AddStringToObject(rec, "deadline", u64s(deadline, b3));
    cJSON_AddStringToObject(rec, "gas_paid", u64s(worst, b4));
    cJSON_AddStringToObject(rec, "max_tokens", u64s(r.max_tokens, mt));
    char *rs = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    if (!rs) {
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, "sdk", "ai request: out of memory");
        goto out;
    }
    uint8_t k[32];
    size_t kl;
    id_key(K_REQ_PENDING, id, k, &kl);
    int src = wicas_st_set(x, k, kl, (const uint8_t *)rs, strlen(rs));
    free(rs);
    if (src) goto out;
    wicas_ev_add(&x->ev, "wicas_ai_request", "request_id", b1, "contract", contract_s, "model", m.name,
                 "max_tokens", mt, "deadline", b3, NULL);
    WICAS_INFO("ai",
               "height %lld: async request %" PRIu64 " from %s (%s, up to %u tokens, deadline %" PRIu64 ")",
               (long long)c->blk_height, id, contract_s, m.name, r.max_tokens, deadline);
    rc = 0;
out:
    pending_free(pl, np);
    wicas_ai_request_free(&r);
    cJSON_Delete(wrap); /* holds only a reference to req */
    cJSON_Delete(req);
    cJSON_Delete(cb);
    return rc;
}

/* ---- 2. vote extensions ---------------------------------------------------------------------- */

typedef struct {
    uint64_t id;
    uint8_t hash[32];
    uint32_t prompt_tokens, gen_tokens;
    const char *text; /* points into the parsed JSON */
} ve_result;

typedef struct {
    cJSON *root;
    ve_result *r;
    size_t n;
} ve_parsed;

static void ve_parsed_free(ve_parsed *p) {
    cJSON_Delete(p->root);
    free(p->r);
    memset(p, 0, sizeof *p);
}

static int why(char *w, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why(char *w, size_t wl, const char *fmt, ...) {
    if (w && wl) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w, wl, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int json_u32(const cJSON *f, uint32_t *out) {
    if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > 4294967295.0 ||
        f->valuedouble != (double)(uint32_t)f->valuedouble)
        return -1;
    *out = (uint32_t)f->valuedouble;
    return 0;
}

/* Parses and checks an extension's shape: only "results", ids strictly
 * ascending, at most AIASYNC_MAX_PENDING entries, each with exactly id, hash,
 * prompt_tokens, generated_tokens and text, text valid UTF-8 of at most
 * VE_MAX_TEXT bytes, and hash equal to the result hash of the rest. An empty
 * extension is valid (no answers). 0 or -1 with a reason. */
static int ve_parse(const uint8_t *ext, size_t len, ve_parsed *out, char *w, size_t wl) {
    memset(out, 0, sizeof *out);
    if (len == 0) return 0;
    if (len > VE_MAX_EXT) return why(w, wl, "vote extension of %zu bytes exceeds %u", len, VE_MAX_EXT);
    cJSON *root = cJSON_ParseWithLength((const char *)ext, len);
    if (!root) return why(w, wl, "vote extension is not JSON");
    out->root = root;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (!cJSON_IsObject(root) || cJSON_GetArraySize(root) != 1 || !cJSON_IsArray(res))
        return why(w, wl, "vote extension must be {\"results\":[...]}"), ve_parsed_free(out), -1;
    int n = cJSON_GetArraySize(res);
    if (n > AIASYNC_MAX_PENDING)
        return why(w, wl, "vote extension has %d results (at most %d)", n, AIASYNC_MAX_PENDING),
               ve_parsed_free(out), -1;
    out->r = calloc(n ? (size_t)n : 1, sizeof *out->r);
    if (!out->r) return why(w, wl, "out of memory"), ve_parsed_free(out), -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, res) {
        ve_result *r = &out->r[out->n];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "hash");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "text");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 5 || !cJSON_IsString(id) ||
            wicas_parse_u64(id->valuestring, &r->id) || !cJSON_IsString(h) || strlen(h->valuestring) != 64 ||
            wicas_hex_decode(h->valuestring, r->hash, 32) != 0 ||
            json_u32(cJSON_GetObjectItemCaseSensitive(e, "prompt_tokens"), &r->prompt_tokens) ||
            json_u32(cJSON_GetObjectItemCaseSensitive(e, "generated_tokens"), &r->gen_tokens) ||
            !cJSON_IsString(t))
            return why(w, wl, "vote extension result %zu is malformed", out->n), ve_parsed_free(out), -1;
        if (out->n && r->id <= out->r[out->n - 1].id)
            return why(w, wl, "vote extension results are not in ascending id order"), ve_parsed_free(out),
                   -1;
        size_t tl = strlen(t->valuestring);
        if (tl > VE_MAX_TEXT || !wicas_utf8_valid(t->valuestring, tl))
            return why(w, wl, "vote extension result %" PRIu64 ": text too long or not UTF-8", r->id),
                   ve_parsed_free(out), -1;
        if (r->gen_tokens > AIASYNC_MAX_TOKENS)
            return why(w, wl, "vote extension result %" PRIu64 ": too many tokens", r->id),
                   ve_parsed_free(out), -1;
        uint8_t hh[32];
        wicas_aiasync_result_hash(r->prompt_tokens, r->gen_tokens, t->valuestring, tl, hh);
        if (memcmp(hh, r->hash, 32) != 0)
            return why(w, wl, "vote extension result %" PRIu64 ": hash does not match", r->id),
                   ve_parsed_free(out), -1;
        r->text = t->valuestring;
        out->n++;
    }
    return 0;
}

/* A read-only context on the committed state. */
typedef struct {
    MDB_txn *t;
    kv base;
    wctx x;
} committed;

static int committed_open(wicas_chain *c, committed *v) {
    if (mdb_txn_begin(c->st.env, NULL, MDB_RDONLY, &v->t)) return -1;
    wicas_kv_init_base(&v->base, &c->st, v->t);
    wicas_ctx_init(&v->x, c, &v->base, UINT64_MAX);
    return 0;
}

static void committed_close(committed *v) {
    wicas_ctx_free(&v->x);
    mdb_txn_abort(v->t);
}

/* Hands every pending request to the worker and forgets resolved ones. */
static void feed_worker(wicas_chain *c, wctx *x, const pending *p, size_t n) {
    uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        if (ids) ids[i] = p[i].id;
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(p[i].rec, "model");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(p[i].rec, "seed");
        wicas_ai_model m;
        uint8_t seed[32];
        if (!cJSON_IsString(mn) || !cJSON_IsString(sd) || wicas_hex_decode(sd->valuestring, seed, 32) != 0 ||
            wicas_aimod_get_model(x, mn->valuestring, &m) != 1)
            continue;
        char *rj = record_request_json(p[i].rec);
        if (rj) wicas_ai_worker_submit(wicas_aimod_worker(c), p[i].id, &m, rj, seed);
        free(rj);
    }
    if (ids) wicas_ai_worker_retain(wicas_aimod_worker(c), ids, n);
    free(ids);
}

void wicas_aiasync_after_commit(wicas_chain *c) {
    if (!wicas_aimod_worker(c)) return;
    committed v;
    if (committed_open(c, &v)) return;
    pending *p = NULL;
    size_t n = 0;
    if (list_pending(&v.x, &p, &n) == 0) feed_worker(c, &v.x, p, n);
    pending_free(p, n);
    committed_close(&v);
}

int wicas_chain_extend_vote(wicas_chain *c, int64_t height, uint8_t **ext, size_t *ext_len) {
    *ext = NULL, *ext_len = 0;
    if (!wicas_aimod_worker(c)) return 0;
    committed v;
    if (committed_open(c, &v)) return WICAS_CHAIN_ERR_IO;
    pending *p = NULL;
    size_t n = 0;
    if (list_pending(&v.x, &p, &n)) {
        committed_close(&v);
        return WICAS_CHAIN_ERR_IO;
    }
    feed_worker(c, &v.x, p, n);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "results");
    size_t have = 0;
    for (size_t i = 0; i < n && arr; i++) {
        wicas_ai_result r;
        if (wicas_ai_worker_poll(wicas_aimod_worker(c), p[i].id, &r, NULL, 0) != WICAS_AI_WORKER_DONE)
            continue;
        char *text = r.text;
        if (c->opts.ai_wrong_answer) {
            /* test option: a validator that answers wrongly but consistently */
            text = wicas_xprintf("(wrong) %s", r.text);
            if (!text) {
                wicas_ai_result_free(&r);
                continue;
            }
        }
        size_t tl = strlen(text);
        if (tl > VE_MAX_TEXT) tl = 0; /* cannot be reported: leave it out */
        if (tl || !text[0]) {
            uint8_t h[32];
            char hex[65], ids[24];
            wicas_aiasync_result_hash(r.prompt_tokens, r.generated_tokens, text, strlen(text), h);
            wicas_hex_encode(h, 32, hex);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", u64s(p[i].id, ids));
            cJSON_AddStringToObject(e, "hash", hex);
            cJSON_AddNumberToObject(e, "prompt_tokens", r.prompt_tokens);
            cJSON_AddNumberToObject(e, "generated_tokens", r.generated_tokens);
            cJSON_AddStringToObject(e, "text", text);
            cJSON_AddItemToArray(arr, e);
            have++;
        }
        if (text != r.text) free(text);
        wicas_ai_result_free(&r);
    }
    if (c->opts.byzantine == WICAS_BYZ_UNKNOWN_ID && arr) {
        /* test-only fault injector: a well-formed answer to a request that does not exist */
        const char *txt = "byzantine";
        uint8_t h[32];
        char hex[65], ids[24];
        wicas_aiasync_result_hash(1, 1, txt, strlen(txt), h);
        wicas_hex_encode(h, 32, hex);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", u64s(UINT64_C(1000000000) + (uint64_t)height, ids));
        cJSON_AddStringToObject(e, "hash", hex);
        cJSON_AddNumberToObject(e, "prompt_tokens", 1);
        cJSON_AddNumberToObject(e, "generated_tokens", 1);
        cJSON_AddStringToObject(e, "text", txt);
        cJSON_AddItemToArray(arr, e);
        have++;
        WICAS_WARN(
            "ai", "byzantine (test fault injector): vote extension of height %lld answers unknown request %s",
            (long long)height, ids);
    }
    pending_free(p, n);
    committed_close(&v);
    int rc = 0;
    if (have) {
        char *s = cJSON_PrintUnformatted(root);
        if (!s)
            rc = WICAS_CHAIN_ERR_NOMEM;
        else {
            *ext = (uint8_t *)s;
            *ext_len = strlen(s);
            WICAS_DEBUG("ai", "height %lld: vote extension with %zu answers (%zu bytes)", (long long)height,
                        have, *ext_len);
        }
    }
    cJSON_Delete(root);
    return rc;
}

bool wicas_chain_verify_vote_extension(wicas_chain *c, int64_t height, const uint8_t *validator, size_t vlen,
                                       const uint8_t *ext, size_t len, char *w, size_t wl) {
    (void)height;
    if (len == 0) return true;
    ve_parsed p;
    if (ve_parse(ext, len, &p, w, wl)) return false;
    committed v;
    if (committed_open(c, &v)) {
        ve_parsed_free(&p);
        return why(w, wl, "cannot read the state"), false;
    }
    bool ok = true;
    val *vs = NULL;
    size_t nv = 0;
    int64_t total = 0;
    if (load_validators(&v.x, &vs, &nv, &total) || vlen != 20 || (nv && !find_val(vs, nv, validator)))
        ok = false, why(w, wl, "vote extension from an unknown validator");
    pending *pl = NULL;
    size_t np = 0;
    if (ok && list_pending(&v.x, &pl, &np)) ok = false, why(w, wl, "cannot read pending requests");
    for (size_t i = 0; ok && i < p.n; i++) {
        const pending *q = find_pending(pl, np, p.r[i].id);
        uint64_t mt = 0;
        if (!q)
            ok = false,
            why(w, wl, "vote extension answers request %" PRIu64 ", which is not pending", p.r[i].id);
        else if (rec_u64(q->rec, "max_tokens", &mt) == 0 && p.r[i].gen_tokens > mt)
            ok = false,
            why(w, wl, "vote extension answers request %" PRIu64 " with more tokens than asked", p.r[i].id);
    }
    pending_free(pl, np);
    free(vs);
    committed_close(&v);
    ve_parsed_free(&p);
    return ok;
}

/* ---- 3. the injected transaction ------------------------------------------------------------ */

bool wicas_chain_is_vote_injection(const uint8_t *tx, size_t len) {
    return tx && len >= VE_MAGIC_LEN && memcmp(tx, VE_MAGIC, VE_MAGIC_LEN) == 0;
}

static int cmp_vote(const void *a, const void *b) {
    return memcmp(((const wicas_chain_vote *)a)->address, ((const wicas_chain_vote *)b)->address, 20);
}

/* Test-only fault injector (--byzantine, tests/chaos): changes the sorted
 * votes v[0..*k) of an injection (v has room for one more) and its encoded
 * size; FORGE is applied to the encoded bytes by the caller. Returns what was
 * done (for the log), or NULL for an honest node / nothing to do. */
static const char *byzantine_injection(const wicas_chain *c, wicas_chain_vote *v, size_t *k, size_t *size) {
    size_t one = 20 + 8 + 1 + 4 + 2 + 64;
    switch (c->opts.byzantine) {
    case WICAS_BYZ_OMIT:
        if (*k < 2) return NULL;
        (*k)--;
        *size -= one + v[*k].extension_len;
        return "omitted the last vote";
    case WICAS_BYZ_REORDER: {
        if (*k < 2) return NULL;
        wicas_chain_vote t = v[0];
        v[0] = v[1], v[1] = t;
        return "swapped the first two votes";
    }
    case WICAS_BYZ_DUPLICATE:
        memmove(v + 1, v, *k * sizeof *v);
        (*k)++;
        *size += one + v[0].extension_len;
        return "duplicated the first vote";
    case WICAS_BYZ_FORGE:
        return "changed a byte of the first extension after signing";
    default:
        return NULL;
    }
}

int wicas_chain_vote_injection(wicas_chain *c, int64_t height, int32_t round, const wicas_chain_vote *votes,
                               size_t n, uint8_t **tx, size_t *len) {
    *tx = NULL, *len = 0;
    wicas_chain_vote *v = calloc(n + 1, sizeof *v); /* +1: room for the test-only duplicate */
    if (!v) return WICAS_CHAIN_ERR_NOMEM;
    size_t k = 0, size = VE_MAGIC_LEN + 8 + 4 + 4;
    for (size_t i = 0; i < n; i++)
        if (votes[i].block_id_flag == 2 && votes[i].extension_len > 0 &&
            votes[i].extension_len <= VE_MAX_EXT && votes[i].signature_len == 64 && votes[i].address) {
            v[k++] = votes[i];
            size += 20 + 8 + 1 + 4 + votes[i].extension_len + 2 + 64;
        }
    if (k == 0 || k > VE_MAX_VOTES) {
        free(v);
        return 0;
    }
    qsort(v, k, sizeof *v, cmp_vote);
    const char *byz = byzantine_injection(c, v, &k, &size);
    uint8_t *p = malloc(size), *q = p;
    if (!p) {
        free(v);
        return WICAS_CHAIN_ERR_NOMEM;
    }
    memcpy(q, VE_MAGIC, VE_MAGIC_LEN), q += VE_MAGIC_LEN;
    wicas_be64_put(q, (uint64_t)(height - 1)), q += 8;
    put_be32(q, (uint32_t)round), q += 4;
    put_be32(q, (uint32_t)k), q += 4;
    for (size_t i = 0; i < k; i++) {
        memcpy(q, v[i].address, 20), q += 20;
        wicas_be64_put(q, (uint64_t)v[i].power), q += 8;
        *q++ = 2;
        put_be32(q, (uint32_t)v[i].extension_len), q += 4;
        memcpy(q, v[i].extension, v[i].extension_len), q += v[i].extension_len;
        *q++ = 0, *q++ = 64;
        memcpy(q, v[i].signature, 64), q += 64;
    }
    if (c->opts.byzantine ==
        WICAS_BYZ_FORGE) /* content changed after signing: the signature no longer holds */
        p[VE_MAGIC_LEN + 16 + 33] ^= 1;
    if (byz)
        WICAS_WARN("ai", "byzantine (test fault injector): %s in the vote-extension tx of height %lld", byz,
                   (long long)height);
    free(v);
    *tx = p, *len = size;
    return 0;
}

/* CometBFT's VoteExtensionSignBytes: uvarint length || CanonicalVoteExtension
 * {1: extension bytes, 2: height sfixed64, 3: round sfixed64, 4: chain_id},
 * proto3 (zero values omitted). malloc'd. */
static uint8_t *sign_bytes(const char *chain_id, int64_t height, int64_t round, const uint8_t *ext, size_t el,
                           size_t *out_len) {
    size_t cl = strlen(chain_id);
    uint8_t *m = malloc(el + cl + 64);
    if (!m) return NULL;
    size_t n = 10; /* room for the length prefix */
    if (el) m[n++] = 0x0a, n += wicas_uvarint_put(el, m + n), memcpy(m + n, ext, el), n += el;
    if (height) m[n++] = 0x11, put_le64(m + n, (uint64_t)height), n += 8;
    if (round) m[n++] = 0x19, put_le64(m + n, (uint64_t)round), n += 8;
    if (cl) m[n++] = 0x22, n += wicas_uvarint_put(cl, m + n), memcpy(m + n, chain_id, cl), n += cl;
    uint8_t pre[10];
    size_t pl = wicas_uvarint_put(n - 10, pre);
    memcpy(m + 10 - pl, pre, pl);
    memmove(m, m + 10 - pl, n - (10 - pl));
    *out_len = n - (10 - pl);
    return m;
}

static bool ed25519_ok(const uint8_t pk[32], const uint8_t *msg, size_t ml, const uint8_t sig[64]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = key && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(md, sig, 64, msg, ml) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ok;
}

typedef struct {
    uint8_t address[20];
    int64_t power;
    ve_parsed ext;
} inj_vote;

typedef struct {
    inj_vote *v;
    size_t n;
} injection;

static void injection_free(injection *in) {
    for (size_t i = 0; i < in->n; i++)
        ve_parsed_free(&in->v[i].ext);
    free(in->v);
    memset(in, 0, sizeof *in);
}

/* Decodes and verifies an injected tx for the block at `height` against the
 * validator set: exact layout, the previous height, addresses ascending and
 * known with their power, every signature and every extension valid. 0 or -1. */
static int injection_decode(wicas_chain *c, const val *vs, size_t nv, int64_t height, const uint8_t *tx,
                            size_t len, injection *out, char *w, size_t wl) {
    memset(out, 0, sizeof *out);
    if (!wicas_chain_is_vote_injection(tx, len) || len < VE_MAGIC_LEN + 16)
        return why(w, wl, "not a vote-extension transaction");
    const uint8_t *p = tx + VE_MAGIC_LEN, *end = tx + len;
    int64_t vh = (int64_t)wicas_be64_get(p);
    uint32_t round = get_be32(p + 8), n = get_be32(p + 12);
    p += 16;
    if (vh != height - 1)
        return why(w, wl, "vote extensions of height %lld in block %lld", (long long)vh, (long long)height);
    if (round > 1000000u) return why(w, wl, "vote extension round %u out of range", round);
    if (n == 0 || n > nv) return why(w, wl, "%u vote extensions for %zu validators", n, nv);
    out->v = calloc(n, sizeof *out->v);
    if (!out->v) return why(w, wl, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if ((size_t)(end - p) < 20 + 8 + 1 + 4)
            return injection_free(out), why(w, wl, "vote extension transaction truncated");
        inj_vote *iv = &out->v[i];
        memcpy(iv->address, p, 20);
        iv->power = (int64_t)wicas_be64_get(p + 20);
        uint8_t flag = p[28];
        uint32_t el = get_be32(p + 29);
        p += 33;
        if (el == 0 || el > VE_MAX_EXT || (size_t)(end - p) < (size_t)el + 2 + 64)
            return injection_free(out), why(w, wl, "vote extension transaction truncated");
        const uint8_t *ext = p;
        p += el;
        uint16_t sl = (uint16_t)(p[0] << 8 | p[1]);
        p += 2;
        if (sl != 64) return injection_free(out), why(w, wl, "vote extension signature must be 64 bytes");
        const uint8_t *sig = p;
        p += 64;
        out->n = i + 1;
        if (i && memcmp(out->v[i - 1].address, iv->address, 20) >= 0)
            return injection_free(out), why(w, wl, "vote extensions are not in ascending validator order");
        const val *vv = find_val(vs, nv, iv->address);
        if (!vv || vv->power != iv->power || flag != 2)
            return injection_free(out),
                   why(w, wl, "vote extension from an unknown validator or with a wrong power");
        size_t ml;
        uint8_t *msg = sign_bytes(c->chain_id, vh, round, ext, el, &ml);
        bool sok = msg && ed25519_ok(vv->pub_key, msg, ml, sig);
        free(msg);
        if (!sok) return injection_free(out), why(w, wl, "vote extension signature does not verify");
        if (ve_parse(ext, el, &iv->ext, w, wl)) return injection_free(out), -1;
    }
    if (p != end) return injection_free(out), why(w, wl, "trailing bytes after the vote extensions");
    return 0;
}

bool wicas_chain_process_proposal(wicas_chain *c, int64_t height, const uint8_t *const *txs,
                                  const size_t *lens, size_t n, char *w, size_t wl) {
    for (size_t i = 1; i < n; i++)
        if (wicas_chain_is_vote_injection(txs[i], lens[i]))
            return why(w, wl, "vote-extension transaction at position %zu (only the first may be one)", i),
                   false;
    if (n == 0 || !wicas_chain_is_vote_injection(txs[0], lens[0])) return true;
    committed v;
    if (committed_open(c, &v)) return why(w, wl, "cannot read the state"), false;
    val *vs = NULL;
    size_t nv = 0;
    int64_t total = 0;
    bool ok = load_validators(&v.x, &vs, &nv, &total) == 0;
    injection in;
    if (ok) ok = injection_decode(c, vs, nv, height, txs[0], lens[0], &in, w, wl) == 0;
    if (ok) injection_free(&in);
    free(vs);
    committed_close(&v);
    return ok;
}

/* ---- 4. the tally at the start of a block ---------------------------------------------------- */

typedef struct {
    uint8_t hash[32];
    int64_t power;
    const ve_result *r; /* one representative answer */
} group;

/* Sends the outcome to the contract: sudo {"ai_result":{...}} with its own
 * gas limit. Failure drops the callback's writes and is recorded. */
static void callback(wctx *bx, const pending *p, const char *status, const group *g, char *cb_err,
                     size_t cel) {
    wicas_chain *c = bx->c;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(p->rec, "contract");
    uint8_t a[32];
    size_t al = 0;
    if (!cJSON_IsString(ct) || wicas_chain_addr_decode(ct->valuestring, a, &al) || al != 32) {
        snprintf(cb_err, cel, "bad contract address in the request record");
        return;
    }
    cJSON *o = cJSON_CreateObject(), *in = cJSON_CreateObject();
    char ids[24], hex[65];
    cJSON_AddItemToObject(o, "ai_result", in);
    cJSON_AddStringToObject(in, "request_id", u64s(p->id, ids));
    cJSON_AddItemToObject(in, "callback",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p->rec, "callback"), 1));
    cJSON_AddStringToObject(in, "status", status);
    if (g) {
        wicas_hex_encode(g->hash, 32, hex);
        cJSON_AddStringToObject(in, "text", g->r->text);
        cJSON_AddStringToObject(in, "result_hash", hex);
        cJSON_AddNumberToObject(in, "prompt_tokens", g->r->prompt_tokens);
        cJSON_AddNumberToObject(in, "generated_tokens", g->r->gen_tokens);
    } else {
        cJSON_AddNullToObject(in, "text");
    }
    wicas_ai_model m;
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(p->rec, "model");
    if (cJSON_IsString(mn) && wicas_aimod_get_model(bx, mn->valuestring, &m) == 1) {
        wicas_hex_encode(m.sha256, 32, hex);
        cJSON_AddStringToObject(in, "model_sha256", hex);
    }
    char *msg = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!msg) {
        snprintf(cb_err, cel, "out of memory");
        return;
    }
    /* the callback's own chain data: no tx; a derived hash for any seeds */
    uint8_t th[40];
    memcpy(th, "wicas/cb", 8);
    wicas_be64_put(th + 8, p->id);
    wicas_sha256(th, 16, c->tx_hash);
    wicas_aimod_exec(c)->calls = 0;
    wctx sub;
    wicas_ctx_child(&sub, bx);
    sub.gas_limit = sub.gas_used + AIASYNC_CALLBACK_GAS;
    int rc = wicas_wasm_sudo(&sub, a, (const uint8_t *)msg, strlen(msg));
    free(msg);
    if (rc) snprintf(cb_err, cel, "%.200s", sub.err[0] ? sub.err : "callback failed");
    wicas_ctx_end(&sub, bx, rc == 0);
}

static int resolve(wctx *bx, const pending *p, const char *status, const group *g, int64_t agree_power,
                   int64_t total, const injection *in, size_t n_groups) {
    wicas_chain *c = bx->c;
    char cb_err[256] = "";
    callback(bx, p, status, g, cb_err, sizeof cb_err);
    if (c->halt[0]) return -1;
    cJSON *rec = cJSON_Duplicate(p->rec, 1);
    char b1[24], b2[24], b3[24], hex[65];
    cJSON_AddStringToObject(rec, "status", status);
    cJSON_AddStringToObject(rec, "resolved_height", u64s((uint64_t)c->blk_height, b1));
    cJSON_AddStringToObject(rec, "agreeing_power", u64s((uint64_t)agree_power, b2));
    cJSON_AddStringToObject(rec, "total_power", u64s((uint64_t)total, b3));
    if (g) {
        wicas_hex_encode(g->hash, 32, hex);
        cJSON_AddStringToObject(rec, "result_hash", hex);
        cJSON_AddStringToObject(rec, "text", g->r->text);
        cJSON_AddNumberToObject(rec, "prompt_tokens", g->r->prompt_tokens);
        cJSON_AddNumberToObject(rec, "generated_tokens", g->r->gen_tokens);
    }
    /* every validator's answer: disagreements stay on record */
    cJSON *votes = cJSON_AddArrayToObject(rec, "votes");
    for (size_t i = 0; in && i < in->n; i++)
        for (size_t j = 0; j < in->v[i].ext.n; j++)
            if (in->v[i].ext.r[j].id == p->id) {
                cJSON *e = cJSON_CreateObject();
                char a[41], pw[24];
                wicas_hex_encode(in->v[i].address, 20, a);
                wicas_hex_encode(in->v[i].ext.r[j].hash, 32, hex);
                cJSON_AddStringToObject(e, "validator", a);
                cJSON_AddStringToObject(e, "power", u64s((uint64_t)in->v[i].power, pw));
                cJSON_AddStringToObject(e, "result_hash", hex);
                cJSON_AddItemToArray(votes, e);
            }
    if (cb_err[0]) cJSON_AddStringToObject(rec, "callback_error", cb_err);
    char *s = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    if (!s) return wicas_ctx_fail(bx, WICAS_CODE_INTERNAL, "sdk", "out of memory");
    uint8_t k[32];
    size_t kl;
    id_key(K_REQ_DONE, p->id, k, &kl);
    int rc = wicas_st_set(bx, k, kl, (const uint8_t *)s, strlen(s));
    free(s);
    id_key(K_REQ_PENDING, p->id, k, &kl);
    if (!rc) rc = wicas_st_del(bx, k, kl);
    if (rc) return -1;
    char ids[24], ng[24];
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(p->rec, "contract");
    wicas_chain_event *e =
        wicas_ev_add(&bx->ev, "wicas_ai_result", "request_id", u64s(p->id, ids), "contract",
                     cJSON_IsString(ct) ? ct->valuestring : "", "status", status, "agreeing_power", b2,
                     "total_power", b3, "distinct_answers", u64s(n_groups, ng), NULL);
    if (e && g) wicas_ev_attr(e, "result_hash", hex);
    if (e && cb_err[0]) wicas_ev_attr(e, "callback_error", cb_err);
    WICAS_INFO("ai",
               "height %lld: async request %" PRIu64
               " %s (%lld of %lld voting power, %zu distinct answers)%s%s",
               (long long)c->blk_height, p->id, status, (long long)agree_power, (long long)total, n_groups,
               cb_err[0] ? "; callback failed: " : "", cb_err);
    return 0;
}

int wicas_aiasync_begin_block(wicas_chain *c, kv *blk, const wicas_chain_block *b, evlist *events, char *err,
                              size_t errlen) {
    wctx bx;
    wicas_ctx_init(&bx, c, blk, UINT64_MAX);
    c->tx_index = -1;
    pending *pl = NULL;
    size_t np = 0;
    int rc = list_pending(&bx, &pl, &np);
    if (rc || np == 0) {
        if (rc) snprintf(err, errlen, "ai: cannot read pending requests: %s", bx.err);
        wicas_ctx_free(&bx);
        return rc;
    }
    val *vs = NULL;
    size_t nv = 0;
    int64_t total = 0;
    injection in = {0};
    bool have = false;
    if (load_validators(&bx, &vs, &nv, &total) == 0 && nv && b->n_txs &&
        wicas_chain_is_vote_injection(b->txs[0], b->tx_lens[0])) {
        char w[256] = "";
        have = injection_decode(c, vs, nv, b->height, b->txs[0], b->tx_lens[0], &in, w, sizeof w) == 0;
        if (!have)
            WICAS_WARN("ai", "height %lld: ignoring the vote-extension transaction: %s", (long long)b->height,
                       w);
    }
    group *g = calloc(nv ? nv : 1, sizeof *g);
    for (size_t i = 0; g && rc == 0 && i < np; i++) {
        const pending *p = &pl[i];
        size_t ng = 0;
        int64_t answered = 0;
        for (size_t k = 0; have && k < in.n; k++)
            for (size_t j = 0; j < in.v[k].ext.n; j++) {
                const ve_result *r = &in.v[k].ext.r[j];
                if (r->id != p->id) continue;
                answered += in.v[k].power;
                size_t q = 0;
                while (q < ng && memcmp(g[q].hash, r->hash, 32) != 0)
                    q++;
                if (q == ng) {
                    memcpy(g[ng].hash, r->hash, 32);
                    g[ng].power = 0;
                    g[ng].r = r;
                    ng++;
                }
                g[q].power += in.v[k].power;
            }
        /* the strongest answer; ties go to the smaller hash (any fixed rule) */
        const group *best = NULL;
        for (size_t q = 0; q < ng; q++)
            if (!best || g[q].power > best->power ||
                (g[q].power == best->power && memcmp(g[q].hash, best->hash, 32) < 0))
                best = &g[q];
        int64_t bp = best ? best->power : 0;
        uint64_t deadline = 0;
        rec_u64(p->rec, "deadline", &deadline);
        if (total > 0 && 3 * bp > 2 * total)
            rc = resolve(&bx, p, "agreed", best, bp, total, &in, ng);
        else if (total > 0 && answered > 0 && 3 * (bp + total - answered) <= 2 * total)
            rc = resolve(&bx, p, "no_agreement", NULL, bp, total, &in, ng);
        else if ((uint64_t)b->height >= deadline)
            rc = resolve(&bx, p, "timeout", NULL, bp, total, have ? &in : NULL, ng);
    }
    if (!g) rc = wicas_ctx_fail(&bx, WICAS_CODE_INTERNAL, "sdk", "out of memory");
    free(g);
    free(vs);
    injection_free(&in);
    pending_free(pl, np);
    /* the callbacks' events and the outcomes become block events */
    if (rc == 0 && (wicas_kv_merge_down(&bx.ov) || wicas_ev_move(events, &bx.ev))) rc = -1;
    if (rc) snprintf(err, errlen, "ai: resolving asynchronous requests: %s", c->halt[0] ? c->halt : bx.err);
    wicas_ctx_free(&bx);
    c->tx_index = -1;
    return rc ? -1 : 0;
}

/* ---- queries --------------------------------------------------------------------------------- */

char *wicas_aiasync_query_request(wctx *x, uint64_t id, bool *found) {
    uint8_t k[32];
    size_t kl;
    uint8_t *v = NULL;
    size_t vl = 0;
    *found = false;
    id_key(K_REQ_DONE, id, k, &kl);
    int f = wicas_st_get(x, k, kl, &v, &vl);
    if (f == 0) {
        id_key(K_REQ_PENDING, id, k, &kl);
        f = wicas_st_get(x, k, kl, &v, &vl);
        if (f == 1) {
            /* a pending record has no status yet: say so */
            cJSON *o = cJSON_ParseWithLength((const char *)v, vl);
            free(v);
            v = NULL;
            if (!o) return NULL;
            cJSON_AddStringToObject(o, "status", "pending");
            char *s = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            *found = s != NULL;
            return s;
        }
    }
    if (f != 1) return NULL;
    *found = true;
    return (char *)v;
}

/*
 * nameservice_ai.c — the name service that asks a language model about its
 * names: the contract of the WICAS paper.
 *
 * Registering and transferring names is exactly `nameservice` (its source is
 * compiled into this file with its exports renamed, so the two cannot drift);
 * this file adds:
 *   instantiate {..., "model":"smollm2-135m", "max_tokens":48}
 *   execute {"describe":{"name":N}}        synchronous: asks the chain's AI
 *        module through the custom query {"ai":{"infer":{...}}}, stores the
 *        answer under the name; any account may ask (it pays the gas).
 *   execute {"describe_async":{"name":N}}  asynchronous: emits the custom
 *        message {"ai":{"request":{...,"callback":{"describe_result":{"name":N}}}}};
 *        the chain answers later through sudo {"ai_result":{...}}.
 *   sudo {"ai_result":{"callback":{"describe_result":{"name":N}},"text":T,
 *        "model_sha256":H,"status":"agreed"|"no_agreement"|"timeout"}}
 *   query {"description":{"name":N}} -> {"name":N,"text":T|null,"model_sha256":H,
 *        "height":H,"prompt_tokens":P,"generated_tokens":G,"mode":"sync"|"async"}
 */
#include "cw.h"

/* ---- nameservice, with its entry points renamed --------------------------------- */
#undef CW_EXPORT
#define CW_EXPORT(name) static
#define instantiate ns_instantiate
#define execute ns_execute
#define query ns_query
#include "../nameservice/nameservice.c"
#undef instantiate
#undef execute
#undef query
#undef CW_EXPORT
#define CW_EXPORT(name) __attribute__((export_name(name), visibility("default")))

static const char AI_CONFIG_KEY[] = "ai_config";
static const char DESC_NS[] = "description";
#define DEFAULT_MAX_TOKENS 48
#define MAX_MAX_TOKENS 256

static void desc_key(cw_buf *k, const char *name, size_t nl) {
    uint8_t len[2] = {0, (uint8_t)(sizeof DESC_NS - 1)};
    cw_put(k, len, 2);
    cw_put(k, DESC_NS, sizeof DESC_NS - 1);
    cw_put(k, name, nl);
}

/* true when the Region holds {"ok":...} (not {"error":...}) */
static bool region_is_ok(uint32_t ptr) {
    cw_region *r = (cw_region *)(size_t)ptr;
    return r->length >= 6 && memcmp((const char *)(size_t)r->offset, "{\"ok\":", 6) == 0;
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    uint32_t res = ns_instantiate(env, info, msg);
    if (!region_is_ok(res)) return res;
    cw_call c;
    cw_begin(&c, env, info, msg);
    size_t ml;
    char *model = cw_json_str(cw_json_get(c.msg, "model"), &ml);
    if (!model || ml == 0 || ml > 64)
        return cw_error("Error parsing into type nameservice_ai::msg::InstantiateMsg: missing field `model`");
    uint64_t max_tokens = DEFAULT_MAX_TOKENS;
    cw_slice mt = cw_json_get(c.msg, "max_tokens");
    if (mt.p && !cw_json_is_null(mt) &&
        (!cw_json_u64(mt, &max_tokens) || max_tokens == 0 || max_tokens > MAX_MAX_TOKENS))
        return cw_error("max_tokens must be 1..256");
    cw_buf b = {0};
    cw_puts(&b, "{\"model\":");
    cw_put_jstr(&b, model, ml);
    cw_puts(&b, ",\"max_tokens\":");
    cw_put_u64(&b, max_tokens);
    cw_puts(&b, "}");
    cw_set(AI_CONFIG_KEY, sizeof AI_CONFIG_KEY - 1, b.p, b.n);
    return res;
}

/* The owner of a registered name, or NULL. */
static char *owner_of(const char *name, size_t nl, size_t *ol) {
    cw_buf key = {0};
    name_key(&key, name, nl);
    uint8_t *rec;
    size_t rl;
    if (!cw_get(key.p, key.n, &rec, &rl)) return NULL;
    return cw_json_str(cw_json_get((cw_slice){(const char *)rec, rl}, "owner"), ol);
}

/* The inference request body {"model":..,"prompt":..,"max_tokens":..} */
static void put_infer_body(cw_buf *q, const char *name, size_t nl, const char *owner, size_t ol) {
    uint8_t *cfg;
    size_t cl;
    cw_get(AI_CONFIG_KEY, sizeof AI_CONFIG_KEY - 1, &cfg, &cl);
    cw_slice conf = {(const char *)cfg, cl};
    cw_buf prompt = {0};
    cw_puts(&prompt, "On a blockchain name service, the name \"");
    cw_put(&prompt, name, nl);
    cw_puts(&prompt, "\" is registered to the account ");
    cw_put(&prompt, owner, ol);
    cw_puts(&prompt, ". In one sentence, what could this name be used for?");
    cw_puts(q, "{\"model\":");
    cw_slice m = cw_json_get(conf, "model");
    cw_put(q, m.p, m.n);
    cw_puts(q, ",\"prompt\":");
    cw_put_jstr(q, prompt.p, prompt.n);
    cw_puts(q, ",\"max_tokens\":");
    cw_slice mt = cw_json_get(conf, "max_tokens");
    cw_put(q, mt.p, mt.n);
    cw_puts(q, "}");
}

static void store_description(const char *name, size_t nl, cw_slice text, cw_slice sha, uint64_t height,
                              cw_slice pt, cw_slice gt, const char *mode) {
    cw_buf d = {0};
    cw_puts(&d, "{\"name\":");
    cw_put_jstr(&d, name, nl);
    cw_puts(&d, ",\"text\":");
    if (text.p)
        cw_put(&d, text.p, text.n);
    else
        cw_puts(&d, "null");
    cw_puts(&d, ",\"model_sha256\":");
    if (sha.p)
        cw_put(&d, sha.p, sha.n);
    else
        cw_puts(&d, "null");
    cw_puts(&d, ",\"height\":");
    cw_put_u64(&d, height);
    cw_puts(&d, ",\"prompt_tokens\":");
    if (pt.p)
        cw_put(&d, pt.p, pt.n);
    else
        cw_puts(&d, "0");
    cw_puts(&d, ",\"generated_tokens\":");
    if (gt.p)
        cw_put(&d, gt.p, gt.n);
    else
        cw_puts(&d, "0");
    cw_puts(&d, ",\"mode\":\"");
    cw_puts(&d, mode);
    cw_puts(&d, "\"}");
    cw_buf key = {0};
    desc_key(&key, name, nl);
    cw_set(key.p, key.n, d.p, d.n);
}

static uint32_t describe(cw_call *c, cw_slice body, bool async) {
    size_t nl, ol;
    char *name = cw_json_str(cw_json_get(body, "name"), &nl);
    if (!name)
        return cw_error("Error parsing into type nameservice_ai::msg::ExecuteMsg: missing field `name`");
    char *owner = owner_of(name, nl, &ol);
    if (!owner) return errf("Name does not exist (name ", name, nl, ")");
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "action", async ? "describe_async" : "describe", async ? 14 : 8);
    cw_resp_attr(&r, "name", name, nl);
    if (async) {
        cw_buf m = {0};
        cw_puts(&m, "{\"custom\":{\"ai\":{\"request\":");
        cw_buf b = {0};
        put_infer_body(&b, name, nl, owner, ol);
        /* splice the callback into the request object */
        cw_put(&m, b.p, b.n - 1);
        cw_puts(&m, ",\"callback\":{\"describe_result\":{\"name\":");
        cw_put_jstr(&m, name, nl);
        cw_puts(&m, "}}}}}}");
        cw_resp_msg(&r, m.p, m.n);
        return cw_ok(&r);
    }
    cw_buf q = {0};
    cw_puts(&q, "{\"custom\":{\"ai\":{\"infer\":");
    put_infer_body(&q, name, nl, owner, ol);
    cw_puts(&q, "}}}");
    /* SystemResult<ContractResult<Binary>>: {"ok":{"ok":"<base64>"}} */
    cw_slice sys = cw_query_raw(q.p, q.n);
    cw_slice inner = cw_json_get(sys, "ok");
    if (!inner.p) {
        cw_buf e = {0};
        cw_puts(&e, "Querier system error: ");
        cw_put(&e, sys.p, sys.n);
        return cw_errorn(e.p, e.n);
    }
    cw_slice okv = cw_json_get(inner, "ok");
    if (!okv.p) {
        size_t el;
        char *em = cw_json_str(cw_json_get(inner, "error"), &el);
        cw_buf e = {0};
        cw_puts(&e, "Querier contract error: ");
        if (em) cw_put(&e, em, el);
        return cw_errorn(e.p, e.n);
    }
    size_t bl;
    char *b64 = cw_json_str(okv, &bl);
    uint8_t *ans = b64 ? cw_alloc(bl) : NULL;
    long al = b64 ? cw_b64_decode(b64, bl, ans) : -1;
    if (al < 0) return cw_error("AI answer is not base64");
    cw_slice a = {(const char *)ans, (size_t)al};
    cw_slice text = cw_json_get(a, "text");
    if (!text.p) return cw_error("AI answer has no text");
    cw_slice gt = cw_json_get(a, "generated_tokens");
    store_description(name, nl, text, cw_json_get(a, "model_sha256"), cw_block_height(c),
                      cw_json_get(a, "prompt_tokens"), gt, "sync");
    if (gt.p) cw_resp_attr(&r, "generated_tokens", gt.p, gt.n);
    cw_resp_data(&r, (const uint8_t *)a.p, a.n);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "describe")) return describe(&c, body, false);
    if (v.p && cw_eq(v.p, v.n, "describe_async")) return describe(&c, body, true);
    return ns_execute(env, info, msg);
}

CW_EXPORT("sudo") uint32_t sudo(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (!v.p || !cw_eq(v.p, v.n, "ai_result")) return cw_error("unknown sudo message");
    cw_slice cb = cw_json_get(cw_json_get(body, "callback"), "describe_result");
    size_t nl;
    char *name = cw_json_str(cw_json_get(cb, "name"), &nl);
    if (!name) return cw_error("ai_result: missing callback.describe_result.name");
    size_t sl;
    char *status = cw_json_str(cw_json_get(body, "status"), &sl);
    bool agreed = status && cw_eq(status, sl, "agreed");
    cw_slice text = agreed ? cw_json_get(body, "text") : (cw_slice){NULL, 0};
    store_description(name, nl, text, agreed ? cw_json_get(body, "model_sha256") : (cw_slice){NULL, 0},
                      cw_block_height(&c), cw_json_get(body, "prompt_tokens"),
                      cw_json_get(body, "generated_tokens"), agreed ? "async" : "async-failed");
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "action", "ai_result", 9);
    cw_resp_attr(&r, "name", name, nl);
    cw_resp_attr(&r, "status", status ? status : "missing", status ? sl : 7);
    return cw_ok(&r);
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "description")) {
        size_t nl;
        char *name = cw_json_str(cw_json_get(body, "name"), &nl);
        if (!name)
            return cw_error("Error parsing into type nameservice_ai::msg::QueryMsg: missing field `name`");
        cw_buf key = {0};
        desc_key(&key, name, nl);
        uint8_t *d;
        size_t dl;
        if (!cw_get(key.p, key.n, &d, &dl)) {
            cw_buf out = {0};
            cw_puts(&out, "{\"name\":");
            cw_put_jstr(&out, name, nl);
            cw_puts(&out, ",\"text\":null}");
            return cw_query_ok(out.p, out.n);
        }
        return cw_query_ok((const char *)d, dl);
    }
    if (v.p && cw_eq(v.p, v.n, "ai_config")) {
        uint8_t *d;
        size_t dl;
        if (!cw_get(AI_CONFIG_KEY, sizeof AI_CONFIG_KEY - 1, &d, &dl)) return cw_error("ai config not found");
        return cw_query_ok((const char *)d, dl);
    }
    return ns_query(env, msg);
}

/*
 * ai_runner.c — a small contract that hands requests to the chain's AI
 * module and keeps the answers: the smallest contract that uses programs on
 * chain (issue 7), and what the chain tests drive.
 *
 *   instantiate {}
 *   execute {"run":{"key":K,"request":{...}}}     custom query
 *        {"ai":{"run_program":{...request...}}}: stores the answer under K and
 *        returns it as the response data; attributes action=run, key, exit_code,
 *        gas_used. A failed run fails the execution ("run_program failed: ...").
 *   execute {"infer":{"key":K,"request":{...}}}   the same with {"ai":{"infer":{...}}}
 *   execute {"request":{"request":{...}}}   emits the asynchronous custom message
 *        {"ai":{"request":{...}}} (the answer's sudo callback finds no entry
 *        point here and is recorded as failed)
 *   query {"result":{"key":K}} -> the stored answer JSON, or null
 *   query {"infer":{"request":{...}}} -> {"ai":{"infer":{...}}} asked from a
 *        smart query, the answer JSON (a node runs it only up to its
 *        --ai-query-max-tokens; by default it refuses: "infer failed: ...")
 *
 * The request object is passed through verbatim: the AI module checks it
 * (unknown fields are an error there), so this contract never drifts from it.
 */
#include "cw.h"

static void result_key(cw_buf *k, const char *key, size_t kl) {
    cw_puts(k, "result/");
    cw_put(k, key, kl);
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "action", "instantiate", 11);
    return cw_ok(&r);
}

static uint32_t ask(cw_slice body, const char *kind) {
    size_t kl;
    char *key = cw_json_str(cw_json_get(body, "key"), &kl);
    if (!key || kl == 0 || kl > 64)
        return cw_error("Error parsing into type ai_runner::msg::ExecuteMsg: `key` must be 1-64 bytes");
    cw_slice req = cw_json_get(body, "request");
    if (!req.p)
        return cw_error("Error parsing into type ai_runner::msg::ExecuteMsg: missing field `request`");
    cw_buf q = {0};
    cw_puts(&q, "{\"custom\":{\"ai\":{\"");
    cw_puts(&q, kind);
    cw_puts(&q, "\":");
    cw_put(&q, req.p, req.n);
    cw_puts(&q, "}}}");
    /* SystemResult<ContractResult<Binary>>: {"ok":{"ok":"<base64>"}} */
    cw_slice sys = cw_query_raw(q.p, q.n);
    cw_slice inner = cw_json_get(sys, "ok");
    cw_slice okv = inner.p ? cw_json_get(inner, "ok") : (cw_slice){NULL, 0};
    if (!okv.p) {
        size_t el = 0;
        char *em = inner.p ? cw_json_str(cw_json_get(inner, "error"), &el) : NULL;
        cw_buf e = {0};
        cw_puts(&e, kind);
        cw_puts(&e, " failed: ");
        if (em)
            cw_put(&e, em, el);
        else
            cw_put(&e, sys.p, sys.n);
        return cw_errorn(e.p, e.n);
    }
    size_t bl;
    char *b64 = cw_json_str(okv, &bl);
    uint8_t *ans = b64 ? cw_alloc(bl + 1) : NULL;
    long al = b64 ? cw_b64_decode(b64, bl, ans) : -1;
    if (al < 0) return cw_error("AI answer is not base64");
    cw_buf k = {0};
    result_key(&k, key, kl);
    cw_set(k.p, k.n, ans, (size_t)al);
    cw_slice a = {(const char *)ans, (size_t)al};
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "action", kind, cw_strlen(kind));
    cw_resp_attr(&r, "key", key, kl);
    cw_slice ec = cw_json_get(a, "exit_code");
    if (ec.p) cw_resp_attr(&r, "exit_code", ec.p, ec.n);
    size_t gl;
    char *gas = cw_json_str(cw_json_get(a, "gas_used"), &gl);
    if (gas) cw_resp_attr(&r, "gas_used", gas, gl);
    cw_resp_data(&r, ans, (size_t)al);
    return cw_ok(&r);
}

/* execute {"request":{"request":{...}}}: the asynchronous custom message
 * {"ai":{"request":{...}}}, passed on verbatim (the chain checks and prices it
 * when the message runs). */
static uint32_t request_async(cw_slice body) {
    cw_slice req = cw_json_get(body, "request");
    if (!req.p)
        return cw_error("Error parsing into type ai_runner::msg::ExecuteMsg: missing field `request`");
    cw_buf m = {0};
    cw_puts(&m, "{\"custom\":{\"ai\":{\"request\":");
    cw_put(&m, req.p, req.n);
    cw_puts(&m, "}}}");
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "action", "request", 7);
    cw_resp_msg(&r, m.p, m.n);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "run")) return ask(body, "run_program");
    if (v.p && cw_eq(v.p, v.n, "infer")) return ask(body, "infer");
    if (v.p && cw_eq(v.p, v.n, "request")) return request_async(body);
    return cw_error("unknown variant: expected one of `run`, `infer`, `request`");
}

/* query {"infer":{"request":{...}}}: inference from a smart query, answered
 * with the AI module's JSON (nodes allow it only up to their
 * --ai-query-max-tokens; the default 0 refuses it). */
static uint32_t query_infer(cw_slice body) {
    cw_slice req = cw_json_get(body, "request");
    if (!req.p) return cw_error("Error parsing into type ai_runner::msg::QueryMsg: missing field `request`");
    cw_buf q = {0};
    cw_puts(&q, "{\"custom\":{\"ai\":{\"infer\":");
    cw_put(&q, req.p, req.n);
    cw_puts(&q, "}}}");
    cw_slice sys = cw_query_raw(q.p, q.n);
    cw_slice inner = cw_json_get(sys, "ok");
    cw_slice okv = inner.p ? cw_json_get(inner, "ok") : (cw_slice){NULL, 0};
    if (!okv.p) {
        size_t el = 0;
        char *em = inner.p ? cw_json_str(cw_json_get(inner, "error"), &el) : NULL;
        cw_buf e = {0};
        cw_puts(&e, "infer failed: ");
        if (em)
            cw_put(&e, em, el);
        else
            cw_put(&e, sys.p, sys.n);
        return cw_errorn(e.p, e.n);
    }
    size_t bl;
    char *b64 = cw_json_str(okv, &bl);
    uint8_t *ans = b64 ? cw_alloc(bl + 1) : NULL;
    long al = b64 ? cw_b64_decode(b64, bl, ans) : -1;
    if (al < 0) return cw_error("AI answer is not base64");
    return cw_query_ok((const char *)ans, (size_t)al);
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "infer")) return query_infer(body);
    if (!v.p || !cw_eq(v.p, v.n, "result"))
        return cw_error("unknown variant: expected one of `result`, `infer`");
    size_t kl;
    char *key = cw_json_str(cw_json_get(body, "key"), &kl);
    if (!key) return cw_error("Error parsing into type ai_runner::msg::QueryMsg: missing field `key`");
    cw_buf k = {0};
    result_key(&k, key, kl);
    uint8_t *d;
    size_t dl;
    if (!cw_get(k.p, k.n, &d, &dl)) return cw_query_ok("null", 4);
    return cw_query_ok((const char *)d, dl);
}

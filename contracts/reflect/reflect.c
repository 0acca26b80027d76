/*
 * reflect.c — the CosmWasm "reflect" test contract in C: it dispatches the
 * messages and sub-messages it is given and records every reply.
 *   instantiate {}                                  owner = sender
 *   execute {"reflect_msg":{"msgs":[CosmosMsg]}}    owner only, reply never
 *   execute {"reflect_sub_msg":{"msgs":[SubMsg]}}   owner only, as given
 *   execute {"change_owner":{"owner":ADDR}}         owner only
 *   reply(Reply)                                    stores the Reply JSON under its id
 *   query {"owner":{}} -> {"owner":ADDR}
 *   query {"sub_msg_result":{"id":N}} -> the stored Reply
 *   query {"chain":{"request":QueryRequest}} -> {"data":base64} (query_chain passthrough)
 * Error strings as the Rust original's ReflectError.
 */
#include "cw.h"

static const char CONFIG_KEY[] = "config";
static const char NS[] = "results";

static void result_key(cw_buf *k, uint64_t id) {
    uint8_t len[2] = {0, (uint8_t)(sizeof NS - 1)};
    cw_put(k, len, 2);
    cw_put(k, NS, sizeof NS - 1);
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(id >> (56 - 8 * i));
    cw_put(k, be, 8);
}

static char *owner(size_t *ol) {
    uint8_t *v;
    size_t vl;
    if (!cw_get(CONFIG_KEY, sizeof CONFIG_KEY - 1, &v, &vl)) return NULL;
    return cw_json_str(cw_json_get((cw_slice){(const char *)v, vl}, "owner"), ol);
}

static void save_owner(const char *o, size_t ol) {
    cw_buf b = {0};
    cw_puts(&b, "{\"owner\":");
    cw_put_jstr(&b, o, ol);
    cw_puts(&b, "}");
    cw_set(CONFIG_KEY, sizeof CONFIG_KEY - 1, b.p, b.n);
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    size_t sl;
    char *s = cw_sender(&c, &sl);
    if (!s) return cw_error("invalid MessageInfo");
    save_owner(s, sl);
    cw_response r;
    cw_resp_init(&r);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (!v.p) return cw_error("Error parsing into type reflect::msg::ExecuteMsg: expected an enum object");
    size_t ol, sl;
    char *o = owner(&ol), *s = cw_sender(&c, &sl);
    if (!o) return cw_error("reflect::state::State not found");
    if (!s || sl != ol || memcmp(s, o, ol) != 0)
        return cw_error("Permission denied: the sender is not the current owner");
    cw_response r;
    cw_resp_init(&r);
    bool sub = cw_eq(v.p, v.n, "reflect_sub_msg");
    if (sub || cw_eq(v.p, v.n, "reflect_msg")) {
        cw_slice msgs = cw_json_get(body, "msgs"), m;
        size_t pos = 0;
        int n = 0;
        while (cw_json_array_next(msgs, &pos, &m)) {
            n++;
            if (!sub) {
                cw_resp_msg(&r, m.p, m.n);
                continue;
            }
            uint64_t id = 0;
            cw_slice inner = cw_json_get(m, "msg");
            size_t rl;
            char *ro = cw_json_str(cw_json_get(m, "reply_on"), &rl);
            if (!inner.p || !ro || !cw_json_u64(cw_json_get(m, "id"), &id))
                return cw_error("Error parsing into type reflect::msg::ExecuteMsg: invalid SubMsg");
            /* keep the given SubMsg fields; the SDK writes gas_limit null */
            cw_slice gl = cw_json_get(m, "gas_limit");
            if (gl.p && !cw_json_is_null(gl)) {
                if (r.n_msgs++) cw_put(&r.msgs, ",", 1);
                cw_put(&r.msgs, m.p, m.n);
            } else {
                cw_resp_submsg(&r, id, inner.p, inner.n, ro);
            }
        }
        if (n == 0) return cw_error("Messages empty. Must reflect at least one message");
        cw_resp_attr(&r, "action", sub ? "reflect_subcall" : "reflect", sub ? 15 : 7);
        return cw_ok(&r);
    }
    if (cw_eq(v.p, v.n, "change_owner")) {
        size_t nl;
        char *no = cw_json_str(cw_json_get(body, "owner"), &nl);
        if (!no) return cw_error("Error parsing into type reflect::msg::ExecuteMsg: missing field `owner`");
        const char *bad = cw_addr_validate(no, nl);
        if (bad) {
            cw_buf e = {0};
            cw_puts(&e, "Generic error: ");
            cw_puts(&e, bad);
            return cw_errorn(e.p, e.n);
        }
        save_owner(no, nl);
        cw_resp_attr(&r, "action", "change_owner", 12);
        cw_resp_attr(&r, "owner", no, nl);
        return cw_ok(&r);
    }
    return cw_error("Error parsing into type reflect::msg::ExecuteMsg: unknown variant");
}

CW_EXPORT("reply") uint32_t reply(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    uint64_t id;
    if (!cw_json_u64(cw_json_get(c.msg, "id"), &id))
        return cw_error("Error parsing into type cosmwasm_std::Reply");
    cw_buf k = {0};
    result_key(&k, id);
    cw_set(k.p, k.n, c.msg.p, c.msg.n);
    cw_response r;
    cw_resp_init(&r);
    return cw_ok(&r);
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "owner")) {
        size_t ol;
        char *o = owner(&ol);
        if (!o) return cw_error("reflect::state::State not found");
        cw_buf b = {0};
        cw_puts(&b, "{\"owner\":");
        cw_put_jstr(&b, o, ol);
        cw_puts(&b, "}");
        return cw_query_ok(b.p, b.n);
    }
    if (v.p && cw_eq(v.p, v.n, "sub_msg_result")) {
        uint64_t id;
        if (!cw_json_u64(cw_json_get(body, "id"), &id))
            return cw_error("Error parsing into type reflect::msg::QueryMsg");
        cw_buf k = {0};
        result_key(&k, id);
        uint8_t *val;
        size_t vl;
        if (!cw_get(k.p, k.n, &val, &vl))
            return cw_error("cosmwasm_std::results::submessages::Reply not found");
        return cw_query_ok((const char *)val, vl);
    }
    if (v.p && cw_eq(v.p, v.n, "chain")) {
        cw_slice req = cw_json_get(body, "request");
        if (!req.p)
            return cw_error("Error parsing into type reflect::msg::QueryMsg: missing field `request`");
        cw_slice res = cw_query_raw(req.p, req.n);
        /* SystemResult<ContractResult<Binary>> */
        cw_slice ok = cw_json_get(res, "ok");
        if (!ok.p) {
            cw_buf e = {0};
            cw_puts(&e, "Querier system error: ");
            cw_put(&e, res.p, res.n);
            return cw_errorn(e.p, e.n);
        }
        cw_slice data = cw_json_get(ok, "ok");
        if (!data.p) {
            size_t el;
            char *em = cw_json_str(cw_json_get(ok, "error"), &el);
            cw_buf e = {0};
            cw_puts(&e, "Querier contract error: ");
            if (em) cw_put(&e, em, el);
            return cw_errorn(e.p, e.n);
        }
        cw_buf b = {0};
        cw_puts(&b, "{\"data\":");
        cw_put(&b, data.p, data.n);
        cw_puts(&b, "}");
        return cw_query_ok(b.p, b.n);
    }
    return cw_error("Error parsing into type reflect::msg::QueryMsg: unknown variant");
}

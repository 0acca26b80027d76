/*
 * counter.c — the CosmWasm template contract ("counter") in C.
 *   instantiate {"count":N}             -> owner = sender, count = N
 *   execute {"increment":{}}            -> count += 1
 *   execute {"reset":{"count":N}}       -> owner only ("Unauthorized" otherwise)
 *   query {"get_count":{}}              -> {"count":N}
 * State: key "state" = {"count":N,"owner":"addr"}, as cw-template's
 * cw-storage-plus Item<State> stores it. Attributes as in cw-template.
 */
#include "cw.h"

static const char KEY[] = "state";

typedef struct {
    int64_t count;
    char *owner;
    size_t owner_len;
} state;

static void save(const state *s) {
    cw_buf b = {0};
    cw_puts(&b, "{\"count\":");
    cw_put_i64(&b, s->count);
    cw_puts(&b, ",\"owner\":");
    cw_put_jstr(&b, s->owner, s->owner_len);
    cw_puts(&b, "}");
    cw_set(KEY, sizeof KEY - 1, b.p, b.n);
}

static bool load(state *s) {
    uint8_t *v;
    size_t vl;
    if (!cw_get(KEY, sizeof KEY - 1, &v, &vl)) return false;
    cw_slice j = {(const char *)v, vl};
    s->owner = cw_json_str(cw_json_get(j, "owner"), &s->owner_len);
    return s->owner && cw_json_i64(cw_json_get(j, "count"), &s->count);
}

static bool count_of(cw_slice v, int64_t *out) {
    /* i32 in the original */
    return cw_json_i64(v, out) && *out >= -2147483648LL && *out <= 2147483647LL;
}

static uint32_t itoa_attr(cw_response *r, const char *key, int64_t v) {
    cw_buf b = {0};
    cw_put_i64(&b, v);
    cw_resp_attr(r, key, b.p, b.n);
    return 0;
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    state s;
    if (!count_of(cw_json_get(c.msg, "count"), &s.count))
        return cw_error(
            "Error parsing into type counter::msg::InstantiateMsg: missing or invalid field `count`");
    s.owner = cw_sender(&c, &s.owner_len);
    if (!s.owner) return cw_error("invalid MessageInfo");
    save(&s);
    cw_response r;
    cw_resp_init(&r);
    cw_resp_attr(&r, "method", "instantiate", 11);
    cw_resp_attr(&r, "owner", s.owner, s.owner_len);
    itoa_attr(&r, "count", s.count);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_slice body;
    cw_slice v = cw_json_variant(c.msg, &body);
    if (!v.p) return cw_error("Error parsing into type counter::msg::ExecuteMsg: expected an enum object");
    state s;
    if (!load(&s)) return cw_error("counter::state::State not found");
    cw_response r;
    cw_resp_init(&r);
    if (cw_eq(v.p, v.n, "increment")) {
        if (s.count == 2147483647LL) return cw_error("Overflow: count");
        s.count += 1;
        save(&s);
        cw_resp_attr(&r, "action", "increment", 9);
        return cw_ok(&r);
    }
    if (cw_eq(v.p, v.n, "reset")) {
        int64_t n;
        if (!count_of(cw_json_get(body, "count"), &n))
            return cw_error(
                "Error parsing into type counter::msg::ExecuteMsg: missing or invalid field `count`");
        size_t sl;
        char *sender = cw_sender(&c, &sl);
        if (!sender || sl != s.owner_len || memcmp(sender, s.owner, sl) != 0) return cw_error("Unauthorized");
        s.count = n;
        save(&s);
        cw_resp_attr(&r, "action", "reset", 5);
        return cw_ok(&r);
    }
    return cw_error("Error parsing into type counter::msg::ExecuteMsg: unknown variant");
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body;
    cw_slice v = cw_json_variant(c.msg, &body);
    if (!v.p || !cw_eq(v.p, v.n, "get_count"))
        return cw_error("Error parsing into type counter::msg::QueryMsg: unknown variant");
    state s;
    if (!load(&s)) return cw_error("counter::state::State not found");
    cw_buf b = {0};
    cw_puts(&b, "{\"count\":");
    cw_put_i64(&b, s.count);
    cw_puts(&b, "}");
    return cw_query_ok(b.p, b.n);
}

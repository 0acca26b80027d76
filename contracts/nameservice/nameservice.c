/*
 * nameservice.c — the classic cw-nameservice contract in C, with the same
 * JSON and error strings as the Rust original:
 *   instantiate {"purchase_price":Coin|null,"transfer_price":Coin|null}
 *   execute {"register":{"name":N}}            pays purchase_price in funds
 *   execute {"transfer":{"name":N,"to":ADDR}}  owner only, pays transfer_price
 *   query {"resolve_record":{"name":N}} -> {"address":ADDR|null}
 *   query {"config":{}} -> {"purchase_price":...,"transfer_price":...}
 * Names: 3..64 bytes of [0-9a-z.-_]. Storage layout follows cw-storage-plus:
 * Item "config"; Map "name_resolver" keyed by 2-byte BE namespace length,
 * namespace, name. Amounts are handled as u64 (Uint128 strings beyond that
 * are refused with a parse error).
 */
#include "cw.h"

#define MIN_NAME 3
#define MAX_NAME 64
static const char CONFIG_KEY[] = "config";
static const char NS[] = "name_resolver";

static void name_key(cw_buf *k, const char *name, size_t nl) {
    uint8_t len[2] = {0, (uint8_t)(sizeof NS - 1)};
    cw_put(k, len, 2);
    cw_put(k, NS, sizeof NS - 1);
    cw_put(k, name, nl);
}

/* A Coin {"denom","amount"} or null; *has=false for null/absent. */
static bool parse_coin(cw_slice v, bool *has, char **denom, size_t *dl, uint64_t *amount) {
    *has = false;
    if (cw_json_is_null(v)) return true;
    *denom = cw_json_str(cw_json_get(v, "denom"), dl);
    if (!*denom) return false;
    cw_slice a = cw_json_get(v, "amount");
    if (!a.p || a.p[0] != '"' || !cw_json_u64(a, amount)) return false;
    *has = true;
    return true;
}

static void put_coin(cw_buf *b, cw_slice v) {
    bool has;
    char *d;
    size_t dl;
    uint64_t a;
    parse_coin(v, &has, &d, &dl, &a);
    if (!has) {
        cw_puts(b, "null");
        return;
    }
    cw_puts(b, "{\"denom\":");
    cw_put_jstr(b, d, dl);
    cw_puts(b, ",\"amount\":\"");
    cw_put_u64(b, a);
    cw_puts(b, "\"}");
}

static uint32_t errf(const char *a, const char *s, size_t sl, const char *b) {
    cw_buf e = {0};
    cw_puts(&e, a);
    if (s) cw_put(&e, s, sl);
    if (b) cw_puts(&e, b);
    return cw_errorn(e.p, e.n);
}

static uint32_t err_num(const char *a, uint64_t x, const char *b, uint64_t y) {
    cw_buf e = {0};
    cw_puts(&e, a);
    cw_put_u64(&e, x);
    cw_puts(&e, b);
    cw_put_u64(&e, y);
    cw_puts(&e, ")");
    return cw_errorn(e.p, e.n);
}

/* 0 when valid, else an error Region */
static uint32_t validate_name(const char *name, size_t nl) {
    if (nl < MIN_NAME) return err_num("Name too short (length ", nl, " min_length ", MIN_NAME);
    if (nl > MAX_NAME) return err_num("Name too long (length ", nl, " min_length ", MAX_NAME);
    for (size_t i = 0; i < nl; i++) {
        char c = name[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_';
        if (!ok) {
            /* the whole UTF-8 character */
            size_t l = 1;
            uint8_t u = (uint8_t)c;
            if (u >= 0xf0)
                l = 4;
            else if (u >= 0xe0)
                l = 3;
            else if (u >= 0xc0)
                l = 2;
            if (i + l > nl) l = nl - i;
            return errf("Invalid character(char ", name + i, l, NULL);
        }
    }
    return 0;
}

/* funds must hold >= required of denom when a price is configured */
static bool sufficient(const cw_call *c, cw_slice price) {
    bool has;
    char *d;
    size_t dl;
    uint64_t need;
    if (!parse_coin(price, &has, &d, &dl, &need) || !has || need == 0) return true;
    cw_slice funds = cw_json_get(c->info, "funds"), coin;
    size_t pos = 0;
    while (cw_json_array_next(funds, &pos, &coin)) {
        size_t l;
        char *cd = cw_json_str(cw_json_get(coin, "denom"), &l);
        uint64_t a;
        if (cd && l == dl && memcmp(cd, d, dl) == 0 && cw_json_u64(cw_json_get(coin, "amount"), &a) &&
            a >= need)
            return true;
    }
    return false;
}

static cw_slice load_config(void) {
    uint8_t *v;
    size_t vl;
    if (!cw_get(CONFIG_KEY, sizeof CONFIG_KEY - 1, &v, &vl)) return (cw_slice){NULL, 0};
    return (cw_slice){(const char *)v, vl};
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    if (!cw_json_valid(c.msg) || c.msg.p[0] != '{')
        return cw_error("Error parsing into type cw_nameservice::msg::InstantiateMsg: expected an object");
    bool has;
    char *d;
    size_t dl;
    uint64_t a;
    cw_slice pp = cw_json_get(c.msg, "purchase_price"), tp = cw_json_get(c.msg, "transfer_price");
    if (!parse_coin(pp, &has, &d, &dl, &a) || !parse_coin(tp, &has, &d, &dl, &a))
        return cw_error("Error parsing into type cw_nameservice::msg::InstantiateMsg: invalid Coin");
    cw_buf b = {0};
    cw_puts(&b, "{\"purchase_price\":");
    put_coin(&b, pp);
    cw_puts(&b, ",\"transfer_price\":");
    put_coin(&b, tp);
    cw_puts(&b, "}");
    cw_set(CONFIG_KEY, sizeof CONFIG_KEY - 1, b.p, b.n);
    cw_response r;
    cw_resp_init(&r);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (!v.p)
        return cw_error("Error parsing into type cw_nameservice::msg::ExecuteMsg: expected an enum object");
    cw_slice cfg = load_config();
    if (!cfg.p) return cw_error("cw_nameservice::state::Config not found");
    size_t nl, sl;
    char *name = cw_json_str(cw_json_get(body, "name"), &nl);
    char *sender = cw_sender(&c, &sl);
    if (!name)
        return cw_error("Error parsing into type cw_nameservice::msg::ExecuteMsg: missing field `name`");
    cw_buf key = {0};
    name_key(&key, name, nl);
    cw_response r;
    cw_resp_init(&r);
    if (cw_eq(v.p, v.n, "register")) {
        uint32_t e = validate_name(name, nl);
        if (e) return e;
        if (!sufficient(&c, cw_json_get(cfg, "purchase_price"))) return cw_error("Insufficient funds sent");
        uint8_t *old;
        size_t ol;
        if (cw_get(key.p, key.n, &old, &ol)) return errf("Name has been taken (name ", name, nl, ")");
        cw_buf rec = {0};
        cw_puts(&rec, "{\"owner\":");
        cw_put_jstr(&rec, sender, sl);
        cw_puts(&rec, "}");
        cw_set(key.p, key.n, rec.p, rec.n);
        return cw_ok(&r);
    }
    if (cw_eq(v.p, v.n, "transfer")) {
        size_t tl;
        char *to = cw_json_str(cw_json_get(body, "to"), &tl);
        if (!to)
            return cw_error("Error parsing into type cw_nameservice::msg::ExecuteMsg: missing field `to`");
        if (!sufficient(&c, cw_json_get(cfg, "transfer_price"))) return cw_error("Insufficient funds sent");
        const char *bad = cw_addr_validate(to, tl);
        if (bad) return errf("Generic error: ", bad, cw_strlen(bad), NULL);
        uint8_t *old;
        size_t ol;
        if (!cw_get(key.p, key.n, &old, &ol)) return errf("Name does not exist (name ", name, nl, ")");
        size_t owl;
        char *owner = cw_json_str(cw_json_get((cw_slice){(const char *)old, ol}, "owner"), &owl);
        if (!owner || owl != sl || memcmp(owner, sender, sl) != 0) return cw_error("Unauthorized");
        cw_buf rec = {0};
        cw_puts(&rec, "{\"owner\":");
        cw_put_jstr(&rec, to, tl);
        cw_puts(&rec, "}");
        cw_set(key.p, key.n, rec.p, rec.n);
        return cw_ok(&r);
    }
    return cw_error("Error parsing into type cw_nameservice::msg::ExecuteMsg: unknown variant");
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    cw_slice body, v = cw_json_variant(c.msg, &body);
    if (v.p && cw_eq(v.p, v.n, "config")) {
        cw_slice cfg = load_config();
        if (!cfg.p) return cw_error("cw_nameservice::state::Config not found");
        return cw_query_ok(cfg.p, cfg.n);
    }
    if (v.p && cw_eq(v.p, v.n, "resolve_record")) {
        size_t nl;
        char *name = cw_json_str(cw_json_get(body, "name"), &nl);
        if (!name)
            return cw_error("Error parsing into type cw_nameservice::msg::QueryMsg: missing field `name`");
        cw_buf key = {0};
        name_key(&key, name, nl);
        uint8_t *rec;
        size_t rl;
        cw_buf out = {0};
        cw_puts(&out, "{\"address\":");
        if (cw_get(key.p, key.n, &rec, &rl)) {
            size_t ol;
            char *owner = cw_json_str(cw_json_get((cw_slice){(const char *)rec, rl}, "owner"), &ol);
            if (!owner) return cw_error("corrupt record");
            cw_put_jstr(&out, owner, ol);
        } else {
            cw_puts(&out, "null");
        }
        cw_puts(&out, "}");
        return cw_query_ok(out.p, out.n);
    }
    return cw_error("Error parsing into type cw_nameservice::msg::QueryMsg: unknown variant");
}

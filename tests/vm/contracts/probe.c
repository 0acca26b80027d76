/*
 * probe.c — a test-only contract (C SDK) that exercises host functions on
 * demand. execute {"ops":[...]} runs, in order:
 *   {"set":["key","value"]}  {"del":"key"}
 *   {"scan":[start|null, end|null, order, limit]}  appends "k=v" strings of the range
 *   {"validate":"addr"}      appends null or the error text
 *   {"debug":"text"}
 *   {"emit":"to"}            adds an event, a bank send and a wasm execute to "to"
 * and returns the appended results as Response.data (a JSON array).
 * query {"scan":[...]} does the same read-only.
 */
#include "cw.h"

static cw_slice idx(cw_slice arr, int i) {
    size_t pos = 0;
    cw_slice it = {NULL, 0};
    for (int k = 0; k <= i; k++)
        if (!cw_json_array_next(arr, &pos, &it)) return (cw_slice){NULL, 0};
    return it;
}

static void scan(cw_slice args, cw_buf *out, int *n) {
    size_t sl = 0, el = 0;
    char *s = cw_json_is_null(idx(args, 0)) ? NULL : cw_json_str(idx(args, 0), &sl);
    char *e = cw_json_is_null(idx(args, 1)) ? NULL : cw_json_str(idx(args, 1), &el);
    uint64_t order = 1, limit = 100;
    cw_json_u64(idx(args, 2), &order);
    cw_json_u64(idx(args, 3), &limit);
    uint32_t it = cw_scan(s, sl, e, el, (int)order);
    uint8_t *k, *v;
    size_t kl, vl;
    while (limit-- && cw_next(it, &k, &kl, &v, &vl)) {
        cw_buf kv = {0};
        cw_put(&kv, k, kl);
        cw_put(&kv, "=", 1);
        cw_put(&kv, v, vl);
        if ((*n)++) cw_put(out, ",", 1);
        cw_put_jstr(out, kv.p, kv.n);
    }
}

static uint32_t run_ops(cw_slice ops, bool write) {
    cw_response r;
    cw_resp_init(&r);
    cw_buf out = {0};
    int n = 0;
    cw_put(&out, "[", 1);
    size_t pos = 0;
    cw_slice op;
    while (cw_json_array_next(ops, &pos, &op)) {
        cw_slice args, name = cw_json_variant(op, &args);
        if (!name.p) return cw_error("bad op");
        if (cw_eq(name.p, name.n, "set") && write) {
            size_t kl, vl;
            char *k = cw_json_str(idx(args, 0), &kl), *v = cw_json_str(idx(args, 1), &vl);
            if (!k || !v) return cw_error("bad set");
            cw_set(k, kl, v, vl);
        } else if (cw_eq(name.p, name.n, "del") && write) {
            size_t kl;
            char *k = cw_json_str(args, &kl);
            if (!k) return cw_error("bad del");
            cw_remove(k, kl);
        } else if (cw_eq(name.p, name.n, "scan")) {
            scan(args, &out, &n);
        } else if (cw_eq(name.p, name.n, "validate")) {
            size_t al;
            char *a = cw_json_str(args, &al);
            if (!a) return cw_error("bad validate");
            const char *err = cw_addr_validate(a, al);
            if (n++) cw_put(&out, ",", 1);
            if (err)
                cw_put_jstr(&out, err, cw_strlen(err));
            else
                cw_puts(&out, "null");
        } else if (cw_eq(name.p, name.n, "emit") && write) {
            char *to = cw_json_str(args, NULL);
            if (!to) return cw_error("bad emit");
            static const char *const kv[] = {"k1", "v1", "quote\"d", "line\nbreak"};
            cw_resp_event(&r, "probe", 2, kv);
            cw_resp_bank_send(&r, to, "uwicas", 18446744073709551615ULL);
            cw_resp_wasm_execute(&r, to, "{\"increment\":{}}", 16);
            cw_resp_attr(&r, "emitted", to, cw_strlen(to));
        } else if (cw_eq(name.p, name.n, "debug")) {
            char *t = cw_json_str(args, NULL);
            if (t) cw_debug(t);
        } else {
            return cw_error("unknown op");
        }
    }
    cw_put(&out, "]", 1);
    if (!write) return cw_query_ok(out.p, out.n);
    cw_resp_data(&r, (const uint8_t *)out.p, out.n);
    return cw_ok(&r);
}

CW_EXPORT("instantiate") uint32_t instantiate(uint32_t env, uint32_t info, uint32_t msg) {
    (void)env, (void)info, (void)msg;
    cw_response r;
    cw_resp_init(&r);
    return cw_ok(&r);
}

CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, info, msg);
    return run_ops(cw_json_get(c.msg, "ops"), true);
}

CW_EXPORT("query") uint32_t query(uint32_t env, uint32_t msg) {
    cw_call c;
    cw_begin(&c, env, 0, msg);
    return run_ops(cw_json_get(c.msg, "ops"), false);
}

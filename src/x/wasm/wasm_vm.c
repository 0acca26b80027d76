/*
 * wasm_vm.c — the x/wasm module's glue to the contract VM (src/vm): which VM
 * a handle runs on, the contract's storage, the querier contracts ask, and
 * calling an entry point with wasmd's gas rules.
 *
 * VMs. The consensus handle runs contracts on the module's VM; each query
 * view on its query slot's VM (wasm_state, wasm_module.c), so a query never
 * shares a single-threaded wicas_vm with a block. After a restart a VM has
 * only its disk cache or nothing: ensure_code recompiles a stored code from
 * the bytes in the state, WITHOUT gas, since whether a node's cache is warm
 * must not change gas.
 *
 * Storage. A contract's storage is "wasm/store/<addr32><key>" in the chain's
 * store, read and written through the metered store (the SDK's KV gas, like
 * wasmd's prefix store); range iteration maps the contract's [start, end)
 * onto the namespace and never leaves it.
 *
 * Querier. A contract's QueryRequest: {"bank":{"balance"|"all_balances"}},
 * {"wasm":{"smart"|"raw"|"contract_info"}} are answered here in a read-only
 * child context with its own meter (charged back as VM gas); {"custom":{...}}
 * goes to the module offering the key (module.h's custom_query, e.g. the AI
 * module), else to the embedder's hook; anything else is a SystemError
 * "unsupported_request" the contract can read.
 *
 * Calls. wicas_wasm_call_contract charges 60,000 SDK gas per instance
 * (GAS_WASM_INSTANCE), gives the VM the remaining gas times 140,000,000
 * (wasmd's multiplier) and charges back what it used, rounded up. Calls nest
 * at most MAX_DEPTH deep. A non-deterministic VM failure (memory, module
 * cache, missing code) is this node's fault: it sets the chain's halt
 * reason instead of recording an outcome the others may not share.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "wasm_internal.h"
#include "xbank.h"

#define MAX_DEPTH 10

wicas_vm *wicas_wasm_vm_of(const wicas_chain *c) {
    wasm_state *st = wicas_module_state(c, &wicas_module_wasm);
    int slot = wicas_chain_view_slot(c);
    return slot < 0 ? st->vm : st->q_vm[slot];
}

static wicas_vm_api *api_of(const wicas_chain *c) {
    wasm_state *st = wicas_module_state(c, &wicas_module_wasm);
    return st->api;
}

/* Makes sure the VM has compiled code `cs` (see the file comment: no gas). */
static int ensure_code(wctx *x, const uint8_t cs[32]) {
    if (wicas_vm_has_code(wicas_wasm_vm_of(x->c), cs)) return 0;
    uint8_t k[64];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = wicas_kv_get(&x->ov, k, wicas_wasm_key(K_BYTECODE, cs, 32, k), &v, &vl);
    if (rc != 1)
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "wasm bytecode for a stored code is missing");
    char err[256];
    wicas_vm_status st = wicas_vm_store_code(wicas_wasm_vm_of(x->c), v, vl, NULL, err, sizeof err);
    free(v);
    return st == WICAS_VM_OK
               ? 0
               : wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "recompiling stored code failed: %s", err);
}

/* ---- storage adapter: the contract's namespace in the chain store ------------------------------ */

typedef struct {
    wctx *x;
    uint8_t pre[64];
    size_t pl;
} cstore;

static uint8_t *cat(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    uint8_t *p = malloc(al + bl + 1);
    if (!p) return NULL;
    memcpy(p, a, al);
    if (bl) memcpy(p + al, b, bl);
    return p;
}

static int cs_get(void *ctx, const uint8_t *key, size_t kl, int *found, uint8_t **val, size_t *vl) {
    cstore *s = ctx;
    uint8_t *k = cat(s->pre, s->pl, key, kl);
    if (!k) return -1;
    int rc = wicas_st_get(s->x, k, s->pl + kl, val, vl);
    free(k);
    if (rc < 0) return -1;
    *found = rc;
    return 0;
}

static int cs_set(void *ctx, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl) {
    cstore *s = ctx;
    uint8_t *k = cat(s->pre, s->pl, key, kl);
    if (!k) return -1;
    int rc = wicas_st_set(s->x, k, s->pl + kl, val, vl);
    free(k);
    return rc ? -1 : 0;
}

static int cs_remove(void *ctx, const uint8_t *key, size_t kl) {
    cstore *s = ctx;
    uint8_t *k = cat(s->pre, s->pl, key, kl);
    if (!k) return -1;
    int rc = wicas_st_del(s->x, k, s->pl + kl);
    free(k);
    return rc ? -1 : 0;
}

static int cmpb(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al < bl ? -1 : al > bl ? 1 : 0);
}

static int cs_seek(void *ctx, const uint8_t *start, size_t sl, const uint8_t *end, size_t el, int order,
                   const uint8_t *after, size_t afl, int *found, uint8_t **key, size_t *kl, uint8_t **val,
                   size_t *vl) {
    cstore *s = ctx;
    *found = 0;
    uint8_t *b = NULL;
    size_t bl = 0;
    bool incl;
    int rc;
    uint8_t *k = NULL, *v = NULL;
    size_t kl2 = 0, vl2 = 0;
    if (order == WICAS_VM_ORDER_ASCENDING) {
        if (after) {
            b = cat(s->pre, s->pl, after, afl), bl = s->pl + afl, incl = false;
            if (start && cmpb(after, afl, start, sl) < 0)
                free(b), b = cat(s->pre, s->pl, start, sl), bl = s->pl + sl, incl = true;
        } else if (start) {
            b = cat(s->pre, s->pl, start, sl), bl = s->pl + sl, incl = true;
        } else {
            b = cat(s->pre, s->pl, NULL, 0), bl = s->pl, incl = true;
        }
        if (!b) return -1;
        rc = wicas_st_next(s->x, b, bl, incl, &k, &kl2, &v, &vl2);
    } else {
        if (after) {
            b = cat(s->pre, s->pl, after, afl), bl = s->pl + afl, incl = false;
            if (end && cmpb(after, afl, end, el) >= 0)
                free(b), b = cat(s->pre, s->pl, end, el), bl = s->pl + el;
        } else if (end) {
            b = cat(s->pre, s->pl, end, el), bl = s->pl + el, incl = false;
        } else {
            /* just past the namespace: prefix with its last byte incremented
             * (the prefix ends in address bytes; carry over 0xff) */
            b = cat(s->pre, s->pl, NULL, 0), bl = s->pl, incl = false;
            if (!b) return -1;
            size_t i = bl;
            while (i > 0 && b[i - 1] == 0xff)
                i--;
            if (i == 0) {
                free(b);
                b = NULL;
            } else {
                b[i - 1]++;
                bl = i;
            }
        }
        rc = wicas_st_prev(s->x, b, bl, incl, &k, &kl2, &v, &vl2);
    }
    free(b);
    if (rc < 0) return -1;
    if (rc == 0) return 0;
    bool in = kl2 >= s->pl && memcmp(k, s->pre, s->pl) == 0;
    if (in && start && cmpb(k + s->pl, kl2 - s->pl, start, sl) < 0) in = false;
    if (in && end && cmpb(k + s->pl, kl2 - s->pl, end, el) >= 0) in = false;
    if (!in) {
        free(k);
        free(v);
        return 0;
    }
    *key = malloc(kl2 - s->pl + 1);
    if (!*key) {
        free(k), free(v);
        return -1;
    }
    memcpy(*key, k + s->pl, kl2 - s->pl);
    *kl = kl2 - s->pl;
    *val = v;
    *vl = vl2;
    free(k);
    *found = 1;
    return 0;
}

static void cstore_init(cstore *s, wctx *x, const uint8_t a[32]) {
    s->x = x;
    s->pl = wicas_wasm_key(K_CSTORE, a, 32, s->pre);
}

/* ---- small helpers shared with the messages --------------------------------------------------- */

uint8_t *wicas_wasm_b64dec(const cJSON *s, size_t *n) {
    if (!cJSON_IsString(s)) return NULL;
    size_t l = strlen(s->valuestring);
    uint8_t *p = malloc(l / 4 * 3 + 4);
    long r = p ? wicas_base64_decode(s->valuestring, l, p, l / 4 * 3 + 4) : -1;
    if (r < 0) {
        free(p);
        return NULL;
    }
    *n = (size_t)r;
    return p;
}

const wicas_module *wicas_wasm_custom_route(const cJSON *custom, bool msg) {
    if (!cJSON_IsObject(custom)) return NULL;
    for (int i = 0; wicas_modules[i]; i++) {
        const wicas_module *m = wicas_modules[i];
        if (m->custom_key && (msg ? m->custom_msg != NULL : m->custom_query != NULL) &&
            cJSON_GetObjectItemCaseSensitive(custom, m->custom_key))
            return m;
    }
    return NULL;
}

/* ---- querier ---------------------------------------------------------------------------------- */

typedef struct {
    wctx *x;
} qctx;

static char *sys_unsupported(const char *kind) {
    return wicas_xprintf("{\"error\":{\"unsupported_request\":{\"kind\":\"%s\"}}}", kind);
}

static char *answer(wctx *q, const cJSON *j, char **sys) {
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(j, "bank");
    const cJSON *wasm = cJSON_GetObjectItemCaseSensitive(j, "wasm");
    *sys = NULL;
    if (bank) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(bank, "balance");
        const cJSON *all = cJSON_GetObjectItemCaseSensitive(bank, "all_balances");
        if (!b && !all) { /* supply, denom_metadata, ...: no such module here; a SystemError the contract can
                             read */
            *sys = sys_unsupported("bank");
            return NULL;
        }
        const cJSON *addr = cJSON_GetObjectItemCaseSensitive(b ? b : all, "address");
        uint8_t a[32];
        size_t al;
        if (!cJSON_IsString(addr) || wicas_chain_addr_decode(addr->valuestring, a, &al)) {
            wicas_ctx_fail(q, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                           "invalid address in bank query");
            return NULL;
        }
        if (b) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(b, "denom");
            uint64_t amt = 0;
            if (!cJSON_IsString(d) || wicas_bank_balance(q, a, al, d->valuestring, &amt)) {
                wicas_ctx_fail(q, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK,
                               "invalid denom in bank query");
                return NULL;
            }
            cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "amount");
            char s[24];
            snprintf(s, sizeof s, "%" PRIu64, amt);
            cJSON_AddStringToObject(c, "denom", d->valuestring);
            cJSON_AddStringToObject(c, "amount", s);
            char *out = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            return out;
        }
        if (all) {
            coin *c = NULL;
            size_t n = 0;
            if (wicas_bank_all(q, a, al, &c, &n)) return NULL;
            cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "amount");
            for (size_t i = 0; i < n; i++) {
                cJSON *e = cJSON_CreateObject();
                char s[24];
                snprintf(s, sizeof s, "%" PRIu64, c[i].amount);
                cJSON_AddStringToObject(e, "denom", c[i].denom);
                cJSON_AddStringToObject(e, "amount", s);
                cJSON_AddItemToArray(arr, e);
            }
            free(c);
            char *out = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            return out;
        }
        *sys = sys_unsupported("bank");
        return NULL;
    }
    if (wasm) {
        const cJSON *sm = cJSON_GetObjectItemCaseSensitive(wasm, "smart");
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(wasm, "raw");
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(wasm, "contract_info");
        const cJSON *ca = cJSON_GetObjectItemCaseSensitive(sm ? sm : raw ? raw : info, "contract_addr");
        if (!cJSON_IsString(ca)) {
            *sys = sys_unsupported("wasm");
            return NULL;
        }
        if (sm) {
            size_t ml = 0;
            uint8_t *m = wicas_wasm_b64dec(cJSON_GetObjectItemCaseSensitive(sm, "msg"), &ml);
            if (!m) {
                wicas_ctx_fail(q, WICAS_WASM_CODE_INVALID_MSG, WASM_CS, "smart query msg is not base64");
                return NULL;
            }
            bool ok;
            char *out = wicas_wasm_smart_query(q, ca->valuestring, m, ml, &ok);
            free(m);
            if (!ok) {
                free(out);
                if (!q->code) wicas_ctx_fail(q, WICAS_WASM_CODE_QUERY_FAILED, WASM_CS, "query failed");
                return NULL;
            }
            return out;
        }
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (wicas_wasm_load_contract(q, ca->valuestring, a, &ci, NULL)) {
            *sys = wicas_xprintf("{\"error\":{\"no_such_contract\":{\"addr\":\"%.90s\"}}}", ca->valuestring);
            return NULL;
        }
        char *out = NULL;
        if (raw) {
            size_t kl = 0;
            uint8_t *k = wicas_wasm_b64dec(cJSON_GetObjectItemCaseSensitive(raw, "key"), &kl);
            cstore s;
            cstore_init(&s, q, a);
            int found = 0;
            uint8_t *v = NULL;
            size_t vl = 0;
            if (k && cs_get(&s, k, kl, &found, &v, &vl) == 0) {
                /* raw answers are the bytes themselves; the VM base64s them */
                out = found ? (char *)v : wicas_xstrdup("");
                if (!found) free(v);
                if (found) {
                    /* keep length: NUL-terminate a copy */
                    char *c2 = malloc(vl + 1);
                    if (c2) memcpy(c2, v, vl), c2[vl] = 0;
                    free(v);
                    out = c2;
                }
            }
            free(k);
        } else {
            cJSON *o = cJSON_CreateObject();
            char ids[24];
            snprintf(ids, sizeof ids, "%" PRIu64, ci->code_id);
            cJSON_AddItemToObject(o, "code_id", cJSON_CreateRaw(ids));
            cJSON_AddStringToObject(o, "creator", ci->creator);
            if (*ci->admin)
                cJSON_AddStringToObject(o, "admin", ci->admin);
            else
                cJSON_AddNullToObject(o, "admin");
            cJSON_AddBoolToObject(o, "pinned", false);
            cJSON_AddNullToObject(o, "ibc_port");
            out = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
        }
        wchain__contract_info__free_unpacked(ci, NULL);
        return out;
    }
    *sys = sys_unsupported(cJSON_GetObjectItemCaseSensitive(j, "custom") ? "custom" : "unknown");
    return NULL;
}

static int vm_querier(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp,
                      size_t *resp_len, uint64_t *gas_used) {
    qctx *qc = ctx;
    wctx *x = qc->x;
    *resp = NULL;
    *gas_used = 0;
    cJSON *j = cJSON_ParseWithLength(req, len);
    if (!j) {
        *resp = wicas_xprintf("{\"error\":{\"invalid_request\":{\"error\":\"not JSON\",\"request\":\"\"}}}");
        *resp_len = *resp ? strlen(*resp) : 0;
        return *resp ? 0 : -1;
    }
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(j, "custom");
    const wicas_module *cm = wicas_wasm_custom_route(custom, false);
    if (cm) {
        /* a module's custom query (e.g. the AI module: inference priced in
         * SDK gas, charged to the contract) */
        char *out = NULL;
        uint64_t used = 0;
        char err[512] = "";
        int rc =
            cm->custom_query(x, custom, gas_limit / WICAS_VM_GAS_MULTIPLIER, &out, &used, err, sizeof err);
        cJSON_Delete(j);
        *resp = rc == 0 ? wicas_vm_query_ok((const uint8_t *)out, strlen(out))
                        : wicas_vm_query_error(err[0] ? err : "custom query failed");
        free(out);
        *gas_used = used > UINT64_MAX / WICAS_VM_GAS_MULTIPLIER ? gas_limit : used * WICAS_VM_GAS_MULTIPLIER;
        if (*gas_used > gas_limit) *gas_used = gas_limit;
        if (!*resp) return -1;
        *resp_len = strlen(*resp);
        return 0;
    }
    if (custom && x->c->opts.hooks.custom_query) {
        char *cs = cJSON_PrintUnformatted(custom);
        uint8_t *out = NULL;
        size_t ol = 0;
        char err[256] = "";
        int rc = cs ? x->c->opts.hooks.custom_query(x->c->opts.hooks.ctx, (uint8_t *)cs, strlen(cs), &out,
                                                    &ol, err, sizeof err)
                    : -1;
        free(cs);
        *resp =
            rc == 0 ? wicas_vm_query_ok(out, ol) : wicas_vm_query_error(err[0] ? err : "custom query failed");
        free(out);
        cJSON_Delete(j);
        if (!*resp) return -1;
        *resp_len = strlen(*resp);
        return 0;
    }
    /* a read-only child context with its own meter, charged back as VM gas */
    wctx q;
    wicas_ctx_child(&q, x);
    q.gas_used = 0;
    q.gas_limit = gas_limit / WICAS_VM_GAS_MULTIPLIER;
    char *sys = NULL;
    char *out = answer(&q, j, &sys);
    cJSON_Delete(j);
    if (sys) {
        *resp = sys;
    } else if (out) {
        *resp = wicas_vm_query_ok((uint8_t *)out, strlen(out));
    } else {
        *resp = wicas_vm_query_error(q.err[0] ? q.err : "query failed");
    }
    *gas_used = q.gas_used * WICAS_VM_GAS_MULTIPLIER;
    if (*gas_used > gas_limit) *gas_used = gas_limit;
    free(out);
    q.code = 0;
    wicas_ctx_free(&q);
    if (!*resp) return -1;
    *resp_len = strlen(*resp);
    return 0;
}

/* ---- calling a contract ------------------------------------------------------------------------ */

/* Runs entry on contract a. On success *res holds the VM result. Converts VM
 * gas to SDK gas and charges x. Returns 0 or -1 (x failed with `fail_code`). */
int wicas_wasm_call_contract(wctx *x, const uint8_t a[32], const uint8_t cs[32], wicas_vm_entry entry,
                             const char *info_json, const uint8_t *msg, size_t msg_len, uint32_t fail_code,
                             wicas_vm_result *res) {
    memset(res, 0, sizeof *res);
    wicas_chain *c = x->c;
    if (x->depth >= MAX_DEPTH)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_LIMIT, WASM_CS,
                              "contract call depth exceeds %d: exceeds limit", MAX_DEPTH);
    if (wicas_gas_use(x, GAS_WASM_INSTANCE, "Loading CosmWasm module")) return -1;
    if (ensure_code(x, cs)) return -1;
    char as[100];
    wicas_addr_str(a, 32, as);
    char *env =
        wicas_vm_env_json((uint64_t)c->blk_height, (uint64_t)c->blk_time_ns, c->chain_id, c->tx_index, as);
    cstore store;
    cstore_init(&store, x, a);
    wicas_vm_storage st = {&store, cs_get, cs_set, cs_remove, cs_seek};
    qctx q = {x};
    wicas_vm_querier qr = {&q, vm_querier};
    uint64_t remain = x->gas_limit > x->gas_used ? x->gas_limit - x->gas_used : 0;
    uint64_t vm_limit =
        remain > UINT64_MAX / WICAS_VM_GAS_MULTIPLIER ? UINT64_MAX : remain * WICAS_VM_GAS_MULTIPLIER;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info_json,
                              .msg = msg,
                              .msg_len = msg_len,
                              .storage = &st,
                              .querier = &qr,
                              .api = api_of(c),
                              .gas_limit = vm_limit};
    x->depth++;
    wicas_vm_status s = env ? wicas_vm_call(wicas_wasm_vm_of(c), cs, entry, &p, res) : WICAS_VM_ERR_NOMEM;
    x->depth--;
    free(env);
    if (x->out_of_gas) return -1; /* storage gas ran out inside the call */
    if (s != WICAS_VM_OK && !wicas_vm_status_is_deterministic(s) &&
        (x->code == 0 || x->code == WICAS_CODE_INTERNAL)) {
        /* out of memory, module cache, missing code...: this node only */
        if (!c->halt[0])
            snprintf(c->halt, sizeof c->halt, "contract call failed on this node: %s: %s",
                     wicas_vm_strerror(s), res->error ? res->error : "");
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "contract call failed on this node: %s",
                              wicas_vm_strerror(s));
    }
    uint64_t sdk_gas = (res->gas_used + WICAS_VM_GAS_MULTIPLIER - 1) / WICAS_VM_GAS_MULTIPLIER;
    if (s == WICAS_VM_ERR_OUT_OF_GAS) return wicas_gas_use(x, remain + 1, "wasm contract");
    if (wicas_gas_use(x, sdk_gas, "wasm contract")) return -1;
    if (s != WICAS_VM_OK) {
        if (x->code) return -1; /* a storage failure already named the cause */
        return wicas_ctx_fail(x, fail_code, WASM_CS, "%s wasm contract failed: %s",
                              entry == WICAS_VM_INSTANTIATE ? "instantiate"
                              : entry == WICAS_VM_MIGRATE   ? "migrate"
                              : entry == WICAS_VM_QUERY     ? "query"
                              : entry == WICAS_VM_REPLY     ? "reply"
                                                            : "execute",
                              res->error ? res->error : wicas_vm_strerror(s));
    }
    return 0;
}

/* funds as VM coins + info JSON */
char *wicas_wasm_info_json(const char *sender, const coin *c, size_t n) {
    wicas_vm_coin *vc = calloc(n ? n : 1, sizeof *vc);
    char(*amts)[24] = calloc(n ? n : 1, 24);
    char *j = NULL;
    if (vc && amts) {
        for (size_t i = 0; i < n; i++) {
            snprintf(amts[i], 24, "%" PRIu64, c[i].amount);
            vc[i].denom = c[i].denom;
            vc[i].amount = amts[i];
        }
        j = wicas_vm_info_json(sender, vc, n);
    }
    free(vc);
    free(amts);
    return j;
}

char *wicas_wasm_smart_query(wctx *x, const char *contract, const uint8_t *msg, size_t ml, bool *ok) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    Wchain__StoredCode *code;
    *ok = false;
    if (wicas_wasm_load_contract(x, contract, a, &ci, &code)) return NULL;
    wicas_vm_result res;
    char *out = NULL;
    if (wicas_wasm_call_contract(x, a, code->checksum.data, WICAS_VM_QUERY, NULL, msg, ml,
                                 WICAS_WASM_CODE_QUERY_FAILED, &res) == 0) {
        out = malloc(res.query_len + 1);
        if (out) {
            if (res.query_len) memcpy(out, res.query_data, res.query_len);
            out[res.query_len] = 0;
            *ok = true;
        }
    }
    wicas_vm_result_free(&res);
    wchain__contract_info__free_unpacked(ci, NULL);
    wchain__stored_code__free_unpacked(code, NULL);
    return out;
}

/*
 * wasm.c — the x/wasm module: wasmd's messages (MsgStoreCode,
 * MsgInstantiateContract, MsgExecuteContract, MsgMigrateContract,
 * MsgUpdateAdmin, MsgClearAdmin) on top of the contract VM (src/vm), with
 * wasmd's events, classic contract addresses, contract-to-contract and bank
 * messages from contracts, sub-messages with reply, and the querier that
 * answers contracts' bank/wasm queries (custom queries go to a hook).
 *
 * Facts taken from wasmd v0.53 (x/wasm/keeper): code ids and instance ids
 * start at 1; contract address = address.Module("wasm", BE8(code_id) ||
 * BE8(instance_id)) = SHA-256(SHA-256("module") || "wasm" || 0x00 || key),
 * 32 bytes; events "store_code"{code_checksum, code_id}, "instantiate"
 * {_contract_address, code_id}, "execute"{_contract_address}, "migrate"
 * {_contract_address, code_id}, "update_contract_admin"{_contract_address,
 * new_admin_address}, "wasm"{_contract_address, contract attributes...},
 * "wasm-<type>"{_contract_address, ...}, "reply"{_contract_address};
 * gas: 60,000 SDK gas per contract instance, 3 gas per byte compiled, VM gas
 * divided by 140,000,000 (wasmd's multiplier); errors returned to a reply on
 * error are redacted to "codespace: wasm, code: N" like wasmd does, so
 * non-deterministic error text never reaches contract state.
 *
 * Contract storage is "wasm/store/<addr32><key>" in the chain's store, metered
 * with the SDK's KV gas like wasmd's prefix store.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "module.h"
#include "vm.h"
#include "xauth.h"
#include "xbank.h"
#include "xwasm.h"

#define URL_STORE "/cosmwasm.wasm.v1.MsgStoreCode"
#define URL_INST "/cosmwasm.wasm.v1.MsgInstantiateContract"
#define URL_EXEC "/cosmwasm.wasm.v1.MsgExecuteContract"
#define URL_MIGRATE "/cosmwasm.wasm.v1.MsgMigrateContract"
#define URL_ADMIN "/cosmwasm.wasm.v1.MsgUpdateAdmin"
#define URL_CLEAR "/cosmwasm.wasm.v1.MsgClearAdmin"
#define CS WICAS_CHAIN_CODESPACE_WASM
#define MAX_DEPTH 10
#define MAX_LABEL 128

const wicas_module wicas_module_wasm;

/* The module's shared state: the consensus VM, the address API, and one VM
 * per query slot (a wicas_vm is single-threaded; created on first use). */
typedef struct {
    wicas_vm *vm;
    wicas_vm_api *api;
    wicas_vm *q_vm[CHAIN_QUERY_WORKERS];
} wasm_state;

/* The VM this handle runs contracts on: the slot's in a query view. */
static wicas_vm *vm_of(const wicas_chain *c) {
    wasm_state *st = wicas_module_state(c, &wicas_module_wasm);
    int slot = wicas_chain_view_slot(c);
    return slot < 0 ? st->vm : st->q_vm[slot];
}

static wicas_vm_api *api_of(const wicas_chain *c) {
    wasm_state *st = wicas_module_state(c, &wicas_module_wasm);
    return st->api;
}

static bool addr_ok(const char *a) {
    uint8_t b[32];
    size_t n;
    return a && wicas_chain_addr_decode(a, b, &n) == 0;
}

static bool json_ok(const uint8_t *p, size_t n) {
    if (n == 0) return false;
    cJSON *j = cJSON_ParseWithLength((const char *)p, n);
    bool ok = j != NULL;
    cJSON_Delete(j);
    return ok;
}

static int serr(char *err, size_t errlen, const char *m) {
    snprintf(err, errlen, "%s", m);
    return -1;
}

static int wasm_signer(const char *u, const uint8_t *val, size_t len, char **signer, char *err, size_t errlen) {
    *signer = NULL;
    const char *s = NULL;
    int rc = 0;
    char tmp[200];
    coin *c = NULL;
    size_t nc = 0;
    if (strcmp(u, URL_STORE) == 0) {
        Wchain__MsgStoreCode *m = wchain__msg_store_code__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgStoreCode: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (m->wasm_byte_code.len == 0) rc = serr(err, errlen, "empty wasm code: invalid request");
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_store_code__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_INST) == 0) {
        Wchain__MsgInstantiateContract *m = wchain__msg_instantiate_contract__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgInstantiateContract: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (*m->admin && !addr_ok(m->admin)) rc = serr(err, errlen, "invalid admin address: invalid address");
        else if (m->code_id == 0) rc = serr(err, errlen, "code id is required: invalid request");
        else if (!*m->label || strlen(m->label) > MAX_LABEL) rc = serr(err, errlen, "label must be 1..128 characters: invalid request");
        else if (!json_ok(m->msg.data, m->msg.len)) rc = serr(err, errlen, "msg is not valid JSON: invalid request");
        else if (coins_from_pb(m->funds, m->n_funds, &c, &nc, tmp, sizeof tmp)) rc = serr(err, errlen, tmp);
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_instantiate_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_EXEC) == 0) {
        Wchain__MsgExecuteContract *m = wchain__msg_execute_contract__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgExecuteContract: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract)) rc = serr(err, errlen, "invalid contract address: invalid address");
        else if (!json_ok(m->msg.data, m->msg.len)) rc = serr(err, errlen, "msg is not valid JSON: invalid request");
        else if (coins_from_pb(m->funds, m->n_funds, &c, &nc, tmp, sizeof tmp)) rc = serr(err, errlen, tmp);
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_execute_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_MIGRATE) == 0) {
        Wchain__MsgMigrateContract *m = wchain__msg_migrate_contract__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgMigrateContract: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract)) rc = serr(err, errlen, "invalid contract address: invalid address");
        else if (m->code_id == 0) rc = serr(err, errlen, "code id is required: invalid request");
        else if (!json_ok(m->msg.data, m->msg.len)) rc = serr(err, errlen, "msg is not valid JSON: invalid request");
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_migrate_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_ADMIN) == 0) {
        Wchain__MsgUpdateAdmin *m = wchain__msg_update_admin__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgUpdateAdmin: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract)) rc = serr(err, errlen, "invalid contract address: invalid address");
        else if (!addr_ok(m->new_admin)) rc = serr(err, errlen, "invalid new admin address: invalid address");
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_update_admin__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_CLEAR) == 0) {
        Wchain__MsgClearAdmin *m = wchain__msg_clear_admin__unpack(NULL, len, val);
        if (!m) return serr(err, errlen, "cannot decode MsgClearAdmin: tx parse error");
        if (!addr_ok(m->sender)) rc = serr(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract)) rc = serr(err, errlen, "invalid contract address: invalid address");
        if (!rc) *signer = xstrdup(m->sender);
        wchain__msg_clear_admin__free_unpacked(m, NULL);
    } else {
        return serr(err, errlen, "not a wasm message");
    }
    free(c);
    (void)s;
    return rc;
}

/* ---- keys and records -------------------------------------------------------------------- */

static size_t key_with(const char *pre, const uint8_t *a, size_t al, uint8_t *out) {
    size_t pl = strlen(pre);
    memcpy(out, pre, pl);
    memcpy(out + pl, a, al);
    return pl + al;
}

static int next_seq(wctx *x, const char *key, uint64_t *id) {
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = st_get(x, (const uint8_t *)key, strlen(key), &v, &vl);
    if (rc < 0) return -1;
    *id = (rc == 1 && vl == 8) ? be64_get(v) : 1;
    free(v);
    uint8_t nb[8];
    be64_put(nb, *id + 1);
    return st_set(x, (const uint8_t *)key, strlen(key), nb, 8);
}

static int code_get(wctx *x, uint64_t id, Wchain__StoredCode **out) {
    uint8_t k[32], ib[8];
    be64_put(ib, id);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = st_get(x, k, key_with(K_CODE, ib, 8, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__stored_code__unpack(NULL, vl, v);
    free(v);
    return *out ? 1 : ctx_fail(x, WICAS_CODE_INTERNAL, CS, "stored code record %" PRIu64 " is corrupt", id);
}

static int contract_get(wctx *x, const uint8_t a[32], Wchain__ContractInfo **out) {
    uint8_t k[64];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = st_get(x, k, key_with(K_CONTRACT, a, 32, k), &v, &vl);
    if (rc != 1) return rc;
    *out = wchain__contract_info__unpack(NULL, vl, v);
    free(v);
    return *out ? 1 : ctx_fail(x, WICAS_CODE_INTERNAL, CS, "stored contract record is corrupt");
}

static int contract_set(wctx *x, const uint8_t a[32], const Wchain__ContractInfo *ci) {
    uint8_t k[64];
    size_t n = wchain__contract_info__get_packed_size(ci);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
    wchain__contract_info__pack(ci, buf);
    int rc = st_set(x, k, key_with(K_CONTRACT, a, 32, k), buf, n);
    free(buf);
    return rc;
}

static size_t bycode_key(uint64_t code_id, const Wchain__ContractInfo *ci, const uint8_t a[32], uint8_t *k) {
    size_t o = strlen(K_BYCODE);
    memcpy(k, K_BYCODE, o);
    be64_put(k + o, code_id);
    be64_put(k + o + 8, ci->created ? ci->created->block_height : 0);
    be64_put(k + o + 16, ci->created ? ci->created->tx_index : 0);
    memcpy(k + o + 24, a, 32);
    return o + 56;
}

/* Contract address by the classic rule (see the file comment). */
static void classic_addr(uint64_t code_id, uint64_t inst, uint8_t out[32]) {
    uint8_t th[32], buf[32 + 5 + 16];
    wicas_sha256("module", 6, th);
    memcpy(buf, th, 32);
    memcpy(buf + 32, "wasm", 4);
    buf[36] = 0;
    be64_put(buf + 37, code_id);
    be64_put(buf + 45, inst);
    wicas_sha256(buf, sizeof buf, out);
}

static int load_contract(wctx *x, const char *contract, uint8_t a[32], Wchain__ContractInfo **ci,
                         Wchain__StoredCode **code) {
    size_t al;
    *ci = NULL;
    if (code) *code = NULL;
    if (!contract || wicas_chain_addr_decode(contract, a, &al) || al != 32) {
        return ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CONTRACT, CS, "no such contract: %s", contract ? contract : "");
    }
    int rc = contract_get(x, a, ci);
    if (rc < 0) return -1;
    if (rc == 0) return ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CONTRACT, CS, "no such contract: %s", contract);
    if (code) {
        rc = code_get(x, (*ci)->code_id, code);
        if (rc != 1) {
            wchain__contract_info__free_unpacked(*ci, NULL);
            *ci = NULL;
            return rc < 0 ? -1 : ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, CS, "no such code for contract %s", contract);
        }
    }
    return 0;
}


/* ---- VM glue ------------------------------------------------------------------------------ */

static wicas_vm *wasm_vm_new(const wicas_chain *c, char *err, size_t errlen) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/wasm-cache", c->data_dir);
    mkdir(dir, 0755);
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    cfg.cache_dir = dir;
    return wicas_vm_new(&cfg, err, errlen);
}

static void wasm_close(wicas_chain *c, void *state) {
    (void)c;
    wasm_state *st = state;
    if (!st) return;
    for (int i = 0; i < CHAIN_QUERY_WORKERS; i++)
        if (st->q_vm[i]) wicas_vm_free(st->q_vm[i]);
    if (st->vm) wicas_vm_free(st->vm);
    if (st->api) wicas_vm_api_free(st->api);
    free(st);
}

static int wasm_open(wicas_chain *c, void **state, char *err, size_t errlen) {
    wasm_state *st = calloc(1, sizeof *st);
    if (!st) return wicas_errf(err, errlen, "out of memory"), WICAS_CHAIN_ERR_NOMEM;
    st->vm = wasm_vm_new(c, err, errlen);
    st->api = wicas_vm_api_bech32(WICAS_CHAIN_BECH32_PREFIX);
    if (!st->vm || !st->api) {
        if (st->api == NULL && errlen) snprintf(err, errlen, "cannot create the contract VM address API");
        wasm_close(c, st);
        return WICAS_CHAIN_ERR_INVALID;
    }
    *state = st;
    return 0;
}

/* A query view runs contracts on its slot's VM (the slot is the view's alone
 * while it is open, so creating it here needs no lock). */
static int wasm_view_open(wicas_chain *view, void *state, int slot, char *err, size_t errlen) {
    wasm_state *st = state;
    if (!st->q_vm[slot]) st->q_vm[slot] = wasm_vm_new(view, err, errlen);
    return st->q_vm[slot] ? 0 : WICAS_CHAIN_ERR_NOMEM;
}

/* Makes sure the VM has compiled code `cs` (after a restart it only has the
 * disk cache or nothing); reads the bytes from the state without gas, since
 * whether a node has a warm cache must not change gas. */
static int ensure_code(wctx *x, const uint8_t cs[32]) {
    if (wicas_vm_has_code(vm_of(x->c), cs)) return 0;
    uint8_t k[64];
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = kv_get(&x->ov, k, key_with(K_BYTECODE, cs, 32, k), &v, &vl);
    if (rc != 1) return ctx_fail(x, WICAS_CODE_INTERNAL, CS, "wasm bytecode for a stored code is missing");
    char err[256];
    wicas_vm_status st = wicas_vm_store_code(vm_of(x->c), v, vl, NULL, err, sizeof err);
    free(v);
    return st == WICAS_VM_OK ? 0 : ctx_fail(x, WICAS_CODE_INTERNAL, CS, "recompiling stored code failed: %s", err);
}

/* Storage adapter: the contract's namespace in the chain store. */
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
    int rc = st_get(s->x, k, s->pl + kl, val, vl);
    free(k);
    if (rc < 0) return -1;
    *found = rc;
    return 0;
}

static int cs_set(void *ctx, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl) {
    cstore *s = ctx;
    uint8_t *k = cat(s->pre, s->pl, key, kl);
    if (!k) return -1;
    int rc = st_set(s->x, k, s->pl + kl, val, vl);
    free(k);
    return rc ? -1 : 0;
}

static int cs_remove(void *ctx, const uint8_t *key, size_t kl) {
    cstore *s = ctx;
    uint8_t *k = cat(s->pre, s->pl, key, kl);
    if (!k) return -1;
    int rc = st_del(s->x, k, s->pl + kl);
    free(k);
    return rc ? -1 : 0;
}

static int cmpb(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al < bl ? -1 : al > bl ? 1 : 0);
}

static int cs_seek(void *ctx, const uint8_t *start, size_t sl, const uint8_t *end, size_t el, int order,
                   const uint8_t *after, size_t afl, int *found, uint8_t **key, size_t *kl, uint8_t **val, size_t *vl) {
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
            if (start && cmpb(after, afl, start, sl) < 0) free(b), b = cat(s->pre, s->pl, start, sl), bl = s->pl + sl, incl = true;
        } else if (start) {
            b = cat(s->pre, s->pl, start, sl), bl = s->pl + sl, incl = true;
        } else {
            b = cat(s->pre, s->pl, NULL, 0), bl = s->pl, incl = true;
        }
        if (!b) return -1;
        rc = st_next(s->x, b, bl, incl, &k, &kl2, &v, &vl2);
    } else {
        if (after) {
            b = cat(s->pre, s->pl, after, afl), bl = s->pl + afl, incl = false;
            if (end && cmpb(after, afl, end, el) >= 0) free(b), b = cat(s->pre, s->pl, end, el), bl = s->pl + el;
        } else if (end) {
            b = cat(s->pre, s->pl, end, el), bl = s->pl + el, incl = false;
        } else {
            /* just past the namespace: prefix with its last byte incremented
             * (the prefix ends in address bytes; carry over 0xff) */
            b = cat(s->pre, s->pl, NULL, 0), bl = s->pl, incl = false;
            if (!b) return -1;
            size_t i = bl;
            while (i > 0 && b[i - 1] == 0xff) i--;
            if (i == 0) {
                free(b);
                b = NULL;
            } else {
                b[i - 1]++;
                bl = i;
            }
        }
        rc = st_prev(s->x, b, bl, incl, &k, &kl2, &v, &vl2);
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
    s->pl = key_with(K_CSTORE, a, 32, s->pre);
}

static int vm_querier(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp, size_t *resp_len,
                      uint64_t *gas_used);

typedef struct {
    wctx *x;
} qctx;

/* Runs entry on contract a. On success *res holds the VM result. Converts VM
 * gas to SDK gas and charges x. Returns 0 or -1 (x failed with `fail_code`). */
static int call_contract(wctx *x, const uint8_t a[32], const uint8_t cs[32], wicas_vm_entry entry,
                         const char *info_json, const uint8_t *msg, size_t msg_len, uint32_t fail_code,
                         wicas_vm_result *res) {
    memset(res, 0, sizeof *res);
    wicas_chain *c = x->c;
    if (x->depth >= MAX_DEPTH) return ctx_fail(x, WICAS_WASM_CODE_LIMIT, CS, "contract call depth exceeds %d: exceeds limit", MAX_DEPTH);
    if (gas_use(x, GAS_WASM_INSTANCE, "Loading CosmWasm module")) return -1;
    if (ensure_code(x, cs)) return -1;
    char as[100];
    addr_str(a, 32, as);
    char *env = wicas_vm_env_json((uint64_t)c->blk_height, (uint64_t)c->blk_time_ns, c->chain_id, c->tx_index, as);
    cstore store;
    cstore_init(&store, x, a);
    wicas_vm_storage st = {&store, cs_get, cs_set, cs_remove, cs_seek};
    qctx q = {x};
    wicas_vm_querier qr = {&q, vm_querier};
    uint64_t remain = x->gas_limit > x->gas_used ? x->gas_limit - x->gas_used : 0;
    uint64_t vm_limit = remain > UINT64_MAX / WICAS_VM_GAS_MULTIPLIER ? UINT64_MAX : remain * WICAS_VM_GAS_MULTIPLIER;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info_json,
                              .msg = msg,
                              .msg_len = msg_len,
                              .storage = &st,
                              .querier = &qr,
                              .api = api_of(c),
                              .gas_limit = vm_limit};
    x->depth++;
    wicas_vm_status s = env ? wicas_vm_call(vm_of(c), cs, entry, &p, res) : WICAS_VM_ERR_NOMEM;
    x->depth--;
    free(env);
    if (x->out_of_gas) return -1; /* storage gas ran out inside the call */
    if (s != WICAS_VM_OK && !wicas_vm_status_is_deterministic(s) && (x->code == 0 || x->code == WICAS_CODE_INTERNAL)) {
        /* out of memory, module cache, missing code...: this node only */
        if (!c->halt[0])
            snprintf(c->halt, sizeof c->halt, "contract call failed on this node: %s: %s", wicas_vm_strerror(s),
                     res->error ? res->error : "");
        return ctx_fail(x, WICAS_CODE_INTERNAL, CS, "contract call failed on this node: %s", wicas_vm_strerror(s));
    }
    uint64_t sdk_gas = (res->gas_used + WICAS_VM_GAS_MULTIPLIER - 1) / WICAS_VM_GAS_MULTIPLIER;
    if (s == WICAS_VM_ERR_OUT_OF_GAS) return gas_use(x, remain + 1, "wasm contract");
    if (gas_use(x, sdk_gas, "wasm contract")) return -1;
    if (s != WICAS_VM_OK) {
        if (x->code) return -1; /* a storage failure already named the cause */
        return ctx_fail(x, fail_code, CS, "%s wasm contract failed: %s",
                        entry == WICAS_VM_INSTANTIATE ? "instantiate" : entry == WICAS_VM_MIGRATE ? "migrate"
                                                                      : entry == WICAS_VM_QUERY   ? "query"
                                                                      : entry == WICAS_VM_REPLY   ? "reply"
                                                                                                  : "execute",
                        res->error ? res->error : wicas_vm_strerror(s));
    }
    return 0;
}

static int handle_response(wctx *x, const uint8_t a[32], const char *ok_json, uint8_t **data, size_t *data_len);

/* funds as VM coins + info JSON */
static char *info_json_for(const char *sender, const coin *c, size_t n) {
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

/* ---- operations (shared by tx messages and contract messages) --------------------------- */

static int do_instantiate(wctx *x, const uint8_t *sender, size_t sl, const char *admin, uint64_t code_id,
                          const char *label, const uint8_t *msg, size_t msg_len, const coin *funds, size_t nf,
                          uint8_t out_addr[32], uint8_t **data, size_t *data_len) {
    Wchain__StoredCode *code = NULL;
    int rc = code_get(x, code_id, &code);
    if (rc < 0) return -1;
    if (rc == 0) return ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, CS, "no such code: %" PRIu64, code_id);
    uint64_t inst;
    if (next_seq(x, K_INST_SEQ, &inst)) goto fail;
    classic_addr(code_id, inst, out_addr);
    Wchain__ContractInfo *existing = NULL;
    rc = contract_get(x, out_addr, &existing);
    if (rc != 0) {
        if (existing) wchain__contract_info__free_unpacked(existing, NULL);
        if (rc == 1) ctx_fail(x, WICAS_WASM_CODE_DUPLICATE, CS, "contract address already exists: duplicate");
        goto fail;
    }
    if (acc_ensure(x, out_addr, 32)) goto fail;
    if (nf && bank_send(x, sender, sl, out_addr, 32, funds, nf)) goto fail;
    char creator[100], as[100];
    addr_str(sender, sl, creator);
    addr_str(out_addr, 32, as);
    Wchain__AbsoluteTxPosition pos = WCHAIN__ABSOLUTE_TX_POSITION__INIT;
    pos.block_height = (uint64_t)x->c->blk_height;
    pos.tx_index = x->c->tx_index < 0 ? 0 : (uint64_t)x->c->tx_index;
    Wchain__ContractInfo ci = WCHAIN__CONTRACT_INFO__INIT;
    ci.code_id = code_id;
    ci.creator = creator;
    ci.admin = (char *)(admin ? admin : "");
    ci.label = (char *)label;
    ci.created = &pos;
    if (contract_set(x, out_addr, &ci)) goto fail;
    uint8_t bk[128];
    if (st_set(x, bk, bycode_key(code_id, &ci, out_addr, bk), (const uint8_t *)"", 0)) goto fail;
    char *info = info_json_for(creator, funds, nf);
    if (!info) {
        ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        goto fail;
    }
    wicas_vm_result res;
    rc = call_contract(x, out_addr, code->checksum.data, WICAS_VM_INSTANTIATE, info, msg, msg_len,
                       WICAS_WASM_CODE_INSTANTIATE_FAILED, &res);
    free(info);
    if (rc) {
        wicas_vm_result_free(&res);
        goto fail;
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRIu64, code_id);
    ev_add(&x->ev, "instantiate", "_contract_address", as, "code_id", ids, NULL);
    rc = handle_response(x, out_addr, res.ok_json, data, data_len);
    wicas_vm_result_free(&res);
    wchain__stored_code__free_unpacked(code, NULL);
    return rc;
fail:
    wchain__stored_code__free_unpacked(code, NULL);
    return -1;
}

static int do_execute(wctx *x, const uint8_t *sender, size_t sl, const char *contract, const uint8_t *msg,
                      size_t msg_len, const coin *funds, size_t nf, uint8_t **data, size_t *data_len) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    Wchain__StoredCode *code;
    if (load_contract(x, contract, a, &ci, &code)) return -1;
    int rc = -1;
    char ss[100];
    addr_str(sender, sl, ss);
    char *info = NULL;
    if (nf && bank_send(x, sender, sl, a, 32, funds, nf)) goto done;
    if (!(info = info_json_for(ss, funds, nf))) {
        ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        goto done;
    }
    wicas_vm_result res;
    rc = call_contract(x, a, code->checksum.data, WICAS_VM_EXECUTE, info, msg, msg_len,
                       WICAS_WASM_CODE_EXECUTE_FAILED, &res);
    if (rc == 0) {
        ev_add(&x->ev, "execute", "_contract_address", contract, NULL);
        rc = handle_response(x, a, res.ok_json, data, data_len);
    }
    wicas_vm_result_free(&res);
done:
    free(info);
    wchain__contract_info__free_unpacked(ci, NULL);
    wchain__stored_code__free_unpacked(code, NULL);
    return rc;
}

/* sudo, called by the chain itself (asynchronous AI results): no sender, no
 * funds; wasmd emits a "sudo" event with the contract address. */
int wasm_sudo(wctx *x, const uint8_t contract[32], const uint8_t *msg, size_t len) {
    char as[100];
    addr_str(contract, 32, as);
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    Wchain__StoredCode *code;
    if (load_contract(x, as, a, &ci, &code)) return -1;
    wicas_vm_result res;
    int rc = call_contract(x, a, code->checksum.data, WICAS_VM_SUDO, NULL, msg, len, WICAS_WASM_CODE_EXECUTE_FAILED,
                           &res);
    if (rc == 0) {
        ev_add(&x->ev, "sudo", "_contract_address", as, NULL);
        uint8_t *d = NULL;
        size_t dl = 0;
        rc = handle_response(x, a, res.ok_json, &d, &dl);
        free(d);
    }
    wicas_vm_result_free(&res);
    wchain__contract_info__free_unpacked(ci, NULL);
    wchain__stored_code__free_unpacked(code, NULL);
    return rc;
}

static int do_migrate(wctx *x, const uint8_t *sender, size_t sl, const char *contract, uint64_t new_code,
                      const uint8_t *msg, size_t msg_len, uint8_t **data, size_t *data_len) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    if (load_contract(x, contract, a, &ci, NULL)) return -1;
    char ss[100];
    addr_str(sender, sl, ss);
    int rc = -1;
    Wchain__StoredCode *code = NULL;
    if (!*ci->admin || strcmp(ci->admin, ss) != 0) {
        ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK, "can not migrate: unauthorized");
        goto done;
    }
    int r = code_get(x, new_code, &code);
    if (r != 1) {
        if (r == 0) ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, CS, "no such code: %" PRIu64, new_code);
        goto done;
    }
    /* MigrateInfo for contracts whose migrate takes it (cosmwasm-std 2.2):
     * the sender and the migrate version of the code migrated FROM, read
     * like wasmvm's AnalyzeCode from its cw_migrate_version section
     * (unmetered, as in wasmd) */
    bool has_old = false;
    uint64_t old_version = 0;
    Wchain__StoredCode *old_code = NULL;
    int orc = code_get(x, ci->code_id, &old_code);
    if (orc < 0) goto done;
    if (orc == 1) {
        uint8_t k[64];
        uint8_t *v = NULL;
        size_t vl = 0;
        if (kv_get(&x->ov, k, key_with(K_BYTECODE, old_code->checksum.data, 32, k), &v, &vl) == 1)
            has_old = wicas_vm_code_migrate_version(v, vl, &old_version) == 1;
        free(v);
        wchain__stored_code__free_unpacked(old_code, NULL);
    }
    char *minfo = wicas_vm_migrate_info_json(ss, has_old, old_version);
    if (!minfo) {
        ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        goto done;
    }
    uint8_t bk[128];
    if (st_del(x, bk, bycode_key(ci->code_id, ci, a, bk))) {
        free(minfo);
        goto done;
    }
    ci->code_id = new_code;
    if (st_set(x, bk, bycode_key(new_code, ci, a, bk), (const uint8_t *)"", 0) || contract_set(x, a, ci)) {
        free(minfo);
        goto done;
    }
    wicas_vm_result res;
    rc = call_contract(x, a, code->checksum.data, WICAS_VM_MIGRATE, minfo, msg, msg_len,
                       WICAS_WASM_CODE_MIGRATION_FAILED, &res);
    free(minfo);
    if (rc == 0) {
        char ids[24];
        snprintf(ids, sizeof ids, "%" PRIu64, new_code);
        ev_add(&x->ev, "migrate", "_contract_address", contract, "code_id", ids, NULL);
        rc = handle_response(x, a, res.ok_json, data, data_len);
    }
    wicas_vm_result_free(&res);
done:
    if (code) wchain__stored_code__free_unpacked(code, NULL);
    wchain__contract_info__free_unpacked(ci, NULL);
    return rc;
}

static int do_set_admin(wctx *x, const uint8_t *sender, size_t sl, const char *contract, const char *new_admin) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    if (load_contract(x, contract, a, &ci, NULL)) return -1;
    char ss[100];
    addr_str(sender, sl, ss);
    int rc = -1;
    if (!*ci->admin || strcmp(ci->admin, ss) != 0) {
        ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK, "can not modify contract: unauthorized");
    } else {
        char *old = ci->admin;
        ci->admin = (char *)new_admin;
        rc = contract_set(x, a, ci);
        ci->admin = old;
        if (!rc) ev_add(&x->ev, "update_contract_admin", "_contract_address", contract, "new_admin_address", new_admin, NULL);
    }
    wchain__contract_info__free_unpacked(ci, NULL);
    return rc;
}

/* ---- messages from contracts -------------------------------------------------------------- */

static int json_coins(wctx *x, const cJSON *arr, coin **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "coins must be an array");
    size_t k = (size_t)cJSON_GetArraySize(arr);
    Wchain__Coin *pc = calloc(k ? k : 1, sizeof *pc);
    Wchain__Coin **pp = calloc(k ? k : 1, sizeof *pp);
    int rc = 0;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "denom");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "amount");
        if (!pc || !pp || !cJSON_IsString(d) || !cJSON_IsString(a)) {
            rc = ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "invalid coin in contract message");
            break;
        }
        wchain__coin__init(&pc[i]);
        pc[i].denom = d->valuestring;
        pc[i].amount = a->valuestring;
        pp[i] = &pc[i];
        i++;
    }
    char err[200];
    if (!rc && coins_from_pb(pp, i, out, n, err, sizeof err))
        rc = ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
    free(pc);
    free(pp);
    return rc;
}

static uint8_t *b64dec(const cJSON *s, size_t *n) {
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

/* The module whose custom message (msg) or custom query (!msg) key is in a
 * contract's {"custom":{...}} object (the first in table order), or NULL. */
static const wicas_module *custom_route(const cJSON *custom, bool msg) {
    if (!cJSON_IsObject(custom)) return NULL;
    for (int i = 0; wicas_modules[i]; i++) {
        const wicas_module *m = wicas_modules[i];
        if (m->custom_key && (msg ? m->custom_msg != NULL : m->custom_query != NULL) &&
            cJSON_GetObjectItemCaseSensitive(custom, m->custom_key))
            return m;
    }
    return NULL;
}

/* Dispatches one CosmosMsg from contract a. *data gets the message's response
 * data (protobuf of the Msg*Response), *resp_url its type URL. */
static int dispatch_cosmos_msg(wctx *x, const uint8_t a[32], const char *json, uint8_t **data, size_t *data_len,
                               const char **resp_url) {
    *data = NULL;
    *data_len = 0;
    *resp_url = "";
    cJSON *j = cJSON_Parse(json);
    if (!j) return ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "contract message is not JSON: invalid CosmosMsg from the contract");
    int rc = -1;
    char self[100];
    addr_str(a, 32, self);
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(j, "bank");
    const cJSON *wasm = cJSON_GetObjectItemCaseSensitive(j, "wasm");
    coin *c = NULL;
    size_t nc = 0;
    if (bank && cJSON_GetObjectItemCaseSensitive(bank, "send")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(bank, "send");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(s, "to_address");
        uint8_t tb[32];
        size_t tl;
        if (!cJSON_IsString(to) || wicas_chain_addr_decode(to->valuestring, tb, &tl))
            ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK, "bank send from contract: invalid to_address");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(s, "amount"), &c, &nc) == 0) {
            if (nc == 0) ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "bank send from contract: empty amount");
            else {
                ev_add(&x->ev, "message", "action", "/cosmos.bank.v1beta1.MsgSend", "sender", self, "module", "bank", NULL);
                rc = bank_send(x, a, 32, tb, tl, c, nc);
                *resp_url = "/cosmos.bank.v1beta1.MsgSendResponse";
            }
        }
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "execute")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "execute");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        size_t ml = 0;
        uint8_t *m = b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsString(to) || !m)
            ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "wasm execute from contract: contract_addr and base64 msg required");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(e, "funds"), &c, &nc) == 0) {
            uint8_t *d = NULL;
            size_t dl = 0;
            rc = do_execute(x, a, 32, to->valuestring, m, ml, c, nc, &d, &dl);
            if (rc == 0) {
                Wchain__MsgExecuteContractResponse r = WCHAIN__MSG_EXECUTE_CONTRACT_RESPONSE__INIT;
                r.data.data = d;
                r.data.len = dl;
                *data_len = wchain__msg_execute_contract_response__get_packed_size(&r);
                *data = malloc(*data_len + 1);
                if (*data) wchain__msg_execute_contract_response__pack(&r, *data);
                *resp_url = "/cosmwasm.wasm.v1.MsgExecuteContractResponse";
            }
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "instantiate")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "instantiate");
        const cJSON *admin = cJSON_GetObjectItemCaseSensitive(e, "admin");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(e, "code_id");
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(e, "label");
        size_t ml = 0;
        uint8_t *m = b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsNumber(cid) || cid->valuedouble < 1 || !cJSON_IsString(label) || !m ||
            (admin && !cJSON_IsNull(admin) && (!cJSON_IsString(admin) || !addr_ok(admin->valuestring))))
            ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "wasm instantiate from contract: code_id, label, base64 msg required");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(e, "funds"), &c, &nc) == 0) {
            uint8_t na[32], *d = NULL;
            size_t dl = 0;
            rc = do_instantiate(x, a, 32, cJSON_IsString(admin) ? admin->valuestring : "", (uint64_t)cid->valuedouble,
                                label->valuestring, m, ml, c, nc, na, &d, &dl);
            if (rc == 0) {
                char as[100];
                addr_str(na, 32, as);
                Wchain__MsgInstantiateContractResponse r = WCHAIN__MSG_INSTANTIATE_CONTRACT_RESPONSE__INIT;
                r.address = as;
                r.data.data = d;
                r.data.len = dl;
                *data_len = wchain__msg_instantiate_contract_response__get_packed_size(&r);
                *data = malloc(*data_len + 1);
                if (*data) wchain__msg_instantiate_contract_response__pack(&r, *data);
                *resp_url = "/cosmwasm.wasm.v1.MsgInstantiateContractResponse";
            }
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "migrate")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "migrate");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(e, "new_code_id");
        size_t ml = 0;
        uint8_t *m = b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsString(to) || !cJSON_IsNumber(cid) || !m)
            ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "wasm migrate from contract: contract_addr, new_code_id, msg required");
        else {
            uint8_t *d = NULL;
            size_t dl = 0;
            rc = do_migrate(x, a, 32, to->valuestring, (uint64_t)cid->valuedouble, m, ml, &d, &dl);
            *resp_url = "/cosmwasm.wasm.v1.MsgMigrateContractResponse";
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "update_admin")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "update_admin");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(e, "admin");
        if (!cJSON_IsString(to) || !cJSON_IsString(ad) || !addr_ok(ad->valuestring))
            ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "wasm update_admin from contract: contract_addr, admin required");
        else
            rc = do_set_admin(x, a, 32, to->valuestring, ad->valuestring);
        *resp_url = "/cosmwasm.wasm.v1.MsgUpdateAdminResponse";
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "clear_admin")) {
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(wasm, "clear_admin"), "contract_addr");
        if (!cJSON_IsString(to))
            ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "wasm clear_admin from contract: contract_addr required");
        else
            rc = do_set_admin(x, a, 32, to->valuestring, "");
        *resp_url = "/cosmwasm.wasm.v1.MsgClearAdminResponse";
    } else if (custom_route(cJSON_GetObjectItemCaseSensitive(j, "custom"), true)) {
        /* {"custom":{"<key>":...}}: the module offering <key> to contracts,
         * e.g. {"custom":{"ai":{"request":{...}}}}, an asynchronous inference */
        const cJSON *custom = cJSON_GetObjectItemCaseSensitive(j, "custom");
        rc = custom_route(custom, true)->custom_msg(x, a, custom, resp_url);
    } else {
        ctx_fail(x, WICAS_WASM_CODE_UNKNOWN_MSG, CS, "unknown message from the contract: %.100s", json);
    }
    free(c);
    cJSON_Delete(j);
    return rc;
}

/* Events as the Reply's SubMsgResponse JSON wants them (message events dropped, as wasmd filters them). */
static cJSON *events_json(const evlist *l) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < l->n; i++) {
        if (strcmp(l->ev[i].type, "message") == 0) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", l->ev[i].type);
        cJSON *at = cJSON_AddArrayToObject(e, "attributes");
        for (size_t k = 0; k < l->ev[i].n_attrs; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "key", l->ev[i].attrs[k].key);
            cJSON_AddStringToObject(o, "value", l->ev[i].attrs[k].value);
            cJSON_AddItemToArray(at, o);
        }
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

static char *b64enc(const uint8_t *p, size_t n) {
    char *s = malloc(wicas_base64_encoded_len(n));
    if (s) wicas_base64_encode(p, n, s);
    return s;
}

static int call_reply(wctx *x, const uint8_t a[32], const wicas_vm_submsg *sm, bool ok, const evlist *evs,
                      const uint8_t *d, size_t dl, const char *resp_url, const char *errmsg, uint64_t gas_used,
                      uint8_t **data, size_t *data_len) {
    cJSON *r = cJSON_CreateObject();
    char idb[24];
    snprintf(idb, sizeof idb, "%" PRIu64, sm->id);
    cJSON_AddItemToObject(r, "id", cJSON_CreateRaw(idb));
    cJSON_AddStringToObject(r, "payload", sm->payload_b64 ? sm->payload_b64 : "");
    snprintf(idb, sizeof idb, "%" PRIu64, gas_used);
    cJSON_AddItemToObject(r, "gas_used", cJSON_CreateRaw(idb));
    cJSON *res = cJSON_AddObjectToObject(r, "result");
    if (ok) {
        cJSON *o = cJSON_AddObjectToObject(res, "ok");
        cJSON_AddItemToObject(o, "events", events_json(evs));
        char *b = d ? b64enc(d, dl) : NULL;
        if (b) cJSON_AddStringToObject(o, "data", b);
        else cJSON_AddNullToObject(o, "data");
        cJSON *mr = cJSON_AddArrayToObject(o, "msg_responses");
        if (resp_url && *resp_url) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "type_url", resp_url);
            cJSON_AddStringToObject(e, "value", b ? b : "");
            cJSON_AddItemToArray(mr, e);
        }
        free(b);
    } else {
        cJSON_AddStringToObject(res, "error", errmsg);
    }
    char *msg = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    if (!msg) return ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
    Wchain__ContractInfo *ci = NULL;
    Wchain__StoredCode *code = NULL;
    char as[100];
    addr_str(a, 32, as);
    if (load_contract(x, as, (uint8_t[32]){0}, &ci, &code)) {
        free(msg);
        return -1;
    }
    wicas_vm_result vr;
    int rc = call_contract(x, a, code->checksum.data, WICAS_VM_REPLY, NULL, (uint8_t *)msg, strlen(msg),
                           WICAS_WASM_CODE_EXECUTE_FAILED, &vr);
    free(msg);
    if (rc == 0) {
        ev_add(&x->ev, "reply", "_contract_address", as, NULL);
        rc = handle_response(x, a, vr.ok_json, data, data_len);
    }
    wicas_vm_result_free(&vr);
    wchain__contract_info__free_unpacked(ci, NULL);
    wchain__stored_code__free_unpacked(code, NULL);
    return rc;
}

static bool attr_key_ok(const char *k) {
    while (*k == ' ') k++;
    return *k && *k != '_';
}

static int handle_response(wctx *x, const uint8_t a[32], const char *ok_json, uint8_t **data, size_t *data_len) {
    *data = NULL;
    *data_len = 0;
    wicas_vm_response r;
    char err[256];
    if (wicas_vm_parse_response(ok_json ? ok_json : "", &r, err, sizeof err) != WICAS_VM_OK)
        return ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, CS, "contract response: %s", err);
    char as[100];
    addr_str(a, 32, as);
    int rc = 0;
    if (r.n_attributes) {
        wicas_chain_event *e = ev_add(&x->ev, "wasm", "_contract_address", as, NULL);
        for (size_t i = 0; e && i < r.n_attributes && !rc; i++) {
            if (!attr_key_ok(r.attributes[i].key))
                rc = ctx_fail(x, WICAS_WASM_CODE_INVALID_EVENT, CS, "attribute key '%s' is empty or reserved: invalid event", r.attributes[i].key);
            else
                ev_attr(e, r.attributes[i].key, r.attributes[i].value);
        }
    }
    for (size_t i = 0; i < r.n_events && !rc; i++) {
        if (strlen(r.events[i].type) < 2) {
            rc = ctx_fail(x, WICAS_WASM_CODE_INVALID_EVENT, CS, "event type '%s' too short: invalid event", r.events[i].type);
            break;
        }
        char t[300];
        snprintf(t, sizeof t, "wasm-%s", r.events[i].type);
        wicas_chain_event *e = ev_add(&x->ev, t, "_contract_address", as, NULL);
        for (size_t k = 0; e && k < r.events[i].n_attrs && !rc; k++) {
            if (!attr_key_ok(r.events[i].attrs[k].key))
                rc = ctx_fail(x, WICAS_WASM_CODE_INVALID_EVENT, CS, "attribute key '%s' is empty or reserved: invalid event", r.events[i].attrs[k].key);
            else
                ev_attr(e, r.events[i].attrs[k].key, r.events[i].attrs[k].value);
        }
    }
    if (!rc && r.has_data) {
        *data = malloc(r.data_len + 1);
        if (*data) {
            if (r.data_len) memcpy(*data, r.data, r.data_len);
            *data_len = r.data_len;
        }
    }
    /* sub-messages in order */
    for (size_t i = 0; i < r.n_messages && !rc; i++) {
        wicas_vm_submsg *sm = &r.messages[i];
        wctx sub;
        ctx_child(&sub, x);
        uint64_t base_used = x->gas_used;
        if (sm->has_gas_limit && sm->gas_limit < x->gas_limit - x->gas_used) sub.gas_limit = x->gas_used + sm->gas_limit;
        uint8_t *d = NULL;
        size_t dl = 0;
        const char *url = "";
        int mrc = dispatch_cosmos_msg(&sub, a, sm->msg_json, &d, &dl, &url);
        bool parent_oog = sub.out_of_gas && sub.gas_limit == x->gas_limit;
        uint64_t used = sub.gas_used - base_used;
        if (mrc == 0) {
            bool reply = sm->reply_on == WICAS_VM_REPLY_SUCCESS || sm->reply_on == WICAS_VM_REPLY_ALWAYS;
            evlist copy = {0};
            if (reply) {
                /* the reply sees the sub-message's events; they are also emitted */
                for (size_t k = 0; k < sub.ev.n; k++) {
                    wicas_chain_event *e = ev_add(&copy, sub.ev.ev[k].type, NULL);
                    for (size_t q = 0; e && q < sub.ev.ev[k].n_attrs; q++) ev_attr(e, sub.ev.ev[k].attrs[q].key, sub.ev.ev[k].attrs[q].value);
                }
            }
            if (ctx_end(&sub, x, true)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
            if (!rc && reply) {
                uint8_t *rd = NULL;
                size_t rdl = 0;
                rc = call_reply(x, a, sm, true, &copy, d, dl, url, NULL, used, &rd, &rdl);
                if (rc == 0 && rd) {
                    free(*data);
                    *data = rd;
                    *data_len = rdl;
                } else {
                    free(rd);
                }
            }
            ev_free(&copy);
        } else {
            bool reply = !parent_oog && (sm->reply_on == WICAS_VM_REPLY_ERROR || sm->reply_on == WICAS_VM_REPLY_ALWAYS);
            char red[64];
            snprintf(red, sizeof red, "codespace: %s, code: %u", sub.codespace ? sub.codespace : CS, sub.code);
            if (reply) {
                sub.code = 0; /* caught: the error does not fail the caller */
                sub.out_of_gas = false;
                ctx_end(&sub, x, false);
                uint8_t *rd = NULL;
                size_t rdl = 0;
                rc = call_reply(x, a, sm, false, NULL, NULL, 0, NULL, red, used, &rd, &rdl);
                if (rc == 0 && rd) {
                    free(*data);
                    *data = rd;
                    *data_len = rdl;
                } else {
                    free(rd);
                }
            } else {
                ctx_end(&sub, x, false);
                rc = -1;
            }
        }
        free(d);
    }
    wicas_vm_response_free(&r);
    if (rc) {
        free(*data);
        *data = NULL;
        *data_len = 0;
    }
    return rc;
}

/* ---- querier ---------------------------------------------------------------------------------- */

static char *sys_unsupported(const char *kind) {
    return xprintf("{\"error\":{\"unsupported_request\":{\"kind\":\"%s\"}}}", kind);
}

static char *smart_query(wctx *x, const char *contract, const uint8_t *msg, size_t ml, bool *ok) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    Wchain__StoredCode *code;
    *ok = false;
    if (load_contract(x, contract, a, &ci, &code)) return NULL;
    wicas_vm_result res;
    char *out = NULL;
    if (call_contract(x, a, code->checksum.data, WICAS_VM_QUERY, NULL, msg, ml, WICAS_WASM_CODE_QUERY_FAILED, &res) == 0) {
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

static char *answer(wctx *q, const cJSON *j, char **sys) {
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(j, "bank");
    const cJSON *wasm = cJSON_GetObjectItemCaseSensitive(j, "wasm");
    *sys = NULL;
    if (bank) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(bank, "balance");
        const cJSON *all = cJSON_GetObjectItemCaseSensitive(bank, "all_balances");
        if (!b && !all) { /* supply, denom_metadata, ...: no such module here; a SystemError the contract can read */
            *sys = sys_unsupported("bank");
            return NULL;
        }
        const cJSON *addr = cJSON_GetObjectItemCaseSensitive(b ? b : all, "address");
        uint8_t a[32];
        size_t al;
        if (!cJSON_IsString(addr) || wicas_chain_addr_decode(addr->valuestring, a, &al)) {
            ctx_fail(q, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK, "invalid address in bank query");
            return NULL;
        }
        if (b) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(b, "denom");
            uint64_t amt = 0;
            if (!cJSON_IsString(d) || bank_balance(q, a, al, d->valuestring, &amt)) {
                ctx_fail(q, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "invalid denom in bank query");
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
            if (bank_all(q, a, al, &c, &n)) return NULL;
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
            uint8_t *m = b64dec(cJSON_GetObjectItemCaseSensitive(sm, "msg"), &ml);
            if (!m) {
                ctx_fail(q, WICAS_WASM_CODE_INVALID_MSG, CS, "smart query msg is not base64");
                return NULL;
            }
            bool ok;
            char *out = smart_query(q, ca->valuestring, m, ml, &ok);
            free(m);
            if (!ok) {
                free(out);
                if (!q->code) ctx_fail(q, WICAS_WASM_CODE_QUERY_FAILED, CS, "query failed");
                return NULL;
            }
            return out;
        }
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (load_contract(q, ca->valuestring, a, &ci, NULL)) {
            *sys = xprintf("{\"error\":{\"no_such_contract\":{\"addr\":\"%.90s\"}}}", ca->valuestring);
            return NULL;
        }
        char *out = NULL;
        if (raw) {
            size_t kl = 0;
            uint8_t *k = b64dec(cJSON_GetObjectItemCaseSensitive(raw, "key"), &kl);
            cstore s;
            cstore_init(&s, q, a);
            int found = 0;
            uint8_t *v = NULL;
            size_t vl = 0;
            if (k && cs_get(&s, k, kl, &found, &v, &vl) == 0) {
                /* raw answers are the bytes themselves; the VM base64s them */
                out = found ? (char *)v : xstrdup("");
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
            if (*ci->admin) cJSON_AddStringToObject(o, "admin", ci->admin);
            else cJSON_AddNullToObject(o, "admin");
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

static int vm_querier(void *ctx, const char *req, size_t len, uint64_t gas_limit, char **resp, size_t *resp_len,
                      uint64_t *gas_used) {
    qctx *qc = ctx;
    wctx *x = qc->x;
    *resp = NULL;
    *gas_used = 0;
    cJSON *j = cJSON_ParseWithLength(req, len);
    if (!j) {
        *resp = xprintf("{\"error\":{\"invalid_request\":{\"error\":\"not JSON\",\"request\":\"\"}}}");
        *resp_len = *resp ? strlen(*resp) : 0;
        return *resp ? 0 : -1;
    }
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(j, "custom");
    const wicas_module *cm = custom_route(custom, false);
    if (cm) {
        /* a module's custom query (e.g. the AI module: inference priced in
         * SDK gas, charged to the contract) */
        char *out = NULL;
        uint64_t used = 0;
        char err[512] = "";
        int rc = cm->custom_query(x, custom, gas_limit / WICAS_VM_GAS_MULTIPLIER, &out, &used, err, sizeof err);
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
        int rc = cs ? x->c->opts.hooks.custom_query(x->c->opts.hooks.ctx, (uint8_t *)cs, strlen(cs), &out, &ol, err, sizeof err) : -1;
        free(cs);
        *resp = rc == 0 ? wicas_vm_query_ok(out, ol) : wicas_vm_query_error(err[0] ? err : "custom query failed");
        free(out);
        cJSON_Delete(j);
        if (!*resp) return -1;
        *resp_len = strlen(*resp);
        return 0;
    }
    /* a read-only child context with its own meter, charged back as VM gas */
    wctx q;
    ctx_child(&q, x);
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
    ctx_free(&q);
    if (!*resp) return -1;
    *resp_len = strlen(*resp);
    return 0;
}


/* ---- store code ------------------------------------------------------------------------------ */

static int wasm_store(wctx *x, const uint8_t *creator, size_t cl, const uint8_t *wasm, size_t len, uint64_t *code_id,
               uint8_t checksum[32]) {
    wicas_sha256(wasm, len, checksum);
    char err[300];
    wicas_vm_status vs = wicas_vm_store_code(vm_of(x->c), wasm, len, NULL, err, sizeof err);
    if (vs != WICAS_VM_OK && !wicas_vm_status_is_deterministic(vs))
        return ctx_fail(x, WICAS_CODE_INTERNAL, CS, "storing code failed on this node: %s", err);
    if (vs != WICAS_VM_OK)
        return ctx_fail(x, WICAS_WASM_CODE_CREATE_FAILED, CS, "create wasm contract failed: %s", err);
    if (next_seq(x, K_CODE_SEQ, code_id)) return -1;
    uint8_t k[64];
    size_t kl = key_with(K_BYTECODE, checksum, 32, k);
    int have = st_get(x, k, kl, NULL, NULL);
    if (have < 0 || (have == 0 && st_set(x, k, kl, wasm, len))) return -1;
    char cs[100];
    addr_str(creator, cl, cs);
    Wchain__StoredCode sc = WCHAIN__STORED_CODE__INIT;
    sc.code_id = *code_id;
    sc.creator = cs;
    sc.checksum.data = checksum;
    sc.checksum.len = 32;
    uint8_t buf[200], ib[8];
    size_t n = wchain__stored_code__pack(&sc, buf);
    be64_put(ib, *code_id);
    return st_set(x, k, key_with(K_CODE, ib, 8, k), buf, n);
}

/* ---- tx message entry point -------------------------------------------------------------------- */

static int sender_of(wctx *x, const char *s, uint8_t a[32], size_t *al) {
    if (wicas_chain_addr_decode(s, a, al))
        return ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK, "invalid sender address");
    return 0;
}

static int pack_resp(const ProtobufCMessage *m, uint8_t **resp, size_t *resp_len) {
    *resp_len = protobuf_c_message_get_packed_size(m);
    *resp = malloc(*resp_len + 1);
    if (!*resp) return -1;
    protobuf_c_message_pack(m, *resp);
    return 0;
}

static int wasm_dispatch(wctx *x, const char *url, const uint8_t *val, size_t len, uint8_t **resp, size_t *resp_len) {
    *resp = NULL;
    *resp_len = 0;
    uint8_t s[32];
    size_t sl;
    if (strcmp(url, URL_STORE) == 0) {
        Wchain__MsgStoreCode *m = wchain__msg_store_code__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgStoreCode");
        int rc = sender_of(x, m->sender, s, &sl);
        uint64_t id = 0;
        uint8_t cs[32];
        if (!rc) rc = gas_use(x, GAS_WASM_COMPILE_PER_BYTE * (uint64_t)m->wasm_byte_code.len, "Compiling wasm bytecode");
        if (!rc) rc = wasm_store(x, s, sl, m->wasm_byte_code.data, m->wasm_byte_code.len, &id, cs);
        wchain__msg_store_code__free_unpacked(m, NULL);
        if (rc) return -1;
        char hex[65], ids[24];
        wicas_hex_encode(cs, 32, hex);
        snprintf(ids, sizeof ids, "%" PRIu64, id);
        ev_add(&x->ev, "store_code", "code_checksum", hex, "code_id", ids, NULL);
        Wchain__MsgStoreCodeResponse r = WCHAIN__MSG_STORE_CODE_RESPONSE__INIT;
        r.code_id = id;
        r.checksum.data = cs;
        r.checksum.len = 32;
        return pack_resp(&r.base, resp, resp_len) ? ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory") : 0;
    }
    uint8_t *data = NULL;
    size_t dl = 0;
    int rc = -1;
    if (strcmp(url, URL_INST) == 0) {
        Wchain__MsgInstantiateContract *m = wchain__msg_instantiate_contract__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgInstantiateContract");
        coin *c = NULL;
        size_t nc = 0;
        char err[200];
        uint8_t a[32];
        if (sender_of(x, m->sender, s, &sl) == 0) {
            if (coins_from_pb(m->funds, m->n_funds, &c, &nc, err, sizeof err))
                ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
            else
                rc = do_instantiate(x, s, sl, m->admin, m->code_id, m->label, m->msg.data, m->msg.len, c, nc, a, &data, &dl);
        }
        if (rc == 0) {
            char as[100];
            addr_str(a, 32, as);
            Wchain__MsgInstantiateContractResponse r = WCHAIN__MSG_INSTANTIATE_CONTRACT_RESPONSE__INIT;
            r.address = as;
            r.data.data = data;
            r.data.len = dl;
            if (pack_resp(&r.base, resp, resp_len)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        }
        free(c);
        wchain__msg_instantiate_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_EXEC) == 0) {
        Wchain__MsgExecuteContract *m = wchain__msg_execute_contract__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgExecuteContract");
        coin *c = NULL;
        size_t nc = 0;
        char err[200];
        if (sender_of(x, m->sender, s, &sl) == 0) {
            if (coins_from_pb(m->funds, m->n_funds, &c, &nc, err, sizeof err))
                ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
            else
                rc = do_execute(x, s, sl, m->contract, m->msg.data, m->msg.len, c, nc, &data, &dl);
        }
        if (rc == 0) {
            Wchain__MsgExecuteContractResponse r = WCHAIN__MSG_EXECUTE_CONTRACT_RESPONSE__INIT;
            r.data.data = data;
            r.data.len = dl;
            if (pack_resp(&r.base, resp, resp_len)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        }
        free(c);
        wchain__msg_execute_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_MIGRATE) == 0) {
        Wchain__MsgMigrateContract *m = wchain__msg_migrate_contract__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgMigrateContract");
        if (sender_of(x, m->sender, s, &sl) == 0)
            rc = do_migrate(x, s, sl, m->contract, m->code_id, m->msg.data, m->msg.len, &data, &dl);
        if (rc == 0) {
            Wchain__MsgMigrateContractResponse r = WCHAIN__MSG_MIGRATE_CONTRACT_RESPONSE__INIT;
            r.data.data = data;
            r.data.len = dl;
            if (pack_resp(&r.base, resp, resp_len)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
        }
        wchain__msg_migrate_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_ADMIN) == 0) {
        Wchain__MsgUpdateAdmin *m = wchain__msg_update_admin__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgUpdateAdmin");
        if (sender_of(x, m->sender, s, &sl) == 0) rc = do_set_admin(x, s, sl, m->contract, m->new_admin);
        wchain__msg_update_admin__free_unpacked(m, NULL);
        Wchain__MsgUpdateAdminResponse r = WCHAIN__MSG_UPDATE_ADMIN_RESPONSE__INIT;
        if (rc == 0 && pack_resp(&r.base, resp, resp_len)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
    } else if (strcmp(url, URL_CLEAR) == 0) {
        Wchain__MsgClearAdmin *m = wchain__msg_clear_admin__unpack(NULL, len, val);
        if (!m) return ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgClearAdmin");
        if (sender_of(x, m->sender, s, &sl) == 0) rc = do_set_admin(x, s, sl, m->contract, "");
        wchain__msg_clear_admin__free_unpacked(m, NULL);
        Wchain__MsgClearAdminResponse r = WCHAIN__MSG_CLEAR_ADMIN_RESPONSE__INIT;
        if (rc == 0 && pack_resp(&r.base, resp, resp_len)) rc = ctx_fail(x, WICAS_CODE_INTERNAL, CS, "out of memory");
    } else {
        rc = ctx_fail(x, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK, "unrecognized wasm message %s", url);
    }
    free(data);
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------------- */

static void wq_fail(wicas_chain_query_result *r, uint32_t code, const char *space, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void wq_fail(wicas_chain_query_result *r, uint32_t code, const char *space, const char *fmt, ...) {
    r->code = code;
    free(r->codespace);
    r->codespace = xstrdup(space);
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    free(r->log);
    r->log = s;
}

static void wq_value(wicas_chain_query_result *r, const ProtobufCMessage *m) {
    r->value_len = protobuf_c_message_get_packed_size(m);
    r->value = malloc(r->value_len + 1);
    if (r->value) protobuf_c_message_pack(m, r->value);
    else r->value_len = 0;
}

static void fill_code_info(Wchain__CodeInfoResponse *ci, Wchain__AccessConfig *ac, const Wchain__StoredCode *sc) {
    wchain__code_info_response__init(ci);
    wchain__access_config__init(ac);
    ac->permission = 3; /* everybody */
    ci->code_id = sc->code_id;
    ci->creator = sc->creator;
    ci->data_hash = sc->checksum;
    ci->instantiate_permission = ac;
}

static void wasm_query(wicas_chain *c, wctx *x, const char *name, const uint8_t *data, size_t len,
                wicas_chain_query_result *r) {
    (void)c;
    if (strcmp(name, "ContractInfo") == 0) {
        Wchain__QueryContractInfoRequest *q = wchain__query_contract_info_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QueryContractInfoRequest");
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (load_contract(x, q->address, a, &ci, NULL)) {
            wq_fail(r, x->code, CS, "%s", x->err);
        } else {
            Wchain__QueryContractInfoResponse resp = WCHAIN__QUERY_CONTRACT_INFO_RESPONSE__INIT;
            resp.address = q->address;
            resp.contract_info = ci;
            wq_value(r, &resp.base);
            wchain__contract_info__free_unpacked(ci, NULL);
        }
        wchain__query_contract_info_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "RawContractState") == 0) {
        Wchain__QueryRawContractStateRequest *q = wchain__query_raw_contract_state_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QueryRawContractStateRequest");
        uint8_t a[32];
        Wchain__ContractInfo *ci;
        if (load_contract(x, q->address, a, &ci, NULL)) {
            wq_fail(r, x->code, CS, "%s", x->err);
        } else {
            uint8_t *k = malloc(64 + q->query_data.len);
            size_t kl = key_with(K_CSTORE, a, 32, k);
            if (q->query_data.len) memcpy(k + kl, q->query_data.data, q->query_data.len);
            uint8_t *v = NULL;
            size_t vl = 0;
            int rc = st_get(x, k, kl + q->query_data.len, &v, &vl);
            Wchain__QueryRawContractStateResponse resp = WCHAIN__QUERY_RAW_CONTRACT_STATE_RESPONSE__INIT;
            if (rc == 1) {
                resp.data.data = v;
                resp.data.len = vl;
            }
            if (rc < 0) wq_fail(r, WICAS_CODE_INTERNAL, CS, "%s", x->err);
            else wq_value(r, &resp.base);
            free(v);
            free(k);
            wchain__contract_info__free_unpacked(ci, NULL);
        }
        wchain__query_raw_contract_state_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "SmartContractState") == 0) {
        Wchain__QuerySmartContractStateRequest *q = wchain__query_smart_contract_state_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QuerySmartContractStateRequest");
        if (!json_ok(q->query_data.data, q->query_data.len)) {
            wq_fail(r, WICAS_WASM_CODE_INVALID, CS, "query data must be JSON: invalid");
        } else {
            bool ok;
            char *out = smart_query(x, q->address, q->query_data.data, q->query_data.len, &ok);
            if (!ok) {
                wq_fail(r, x->code ? x->code : WICAS_WASM_CODE_QUERY_FAILED, x->codespace ? x->codespace : CS, "%s",
                        x->err[0] ? x->err : "query wasm contract failed");
            } else {
                Wchain__QuerySmartContractStateResponse resp = WCHAIN__QUERY_SMART_CONTRACT_STATE_RESPONSE__INIT;
                resp.data.data = (uint8_t *)out;
                resp.data.len = strlen(out);
                wq_value(r, &resp.base);
            }
            free(out);
        }
        wchain__query_smart_contract_state_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "Code") == 0) {
        Wchain__QueryCodeRequest *q = wchain__query_code_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QueryCodeRequest");
        Wchain__StoredCode *sc = NULL;
        int rc = code_get(x, q->code_id, &sc);
        if (rc != 1) {
            wq_fail(r, rc == 0 ? WICAS_WASM_CODE_NOT_FOUND : WICAS_CODE_INTERNAL, CS, "no such code: %" PRIu64 ": not found", q->code_id);
        } else {
            uint8_t k[64];
            uint8_t *v = NULL;
            size_t vl = 0;
            st_get(x, k, key_with(K_BYTECODE, sc->checksum.data, 32, k), &v, &vl);
            Wchain__CodeInfoResponse ci;
            Wchain__AccessConfig ac;
            fill_code_info(&ci, &ac, sc);
            Wchain__QueryCodeResponse resp = WCHAIN__QUERY_CODE_RESPONSE__INIT;
            resp.code_info = &ci;
            resp.data.data = v;
            resp.data.len = vl;
            wq_value(r, &resp.base);
            free(v);
            wchain__stored_code__free_unpacked(sc, NULL);
        }
        wchain__query_code_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "Codes") == 0) {
        /* all codes in id order (pagination: limit honoured, key = next BE8 id) */
        Wchain__QueryCodesRequest *q = wchain__query_codes_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QueryCodesRequest");
        uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
        uint64_t start = q->pagination && q->pagination->key.len == 8 ? be64_get(q->pagination->key.data) : 1;
        Wchain__StoredCode **scs = NULL;
        size_t n = 0;
        uint64_t next = 0;
        for (uint64_t id = start;; id++) {
            Wchain__StoredCode *sc = NULL;
            if (code_get(x, id, &sc) != 1) break;
            if (n == limit) {
                next = id;
                wchain__stored_code__free_unpacked(sc, NULL);
                break;
            }
            Wchain__StoredCode **ns = realloc(scs, (n + 1) * sizeof *ns);
            if (!ns) {
                wchain__stored_code__free_unpacked(sc, NULL);
                break;
            }
            scs = ns;
            scs[n++] = sc;
        }
        Wchain__CodeInfoResponse *cis = calloc(n ? n : 1, sizeof *cis);
        Wchain__CodeInfoResponse **pc = calloc(n ? n : 1, sizeof *pc);
        Wchain__AccessConfig *acs = calloc(n ? n : 1, sizeof *acs);
        if (cis && pc && acs) {
            for (size_t i = 0; i < n; i++) {
                fill_code_info(&cis[i], &acs[i], scs[i]);
                pc[i] = &cis[i];
            }
            uint8_t nk[8];
            be64_put(nk, next);
            Wchain__PageResponse page = WCHAIN__PAGE_RESPONSE__INIT;
            if (next) {
                page.next_key.data = nk;
                page.next_key.len = 8;
            }
            Wchain__QueryCodesResponse resp = WCHAIN__QUERY_CODES_RESPONSE__INIT;
            resp.code_infos = pc;
            resp.n_code_infos = n;
            resp.pagination = &page;
            wq_value(r, &resp.base);
        }
        for (size_t i = 0; i < n; i++) wchain__stored_code__free_unpacked(scs[i], NULL);
        free(scs);
        free(cis);
        free(pc);
        free(acs);
        wchain__query_codes_request__free_unpacked(q, NULL);
    } else if (strcmp(name, "ContractsByCode") == 0) {
        Wchain__QueryContractsByCodeRequest *q = wchain__query_contracts_by_code_request__unpack(NULL, len, data);
        if (!q) return wq_fail(r, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode QueryContractsByCodeRequest");
        uint8_t pre[32];
        size_t pl = strlen(K_BYCODE);
        memcpy(pre, K_BYCODE, pl);
        be64_put(pre + pl, q->code_id);
        pl += 8;
        uint64_t limit = q->pagination && q->pagination->limit ? q->pagination->limit : 100;
        char **list = NULL;
        size_t n = 0;
        uint8_t *cur = malloc(pl);
        size_t curl = pl;
        memcpy(cur, pre, pl);
        bool incl = true;
        uint8_t *next = NULL;
        size_t next_len = 0;
        if (q->pagination && q->pagination->key.len) {
            free(cur);
            cur = malloc(pl + q->pagination->key.len);
            memcpy(cur, pre, pl);
            memcpy(cur + pl, q->pagination->key.data, q->pagination->key.len);
            curl = pl + q->pagination->key.len;
        }
        for (;;) {
            uint8_t *k, *v;
            size_t kl, vl;
            int rc = st_next(x, cur, curl, incl, &k, &kl, &v, &vl);
            if (rc != 1) break;
            free(v);
            if (kl != pl + 48 || memcmp(k, pre, pl) != 0) {
                free(k);
                break;
            }
            if (n == limit) {
                next_len = kl - pl;
                next = malloc(next_len);
                memcpy(next, k + pl, next_len);
                free(k);
                break;
            }
            char as[100];
            addr_str(k + pl + 16, 32, as);
            char **nl = realloc(list, (n + 1) * sizeof *nl);
            if (!nl) {
                free(k);
                break;
            }
            list = nl;
            list[n++] = xstrdup(as);
            free(cur);
            cur = k;
            curl = kl;
            incl = false;
        }
        free(cur);
        Wchain__PageResponse page = WCHAIN__PAGE_RESPONSE__INIT;
        if (next) {
            page.next_key.data = next;
            page.next_key.len = next_len;
        }
        Wchain__QueryContractsByCodeResponse resp = WCHAIN__QUERY_CONTRACTS_BY_CODE_RESPONSE__INIT;
        resp.contracts = list;
        resp.n_contracts = n;
        resp.pagination = &page;
        wq_value(r, &resp.base);
        for (size_t i = 0; i < n; i++) free(list[i]);
        free(list);
        free(next);
        wchain__query_contracts_by_code_request__free_unpacked(q, NULL);
    } else {
        wq_fail(r, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK, "unknown query path '/cosmwasm.wasm.v1.Query/%s': unknown request", name);
    }
}

/* ---- the module ------------------------------------------------------------------------------ */

/* ValidateBasic + signer of a wasm message, with the SDK code of a failure. */
static int wasm_msg_signer(const char *url, const uint8_t *val, size_t len, char **signer, uint32_t *code, char *err,
                           size_t errlen) {
    if (wasm_signer(url, val, len, signer, err, errlen) == 0) return 0;
    *code = strstr(err, "decode") ? WICAS_CODE_TX_DECODE : WICAS_CODE_INVALID_REQUEST;
    if (strstr(err, "address")) *code = WICAS_CODE_INVALID_ADDRESS;
    return -1;
}

/* wasm.codes: [{"code_bytes": "<base64>", "code_info": {"creator": "wicas1..."}}] */
static int wasm_genesis(wctx *x, const cJSON *wasm, char *err, size_t errlen) {
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(wasm, "codes");
    if (codes && !cJSON_IsArray(codes)) return wicas_errf(err, errlen, "genesis wasm.codes must be an array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, codes) {
        char where[64];
        snprintf(where, sizeof where, "wasm.codes[%zu]", i++);
        const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(it, "code_bytes");
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(it, "code_info");
        const cJSON *creator = info ? cJSON_GetObjectItemCaseSensitive(info, "creator") : NULL;
        uint8_t a[32];
        size_t al;
        if (!cJSON_IsString(b64)) return wicas_errf(err, errlen, "genesis %s: code_bytes (base64) missing", where);
        if (auth_genesis_account(x, creator, where, a, &al, err, errlen)) return -1;
        size_t bl = strlen(b64->valuestring);
        uint8_t *wasmb = malloc(bl / 4 * 3 + 3);
        long n = wasmb ? wicas_base64_decode(b64->valuestring, bl, wasmb, bl / 4 * 3 + 3) : -1;
        uint64_t id;
        uint8_t cs[32];
        int rc = 0;
        if (n <= 0)
            rc = wicas_errf(err, errlen, "genesis %s: code_bytes is not valid base64", where);
        else if (wasm_store(x, a, al, wasmb, (size_t)n, &id, cs))
            rc = wicas_errf(err, errlen, "genesis %s: %s", where, x->err);
        free(wasmb);
        if (rc) return rc;
    }
    return 0;
}

static void wasm_query_service(wctx *x, const char *method, const char *path, const uint8_t *data, size_t len,
                               wicas_chain_query_result *r) {
    (void)path;
    wasm_query(x->c, x, method, data, len, r);
}

static const wicas_msg_route wasm_msgs[] = {
    {URL_STORE, &wchain__msg_store_code__descriptor, wasm_msg_signer, wasm_dispatch},
    {URL_INST, &wchain__msg_instantiate_contract__descriptor, wasm_msg_signer, wasm_dispatch},
    {URL_EXEC, &wchain__msg_execute_contract__descriptor, wasm_msg_signer, wasm_dispatch},
    {URL_MIGRATE, &wchain__msg_migrate_contract__descriptor, wasm_msg_signer, wasm_dispatch},
    {URL_ADMIN, &wchain__msg_update_admin__descriptor, wasm_msg_signer, wasm_dispatch},
    {URL_CLEAR, &wchain__msg_clear_admin__descriptor, wasm_msg_signer, wasm_dispatch},
};

const wicas_module wicas_module_wasm = {
    .name = "wasm",
    .msgs = wasm_msgs,
    .n_msgs = sizeof wasm_msgs / sizeof wasm_msgs[0],
    .query_service = "/cosmwasm.wasm.v1.Query/",
    .query = wasm_query_service,
    .open = wasm_open,
    .close = wasm_close,
    .view_open = wasm_view_open,
    .genesis_init = wasm_genesis,
};

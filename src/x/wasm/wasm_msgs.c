/*
 * wasm_msgs.c — the x/wasm Msg server: wasmd's messages (MsgStoreCode,
 * MsgInstantiateContract, MsgExecuteContract, MsgMigrateContract,
 * MsgUpdateAdmin, MsgClearAdmin), the messages contracts emit (bank send,
 * wasm execute/instantiate/migrate/update_admin/clear_admin, and custom
 * messages of the module offering their key), sub-messages with reply, and
 * sudo for the modules above (xwasm.h).
 *
 * Facts taken from wasmd v0.53 (x/wasm/keeper): contract address =
 * address.Module("wasm", BE8(code_id) || BE8(instance_id)) =
 * SHA-256(SHA-256("module") || "wasm" || 0x00 || key), 32 bytes (the
 * "classic" rule); events "store_code"{code_checksum, code_id},
 * "instantiate"{_contract_address, code_id}, "execute"{_contract_address},
 * "migrate"{_contract_address, code_id}, "update_contract_admin"
 * {_contract_address, new_admin_address}, "sudo"{_contract_address},
 * "wasm"{_contract_address, contract attributes...}, "wasm-<type>"
 * {_contract_address, ...}, "reply"{_contract_address}; gas: 3 SDK gas per
 * byte compiled (the instance cost and the VM gas are wasm_vm.c's).
 *
 * One path per operation. A tx's message and the same message emitted by a
 * contract run the same do_* function, and their results are packed by the
 * same packer (pack_contract_response): the bytes of the Msg*Response are
 * the tx's msg response in one case, and what the emitting contract's reply
 * sees as the sub-message's data and msg_responses in the other.
 *
 * A contract's Response (handle_response): its attributes become a "wasm"
 * event and its events "wasm-<type>" events (keys starting with '_' or
 * empty are refused, like wasmd); its data is the message's data; its
 * sub-messages run in order, each in a child context (its own gas limit
 * when given), and a reply runs when reply_on asks. An error given to a
 * reply is redacted to "codespace: wasm, code: N" like wasmd does, so
 * non-deterministic error text never reaches contract state; an out-of-gas
 * of the parent's meter is never caught. The reply's data, when set,
 * replaces the caller's.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "wasm_internal.h"
#include "xauth.h"
#include "xbank.h"

#define MAX_LABEL 128

/* ---- ValidateBasic -------------------------------------------------------------------------------- */

static bool addr_ok(const char *a) {
    uint8_t b[32];
    size_t n;
    return a && wicas_chain_addr_decode(a, b, &n) == 0;
}

bool wicas_wasm_json_ok(const uint8_t *p, size_t n) {
    if (n == 0) return false;
    cJSON *j = cJSON_ParseWithLength((const char *)p, n);
    bool ok = j != NULL;
    cJSON_Delete(j);
    return ok;
}

int wicas_wasm_validate_msg(const char *u, const uint8_t *val, size_t len, char **signer, char *err,
                            size_t errlen) {
    *signer = NULL;
    int rc = 0;
    char tmp[200];
    coin *c = NULL;
    size_t nc = 0;
    if (strcmp(u, URL_STORE) == 0) {
        Wchain__MsgStoreCode *m = wchain__msg_store_code__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgStoreCode: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (m->wasm_byte_code.len == 0)
            rc = wicas_errf(err, errlen, "empty wasm code: invalid request");
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_store_code__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_INST) == 0) {
        Wchain__MsgInstantiateContract *m = wchain__msg_instantiate_contract__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgInstantiateContract: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (*m->admin && !addr_ok(m->admin))
            rc = wicas_errf(err, errlen, "invalid admin address: invalid address");
        else if (m->code_id == 0)
            rc = wicas_errf(err, errlen, "code id is required: invalid request");
        else if (!*m->label || strlen(m->label) > MAX_LABEL)
            rc = wicas_errf(err, errlen, "label must be 1..128 characters: invalid request");
        else if (!wicas_wasm_json_ok(m->msg.data, m->msg.len))
            rc = wicas_errf(err, errlen, "msg is not valid JSON: invalid request");
        else if (wicas_coins_from_pb(m->funds, m->n_funds, &c, &nc, tmp, sizeof tmp))
            rc = wicas_errf(err, errlen, "%s", tmp);
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_instantiate_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_EXEC) == 0) {
        Wchain__MsgExecuteContract *m = wchain__msg_execute_contract__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgExecuteContract: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract))
            rc = wicas_errf(err, errlen, "invalid contract address: invalid address");
        else if (!wicas_wasm_json_ok(m->msg.data, m->msg.len))
            rc = wicas_errf(err, errlen, "msg is not valid JSON: invalid request");
        else if (wicas_coins_from_pb(m->funds, m->n_funds, &c, &nc, tmp, sizeof tmp))
            rc = wicas_errf(err, errlen, "%s", tmp);
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_execute_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_MIGRATE) == 0) {
        Wchain__MsgMigrateContract *m = wchain__msg_migrate_contract__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgMigrateContract: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract))
            rc = wicas_errf(err, errlen, "invalid contract address: invalid address");
        else if (m->code_id == 0)
            rc = wicas_errf(err, errlen, "code id is required: invalid request");
        else if (!wicas_wasm_json_ok(m->msg.data, m->msg.len))
            rc = wicas_errf(err, errlen, "msg is not valid JSON: invalid request");
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_migrate_contract__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_ADMIN) == 0) {
        Wchain__MsgUpdateAdmin *m = wchain__msg_update_admin__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgUpdateAdmin: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract))
            rc = wicas_errf(err, errlen, "invalid contract address: invalid address");
        else if (!addr_ok(m->new_admin))
            rc = wicas_errf(err, errlen, "invalid new admin address: invalid address");
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_update_admin__free_unpacked(m, NULL);
    } else if (strcmp(u, URL_CLEAR) == 0) {
        Wchain__MsgClearAdmin *m = wchain__msg_clear_admin__unpack(NULL, len, val);
        if (!m) return wicas_errf(err, errlen, "cannot decode MsgClearAdmin: tx parse error");
        if (!addr_ok(m->sender))
            rc = wicas_errf(err, errlen, "invalid sender address: invalid address");
        else if (!addr_ok(m->contract))
            rc = wicas_errf(err, errlen, "invalid contract address: invalid address");
        if (!rc) *signer = wicas_xstrdup(m->sender);
        wchain__msg_clear_admin__free_unpacked(m, NULL);
    } else {
        return wicas_errf(err, errlen, "not a wasm message");
    }
    free(c);
    return rc;
}

/* ---- operations (shared by tx messages and contract messages) --------------------------- */

/* Contract address by the classic rule (see the file comment). */
static void classic_addr(uint64_t code_id, uint64_t inst, uint8_t out[32]) {
    uint8_t th[32], buf[32 + 5 + 16];
    wicas_sha256("module", 6, th);
    memcpy(buf, th, 32);
    memcpy(buf + 32, "wasm", 4);
    buf[36] = 0;
    wicas_be64_put(buf + 37, code_id);
    wicas_be64_put(buf + 45, inst);
    wicas_sha256(buf, sizeof buf, out);
}

static int handle_response(wctx *x, const uint8_t a[32], const char *ok_json, uint8_t **data,
                           size_t *data_len);

static int do_instantiate(wctx *x, const uint8_t *sender, size_t sl, const char *admin, uint64_t code_id,
                          const char *label, const uint8_t *msg, size_t msg_len, const coin *funds, size_t nf,
                          uint8_t out_addr[32], uint8_t **data, size_t *data_len) {
    Wchain__StoredCode *code = NULL;
    int rc = wicas_wasm_code_get(x, code_id, &code);
    if (rc < 0) return -1;
    if (rc == 0)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, WASM_CS, "no such code: %" PRIu64, code_id);
    uint64_t inst;
    if (wicas_wasm_next_seq(x, K_INST_SEQ, &inst)) goto fail;
    classic_addr(code_id, inst, out_addr);
    Wchain__ContractInfo *existing = NULL;
    rc = wicas_wasm_contract_get(x, out_addr, &existing);
    if (rc != 0) {
        if (existing) wchain__contract_info__free_unpacked(existing, NULL);
        if (rc == 1)
            wicas_ctx_fail(x, WICAS_WASM_CODE_DUPLICATE, WASM_CS,
                           "contract address already exists: duplicate");
        goto fail;
    }
    if (wicas_acc_ensure(x, out_addr, 32)) goto fail;
    if (nf && wicas_bank_send(x, sender, sl, out_addr, 32, funds, nf)) goto fail;
    char creator[100], as[100];
    wicas_addr_str(sender, sl, creator);
    wicas_addr_str(out_addr, 32, as);
    Wchain__AbsoluteTxPosition pos = WCHAIN__ABSOLUTE_TX_POSITION__INIT;
    pos.block_height = (uint64_t)x->c->blk_height;
    pos.tx_index = x->c->tx_index < 0 ? 0 : (uint64_t)x->c->tx_index;
    Wchain__ContractInfo ci = WCHAIN__CONTRACT_INFO__INIT;
    ci.code_id = code_id;
    ci.creator = creator;
    ci.admin = (char *)(admin ? admin : "");
    ci.label = (char *)label;
    ci.created = &pos;
    if (wicas_wasm_contract_set(x, out_addr, &ci)) goto fail;
    uint8_t bk[128];
    if (wicas_st_set(x, bk, wicas_wasm_bycode_key(code_id, &ci, out_addr, bk), (const uint8_t *)"", 0))
        goto fail;
    char *info = wicas_wasm_info_json(creator, funds, nf);
    if (!info) {
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
        goto fail;
    }
    wicas_vm_result res;
    rc = wicas_wasm_call_contract(x, out_addr, code->checksum.data, WICAS_VM_INSTANTIATE, info, msg, msg_len,
                                  WICAS_WASM_CODE_INSTANTIATE_FAILED, &res);
    free(info);
    if (rc) {
        wicas_vm_result_free(&res);
        goto fail;
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRIu64, code_id);
    wicas_ev_add(&x->ev, "instantiate", "_contract_address", as, "code_id", ids, NULL);
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
    if (wicas_wasm_load_contract(x, contract, a, &ci, &code)) return -1;
    int rc = -1;
    char ss[100];
    wicas_addr_str(sender, sl, ss);
    char *info = NULL;
    if (nf && wicas_bank_send(x, sender, sl, a, 32, funds, nf)) goto done;
    if (!(info = wicas_wasm_info_json(ss, funds, nf))) {
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
        goto done;
    }
    wicas_vm_result res;
    rc = wicas_wasm_call_contract(x, a, code->checksum.data, WICAS_VM_EXECUTE, info, msg, msg_len,
                                  WICAS_WASM_CODE_EXECUTE_FAILED, &res);
    if (rc == 0) {
        wicas_ev_add(&x->ev, "execute", "_contract_address", contract, NULL);
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
int wicas_wasm_sudo(wctx *x, const uint8_t contract[32], const uint8_t *msg, size_t len) {
    char as[100];
    wicas_addr_str(contract, 32, as);
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    Wchain__StoredCode *code;
    if (wicas_wasm_load_contract(x, as, a, &ci, &code)) return -1;
    wicas_vm_result res;
    int rc = wicas_wasm_call_contract(x, a, code->checksum.data, WICAS_VM_SUDO, NULL, msg, len,
                                      WICAS_WASM_CODE_EXECUTE_FAILED, &res);
    if (rc == 0) {
        wicas_ev_add(&x->ev, "sudo", "_contract_address", as, NULL);
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
    if (wicas_wasm_load_contract(x, contract, a, &ci, NULL)) return -1;
    char ss[100];
    wicas_addr_str(sender, sl, ss);
    int rc = -1;
    Wchain__StoredCode *code = NULL;
    if (!*ci->admin || strcmp(ci->admin, ss) != 0) {
        wicas_ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK,
                       "can not migrate: unauthorized");
        goto done;
    }
    int r = wicas_wasm_code_get(x, new_code, &code);
    if (r != 1) {
        if (r == 0)
            wicas_ctx_fail(x, WICAS_WASM_CODE_NO_SUCH_CODE, WASM_CS, "no such code: %" PRIu64, new_code);
        goto done;
    }
    /* MigrateInfo for contracts whose migrate takes it (cosmwasm-std 2.2):
     * the sender and the migrate version of the code migrated FROM, read
     * like wasmvm's AnalyzeCode from its cw_migrate_version section
     * (unmetered, as in wasmd) */
    bool has_old = false;
    uint64_t old_version = 0;
    Wchain__StoredCode *old_code = NULL;
    int orc = wicas_wasm_code_get(x, ci->code_id, &old_code);
    if (orc < 0) goto done;
    if (orc == 1) {
        uint8_t k[64];
        uint8_t *v = NULL;
        size_t vl = 0;
        if (wicas_kv_get(&x->ov, k, wicas_wasm_key(K_BYTECODE, old_code->checksum.data, 32, k), &v, &vl) == 1)
            has_old = wicas_vm_code_migrate_version(v, vl, &old_version) == 1;
        free(v);
        wchain__stored_code__free_unpacked(old_code, NULL);
    }
    char *minfo = wicas_vm_migrate_info_json(ss, has_old, old_version);
    if (!minfo) {
        wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
        goto done;
    }
    uint8_t bk[128];
    if (wicas_st_del(x, bk, wicas_wasm_bycode_key(ci->code_id, ci, a, bk))) {
        free(minfo);
        goto done;
    }
    ci->code_id = new_code;
    if (wicas_st_set(x, bk, wicas_wasm_bycode_key(new_code, ci, a, bk), (const uint8_t *)"", 0) ||
        wicas_wasm_contract_set(x, a, ci)) {
        free(minfo);
        goto done;
    }
    wicas_vm_result res;
    rc = wicas_wasm_call_contract(x, a, code->checksum.data, WICAS_VM_MIGRATE, minfo, msg, msg_len,
                                  WICAS_WASM_CODE_MIGRATION_FAILED, &res);
    free(minfo);
    if (rc == 0) {
        char ids[24];
        snprintf(ids, sizeof ids, "%" PRIu64, new_code);
        wicas_ev_add(&x->ev, "migrate", "_contract_address", contract, "code_id", ids, NULL);
        rc = handle_response(x, a, res.ok_json, data, data_len);
    }
    wicas_vm_result_free(&res);
done:
    if (code) wchain__stored_code__free_unpacked(code, NULL);
    wchain__contract_info__free_unpacked(ci, NULL);
    return rc;
}

static int do_set_admin(wctx *x, const uint8_t *sender, size_t sl, const char *contract,
                        const char *new_admin) {
    uint8_t a[32];
    Wchain__ContractInfo *ci;
    if (wicas_wasm_load_contract(x, contract, a, &ci, NULL)) return -1;
    char ss[100];
    wicas_addr_str(sender, sl, ss);
    int rc = -1;
    if (!*ci->admin || strcmp(ci->admin, ss) != 0) {
        wicas_ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK,
                       "can not modify contract: unauthorized");
    } else {
        char *old = ci->admin;
        ci->admin = (char *)new_admin;
        rc = wicas_wasm_contract_set(x, a, ci);
        ci->admin = old;
        if (!rc)
            wicas_ev_add(&x->ev, "update_contract_admin", "_contract_address", contract, "new_admin_address",
                         new_admin, NULL);
    }
    wchain__contract_info__free_unpacked(ci, NULL);
    return rc;
}

/* ---- the response packer ------------------------------------------------------------------------
 * What a message answers, protobuf-packed: the bytes are the tx's msg
 * response when the message came in a tx, and the sub-message's data (and
 * its msg_responses value) in the reply when a contract emitted it. */

/* m packed into *out (malloc'd); 0, or -1 with x failed (out of memory). */
static int pack_msg_response(wctx *x, const ProtobufCMessage *m, uint8_t **out, size_t *out_len) {
    *out_len = protobuf_c_message_get_packed_size(m);
    *out = malloc(*out_len + 1);
    if (!*out) {
        *out_len = 0;
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
    }
    protobuf_c_message_pack(m, *out);
    return 0;
}

/* The Msg*Response of message `url` (URL_INST, URL_EXEC or URL_MIGRATE) whose
 * contract answered with data[0..dl) (NULL: no data); address: the new
 * contract (URL_INST only). *resp_url, when not NULL, gets the response's
 * type URL. */
static int pack_contract_response(wctx *x, const char *url, const char *address, const uint8_t *data,
                                  size_t dl, uint8_t **out, size_t *out_len, const char **resp_url) {
    Wchain__MsgInstantiateContractResponse inst = WCHAIN__MSG_INSTANTIATE_CONTRACT_RESPONSE__INIT;
    Wchain__MsgExecuteContractResponse exec = WCHAIN__MSG_EXECUTE_CONTRACT_RESPONSE__INIT;
    Wchain__MsgMigrateContractResponse mig = WCHAIN__MSG_MIGRATE_CONTRACT_RESPONSE__INIT;
    const ProtobufCMessage *m;
    const char *type;
    if (strcmp(url, URL_INST) == 0) {
        inst.address = (char *)address;
        inst.data.data = (uint8_t *)data;
        inst.data.len = dl;
        m = &inst.base, type = URL_INST "Response";
    } else if (strcmp(url, URL_EXEC) == 0) {
        exec.data.data = (uint8_t *)data;
        exec.data.len = dl;
        m = &exec.base, type = URL_EXEC "Response";
    } else {
        mig.data.data = (uint8_t *)data;
        mig.data.len = dl;
        m = &mig.base, type = URL_MIGRATE "Response";
    }
    if (pack_msg_response(x, m, out, out_len)) return -1;
    if (resp_url) *resp_url = type;
    return 0;
}

/* ---- messages from contracts -------------------------------------------------------------- */

static int json_coins(wctx *x, const cJSON *arr, coin **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr))
        return wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS, "coins must be an array");
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
            rc = wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS, "invalid coin in contract message");
            break;
        }
        wchain__coin__init(&pc[i]);
        pc[i].denom = d->valuestring;
        pc[i].amount = a->valuestring;
        pp[i] = &pc[i];
        i++;
    }
    char err[200];
    if (!rc && wicas_coins_from_pb(pp, i, out, n, err, sizeof err))
        rc = wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
    free(pc);
    free(pp);
    return rc;
}

/* Dispatches one CosmosMsg from contract a. *data gets the message's response
 * data (protobuf of the Msg*Response), *resp_url its type URL. */
static int dispatch_cosmos_msg(wctx *x, const uint8_t a[32], const char *json, uint8_t **data,
                               size_t *data_len, const char **resp_url) {
    *data = NULL;
    *data_len = 0;
    *resp_url = "";
    cJSON *j = cJSON_Parse(json);
    if (!j)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                              "contract message is not JSON: invalid CosmosMsg from the contract");
    int rc = -1;
    char self[100];
    wicas_addr_str(a, 32, self);
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(j, "bank");
    const cJSON *wasm = cJSON_GetObjectItemCaseSensitive(j, "wasm");
    /* {"custom":{"<key>":...}}: the module offering <key> to contracts (NULL: none) */
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(j, "custom");
    const wicas_module *cm = wicas_wasm_custom_route(custom, true);
    coin *c = NULL;
    size_t nc = 0;
    if (bank && cJSON_GetObjectItemCaseSensitive(bank, "send")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(bank, "send");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(s, "to_address");
        uint8_t tb[32];
        size_t tl;
        if (!cJSON_IsString(to) || wicas_chain_addr_decode(to->valuestring, tb, &tl))
            wicas_ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                           "bank send from contract: invalid to_address");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(s, "amount"), &c, &nc) == 0) {
            if (nc == 0)
                wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK,
                               "bank send from contract: empty amount");
            else {
                wicas_ev_add(&x->ev, "message", "action", "/cosmos.bank.v1beta1.MsgSend", "sender", self,
                             "module", "bank", NULL);
                rc = wicas_bank_send(x, a, 32, tb, tl, c, nc);
                *resp_url = "/cosmos.bank.v1beta1.MsgSendResponse";
            }
        }
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "execute")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "execute");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        size_t ml = 0;
        uint8_t *m = wicas_wasm_b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsString(to) || !m)
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                           "wasm execute from contract: contract_addr and base64 msg required");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(e, "funds"), &c, &nc) == 0) {
            uint8_t *d = NULL;
            size_t dl = 0;
            rc = do_execute(x, a, 32, to->valuestring, m, ml, c, nc, &d, &dl);
            if (rc == 0) rc = pack_contract_response(x, URL_EXEC, NULL, d, dl, data, data_len, resp_url);
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "instantiate")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "instantiate");
        const cJSON *admin = cJSON_GetObjectItemCaseSensitive(e, "admin");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(e, "code_id");
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(e, "label");
        size_t ml = 0;
        uint8_t *m = wicas_wasm_b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsNumber(cid) || cid->valuedouble < 1 || !cJSON_IsString(label) || !m ||
            (admin && !cJSON_IsNull(admin) && (!cJSON_IsString(admin) || !addr_ok(admin->valuestring))))
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                           "wasm instantiate from contract: code_id, label, base64 msg required");
        else if (json_coins(x, cJSON_GetObjectItemCaseSensitive(e, "funds"), &c, &nc) == 0) {
            uint8_t na[32], *d = NULL;
            size_t dl = 0;
            rc = do_instantiate(x, a, 32, cJSON_IsString(admin) ? admin->valuestring : "",
                                (uint64_t)cid->valuedouble, label->valuestring, m, ml, c, nc, na, &d, &dl);
            if (rc == 0) {
                char as[100];
                wicas_addr_str(na, 32, as);
                rc = pack_contract_response(x, URL_INST, as, d, dl, data, data_len, resp_url);
            }
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "migrate")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "migrate");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(e, "new_code_id");
        size_t ml = 0;
        uint8_t *m = wicas_wasm_b64dec(cJSON_GetObjectItemCaseSensitive(e, "msg"), &ml);
        if (!cJSON_IsString(to) || !cJSON_IsNumber(cid) || !m)
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                           "wasm migrate from contract: contract_addr, new_code_id, msg required");
        else {
            uint8_t *d = NULL;
            size_t dl = 0;
            rc = do_migrate(x, a, 32, to->valuestring, (uint64_t)cid->valuedouble, m, ml, &d, &dl);
            /* the migrated contract's data does not reach the reply (an empty
             * MsgMigrateContractResponse), as before the split */
            *resp_url = "/cosmwasm.wasm.v1.MsgMigrateContractResponse";
            free(d);
        }
        free(m);
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "update_admin")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(wasm, "update_admin");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "contract_addr");
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(e, "admin");
        if (!cJSON_IsString(to) || !cJSON_IsString(ad) || !addr_ok(ad->valuestring))
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                           "wasm update_admin from contract: contract_addr, admin required");
        else
            rc = do_set_admin(x, a, 32, to->valuestring, ad->valuestring);
        *resp_url = "/cosmwasm.wasm.v1.MsgUpdateAdminResponse";
    } else if (wasm && cJSON_GetObjectItemCaseSensitive(wasm, "clear_admin")) {
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(wasm, "clear_admin"), "contract_addr");
        if (!cJSON_IsString(to))
            wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS,
                           "wasm clear_admin from contract: contract_addr required");
        else
            rc = do_set_admin(x, a, 32, to->valuestring, "");
        *resp_url = "/cosmwasm.wasm.v1.MsgClearAdminResponse";
    } else if (cm) {
        /* e.g. {"custom":{"ai":{"request":{...}}}}, an asynchronous inference */
        rc = cm->custom_msg(x, a, custom, resp_url);
    } else {
        wicas_ctx_fail(x, WICAS_WASM_CODE_UNKNOWN_MSG, WASM_CS, "unknown message from the contract: %.100s",
                       json);
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

/* Runs contract a's `reply` for sub-message sm: its SubMsgResult is ok (the
 * sub-message's events evs, its packed response d[0..dl) of type resp_url)
 * or the redacted error errmsg. The reply's Response is handled like any
 * other; its data, when set, replaces *data. */
static int call_reply(wctx *x, const uint8_t a[32], const wicas_vm_submsg *sm, bool ok, const evlist *evs,
                      const uint8_t *d, size_t dl, const char *resp_url, const char *errmsg,
                      uint64_t gas_used, uint8_t **data, size_t *data_len) {
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
        if (b)
            cJSON_AddStringToObject(o, "data", b);
        else
            cJSON_AddNullToObject(o, "data");
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
    if (!msg) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
    Wchain__ContractInfo *ci = NULL;
    Wchain__StoredCode *code = NULL;
    char as[100];
    wicas_addr_str(a, 32, as);
    if (wicas_wasm_load_contract(x, as, (uint8_t[32]){0}, &ci, &code)) {
        free(msg);
        return -1;
    }
    wicas_vm_result vr;
    int rc = wicas_wasm_call_contract(x, a, code->checksum.data, WICAS_VM_REPLY, NULL, (uint8_t *)msg,
                                      strlen(msg), WICAS_WASM_CODE_EXECUTE_FAILED, &vr);
    free(msg);
    if (rc == 0) {
        wicas_ev_add(&x->ev, "reply", "_contract_address", as, NULL);
        uint8_t *rd = NULL;
        size_t rdl = 0;
        rc = handle_response(x, a, vr.ok_json, &rd, &rdl);
        if (rc == 0 && rd) { /* the reply's data replaces the caller's */
            free(*data);
            *data = rd;
            *data_len = rdl;
        } else {
            free(rd);
        }
    }
    wicas_vm_result_free(&vr);
    wchain__contract_info__free_unpacked(ci, NULL);
    wchain__stored_code__free_unpacked(code, NULL);
    return rc;
}

static bool attr_key_ok(const char *k) {
    while (*k == ' ')
        k++;
    return *k && *k != '_';
}

/* Emits event `type` {_contract_address: contract, attrs...} of a contract's
 * Response; an empty or reserved key fails x (the event stays, the caller's
 * context is dropped with it). */
static int contract_event(wctx *x, const char *type, const char *contract, const wicas_vm_attr *attrs,
                          size_t n) {
    wicas_chain_event *e = wicas_ev_add(&x->ev, type, "_contract_address", contract, NULL);
    for (size_t i = 0; e && i < n; i++) {
        if (!attr_key_ok(attrs[i].key))
            return wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_EVENT, WASM_CS,
                                  "attribute key '%s' is empty or reserved: invalid event", attrs[i].key);
        wicas_ev_attr(e, attrs[i].key, attrs[i].value);
    }
    return 0;
}

static int handle_response(wctx *x, const uint8_t a[32], const char *ok_json, uint8_t **data,
                           size_t *data_len) {
    *data = NULL;
    *data_len = 0;
    wicas_vm_response r;
    char err[256];
    if (wicas_vm_parse_response(ok_json ? ok_json : "", &r, err, sizeof err) != WICAS_VM_OK)
        return wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_MSG, WASM_CS, "contract response: %s", err);
    char as[100];
    wicas_addr_str(a, 32, as);
    int rc = 0;
    if (r.n_attributes) rc = contract_event(x, "wasm", as, r.attributes, r.n_attributes);
    for (size_t i = 0; i < r.n_events && !rc; i++) {
        if (strlen(r.events[i].type) < 2) {
            rc = wicas_ctx_fail(x, WICAS_WASM_CODE_INVALID_EVENT, WASM_CS,
                                "event type '%s' too short: invalid event", r.events[i].type);
            break;
        }
        char t[300];
        snprintf(t, sizeof t, "wasm-%s", r.events[i].type);
        rc = contract_event(x, t, as, r.events[i].attrs, r.events[i].n_attrs);
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
        wicas_ctx_child(&sub, x);
        uint64_t base_used = x->gas_used;
        if (sm->has_gas_limit && sm->gas_limit < x->gas_limit - x->gas_used)
            sub.gas_limit = x->gas_used + sm->gas_limit;
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
                    wicas_chain_event *e = wicas_ev_add(&copy, sub.ev.ev[k].type, NULL);
                    for (size_t q = 0; e && q < sub.ev.ev[k].n_attrs; q++)
                        wicas_ev_attr(e, sub.ev.ev[k].attrs[q].key, sub.ev.ev[k].attrs[q].value);
                }
            }
            if (wicas_ctx_end(&sub, x, true))
                rc = wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WASM_CS, "out of memory");
            if (!rc && reply) rc = call_reply(x, a, sm, true, &copy, d, dl, url, NULL, used, data, data_len);
            wicas_ev_free(&copy);
        } else {
            bool reply = !parent_oog &&
                         (sm->reply_on == WICAS_VM_REPLY_ERROR || sm->reply_on == WICAS_VM_REPLY_ALWAYS);
            char red[64];
            snprintf(red, sizeof red, "codespace: %s, code: %u", sub.codespace ? sub.codespace : WASM_CS,
                     sub.code);
            if (reply) {
                sub.code = 0; /* caught: the error does not fail the caller */
                sub.out_of_gas = false;
                wicas_ctx_end(&sub, x, false);
                rc = call_reply(x, a, sm, false, NULL, NULL, 0, NULL, red, used, data, data_len);
            } else {
                wicas_ctx_end(&sub, x, false);
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

/* ---- tx message entry point -------------------------------------------------------------------- */

static int sender_of(wctx *x, const char *s, uint8_t a[32], size_t *al) {
    if (wicas_chain_addr_decode(s, a, al))
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                              "invalid sender address");
    return 0;
}

int wicas_wasm_msg_handle(wctx *x, const char *url, const uint8_t *val, size_t len, uint8_t **resp,
                          size_t *resp_len) {
    *resp = NULL;
    *resp_len = 0;
    uint8_t s[32];
    size_t sl;
    if (strcmp(url, URL_STORE) == 0) {
        Wchain__MsgStoreCode *m = wchain__msg_store_code__unpack(NULL, len, val);
        if (!m) return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgStoreCode");
        int rc = sender_of(x, m->sender, s, &sl);
        uint64_t id = 0;
        uint8_t cs[32];
        if (!rc)
            rc = wicas_gas_use(x, GAS_WASM_COMPILE_PER_BYTE * (uint64_t)m->wasm_byte_code.len,
                               "Compiling wasm bytecode");
        if (!rc) rc = wicas_wasm_store_code(x, s, sl, m->wasm_byte_code.data, m->wasm_byte_code.len, &id, cs);
        wchain__msg_store_code__free_unpacked(m, NULL);
        if (rc) return -1;
        char hex[65], ids[24];
        wicas_hex_encode(cs, 32, hex);
        snprintf(ids, sizeof ids, "%" PRIu64, id);
        wicas_ev_add(&x->ev, "store_code", "code_checksum", hex, "code_id", ids, NULL);
        Wchain__MsgStoreCodeResponse r = WCHAIN__MSG_STORE_CODE_RESPONSE__INIT;
        r.code_id = id;
        r.checksum.data = cs;
        r.checksum.len = 32;
        return pack_msg_response(x, &r.base, resp, resp_len);
    }
    uint8_t *data = NULL;
    size_t dl = 0;
    int rc = -1;
    if (strcmp(url, URL_INST) == 0) {
        Wchain__MsgInstantiateContract *m = wchain__msg_instantiate_contract__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                  "bad MsgInstantiateContract");
        coin *c = NULL;
        size_t nc = 0;
        char err[200];
        uint8_t a[32];
        if (sender_of(x, m->sender, s, &sl) == 0) {
            if (wicas_coins_from_pb(m->funds, m->n_funds, &c, &nc, err, sizeof err))
                wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
            else
                rc = do_instantiate(x, s, sl, m->admin, m->code_id, m->label, m->msg.data, m->msg.len, c, nc,
                                    a, &data, &dl);
        }
        if (rc == 0) {
            char as[100];
            wicas_addr_str(a, 32, as);
            rc = pack_contract_response(x, URL_INST, as, data, dl, resp, resp_len, NULL);
        }
        free(c);
        wchain__msg_instantiate_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_EXEC) == 0) {
        Wchain__MsgExecuteContract *m = wchain__msg_execute_contract__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                  "bad MsgExecuteContract");
        coin *c = NULL;
        size_t nc = 0;
        char err[200];
        if (sender_of(x, m->sender, s, &sl) == 0) {
            if (wicas_coins_from_pb(m->funds, m->n_funds, &c, &nc, err, sizeof err))
                wicas_ctx_fail(x, WICAS_CODE_INVALID_COINS, WICAS_CHAIN_CODESPACE_SDK, "%s", err);
            else
                rc = do_execute(x, s, sl, m->contract, m->msg.data, m->msg.len, c, nc, &data, &dl);
        }
        if (rc == 0) rc = pack_contract_response(x, URL_EXEC, NULL, data, dl, resp, resp_len, NULL);
        free(c);
        wchain__msg_execute_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_MIGRATE) == 0) {
        Wchain__MsgMigrateContract *m = wchain__msg_migrate_contract__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK,
                                  "bad MsgMigrateContract");
        if (sender_of(x, m->sender, s, &sl) == 0)
            rc = do_migrate(x, s, sl, m->contract, m->code_id, m->msg.data, m->msg.len, &data, &dl);
        if (rc == 0) rc = pack_contract_response(x, URL_MIGRATE, NULL, data, dl, resp, resp_len, NULL);
        wchain__msg_migrate_contract__free_unpacked(m, NULL);
    } else if (strcmp(url, URL_ADMIN) == 0) {
        Wchain__MsgUpdateAdmin *m = wchain__msg_update_admin__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgUpdateAdmin");
        if (sender_of(x, m->sender, s, &sl) == 0) rc = do_set_admin(x, s, sl, m->contract, m->new_admin);
        wchain__msg_update_admin__free_unpacked(m, NULL);
        Wchain__MsgUpdateAdminResponse r = WCHAIN__MSG_UPDATE_ADMIN_RESPONSE__INIT;
        if (rc == 0) rc = pack_msg_response(x, &r.base, resp, resp_len);
    } else if (strcmp(url, URL_CLEAR) == 0) {
        Wchain__MsgClearAdmin *m = wchain__msg_clear_admin__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "bad MsgClearAdmin");
        if (sender_of(x, m->sender, s, &sl) == 0) rc = do_set_admin(x, s, sl, m->contract, "");
        wchain__msg_clear_admin__free_unpacked(m, NULL);
        Wchain__MsgClearAdminResponse r = WCHAIN__MSG_CLEAR_ADMIN_RESPONSE__INIT;
        if (rc == 0) rc = pack_msg_response(x, &r.base, resp, resp_len);
    } else {
        rc = wicas_ctx_fail(x, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                            "unrecognized wasm message %s", url);
    }
    free(data);
    return rc;
}

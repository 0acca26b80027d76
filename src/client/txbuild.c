/*
 * txbuild.c — building and signing Cosmos SDK transactions for the CLI and
 * tests: message Anys (MsgSend, the wasm messages), TxBody/AuthInfo with one
 * secp256k1 signer (SIGN_MODE_DIRECT), the signature over the SignDoc the
 * chain verifies (wicas_chain_sign_doc_hash), and the tx hash. Encodings are
 * protobuf-c's, byte-identical to CosmJS's (tx.c explains why).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wchain.pb-c.h"
#include "client.h"
#include "ai.h"
#include "common.h"

#define URL_SEND "/cosmos.bank.v1beta1.MsgSend"
#define URL_PUBKEY "/cosmos.crypto.secp256k1.PubKey"
#define URL_REGISTER "/wicas.ai.v1.MsgRegisterModel"
#define URL_STORE_PROGRAM "/wicas.ai.v1.MsgStoreProgram"

void wicas_chain_any_free(wicas_chain_any *a) {
    if (!a) return;
    free(a->type_url);
    free(a->value);
    memset(a, 0, sizeof *a);
}

static int pack_any(const ProtobufCMessage *m, const char *url, wicas_chain_any *out) {
    size_t n = protobuf_c_message_get_packed_size(m);
    out->value = malloc(n ? n : 1);
    out->type_url = strdup(url);
    if (!out->value || !out->type_url) {
        wicas_chain_any_free(out);
        return WICAS_CHAIN_ERR_NOMEM;
    }
    protobuf_c_message_pack(m, out->value);
    out->value_len = n;
    return 0;
}

static int check_addr(const char *what, const char *a, char *err, size_t errlen) {
    uint8_t b[32];
    size_t n;
    if (!a || wicas_chain_addr_decode(a, b, &n)) {
        snprintf(err, errlen, "invalid %s address '%s' (want wicas1...)", what, a ? a : "(null)");
        return WICAS_CHAIN_ERR_INVALID;
    }
    return 0;
}

/* Builds protobuf Coin pointers for a coins string; frees with free_pb_coins. */
static int pb_coins(const char *s, Wchain__Coin ***out, size_t *n, char *err, size_t errlen) {
    wicas_chain_coin *c = NULL;
    *out = NULL;
    *n = 0;
    if (wicas_chain_coins_parse(s, &c, n, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    if (*n == 0) return 0;
    Wchain__Coin **p = calloc(*n, sizeof *p);
    for (size_t i = 0; p && i < *n; i++) {
        p[i] = malloc(sizeof **p);
        if (!p[i]) break;
        wchain__coin__init(p[i]);
        p[i]->denom = strdup(c[i].denom);
        char amt[24];
        snprintf(amt, sizeof amt, "%" PRIu64, c[i].amount);
        p[i]->amount = strdup(amt);
    }
    free(c);
    *out = p;
    return p ? 0 : WICAS_CHAIN_ERR_NOMEM;
}

static void free_pb_coins(Wchain__Coin **p, size_t n) {
    for (size_t i = 0; p && i < n; i++) {
        if (!p[i]) continue;
        free(p[i]->denom);
        free(p[i]->amount);
        free(p[i]);
    }
    free(p);
}

int wicas_chain_msg_send(const char *from, const char *to, const char *amount, wicas_chain_any *out,
                         char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_addr("from", from, err, errlen) || check_addr("to", to, err, errlen))
        return WICAS_CHAIN_ERR_INVALID;
    Wchain__MsgSend m = WCHAIN__MSG_SEND__INIT;
    m.from_address = (char *)from;
    m.to_address = (char *)to;
    if (pb_coins(amount, &m.amount, &m.n_amount, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    if (m.n_amount == 0) {
        snprintf(err, errlen, "amount is empty");
        return WICAS_CHAIN_ERR_INVALID;
    }
    int rc = pack_any(&m.base, URL_SEND, out);
    free_pb_coins(m.amount, m.n_amount);
    return rc;
}

int wicas_chain_msg_store_code(const char *sender, const uint8_t *wasm, size_t wasm_len, wicas_chain_any *out,
                               char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_addr("sender", sender, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    if (!wasm || wasm_len == 0) {
        snprintf(err, errlen, "empty wasm code");
        return WICAS_CHAIN_ERR_INVALID;
    }
    Wchain__MsgStoreCode m = WCHAIN__MSG_STORE_CODE__INIT;
    m.sender = (char *)sender;
    m.wasm_byte_code.data = (uint8_t *)wasm;
    m.wasm_byte_code.len = wasm_len;
    return pack_any(&m.base, "/cosmwasm.wasm.v1.MsgStoreCode", out);
}

int wicas_chain_msg_instantiate(const char *sender, const char *admin, uint64_t code_id, const char *label,
                                const char *json_msg, const char *funds, wicas_chain_any *out, char *err,
                                size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_addr("sender", sender, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    if (admin && *admin && check_addr("admin", admin, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    if (!json_msg || !label || !*label) {
        snprintf(err, errlen, "instantiate needs a JSON message and a non-empty label");
        return WICAS_CHAIN_ERR_INVALID;
    }
    Wchain__MsgInstantiateContract m = WCHAIN__MSG_INSTANTIATE_CONTRACT__INIT;
    m.sender = (char *)sender;
    m.admin = (char *)(admin ? admin : "");
    m.code_id = code_id;
    m.label = (char *)label;
    m.msg.data = (uint8_t *)json_msg;
    m.msg.len = strlen(json_msg);
    if (pb_coins(funds, &m.funds, &m.n_funds, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    int rc = pack_any(&m.base, "/cosmwasm.wasm.v1.MsgInstantiateContract", out);
    free_pb_coins(m.funds, m.n_funds);
    return rc;
}

int wicas_chain_msg_execute(const char *sender, const char *contract, const char *json_msg, const char *funds,
                            wicas_chain_any *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_addr("sender", sender, err, errlen) || check_addr("contract", contract, err, errlen))
        return WICAS_CHAIN_ERR_INVALID;
    if (!json_msg) {
        snprintf(err, errlen, "execute needs a JSON message");
        return WICAS_CHAIN_ERR_INVALID;
    }
    Wchain__MsgExecuteContract m = WCHAIN__MSG_EXECUTE_CONTRACT__INIT;
    m.sender = (char *)sender;
    m.contract = (char *)contract;
    m.msg.data = (uint8_t *)json_msg;
    m.msg.len = strlen(json_msg);
    if (pb_coins(funds, &m.funds, &m.n_funds, err, errlen)) return WICAS_CHAIN_ERR_INVALID;
    int rc = pack_any(&m.base, "/cosmwasm.wasm.v1.MsgExecuteContract", out);
    free_pb_coins(m.funds, m.n_funds);
    return rc;
}

int wicas_chain_msg_migrate(const char *sender, const char *contract, uint64_t code_id, const char *json_msg,
                            wicas_chain_any *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_addr("sender", sender, err, errlen) || check_addr("contract", contract, err, errlen))
        return WICAS_CHAIN_ERR_INVALID;
    Wchain__MsgMigrateContract m = WCHAIN__MSG_MIGRATE_CONTRACT__INIT;
    m.sender = (char *)sender;
    m.contract = (char *)contract;
    m.code_id = code_id;
    m.msg.data = (uint8_t *)(json_msg ? json_msg : "{}");
    m.msg.len = strlen((char *)m.msg.data);
    return pack_any(&m.base, "/cosmwasm.wasm.v1.MsgMigrateContract", out);
}

int wicas_chain_tx_build_sign(const uint8_t *secret, const uint8_t *pubkey33, const wicas_chain_tx_params *p,
                              const wicas_chain_any *msgs, size_t n_msgs, uint8_t **tx, size_t *tx_len,
                              char *err, size_t errlen) {
    *tx = NULL;
    *tx_len = 0;
    if (!p || !p->chain_id || !msgs || n_msgs == 0 || (!secret && !pubkey33)) {
        snprintf(err, errlen, "tx_build_sign: need chain id, at least one message and a key");
        return WICAS_CHAIN_ERR_INVALID;
    }
    uint8_t pub[33];
    if (secret) {
        if (wicas_chain_pubkey_from_secret(secret, pub)) {
            snprintf(err, errlen, "invalid secp256k1 secret key");
            return WICAS_CHAIN_ERR_CRYPTO;
        }
    } else {
        memcpy(pub, pubkey33, 33);
    }
    int rc = WICAS_CHAIN_ERR_NOMEM;
    /* body */
    Wchain__Any *anys = calloc(n_msgs, sizeof *anys);
    Wchain__Any **pa = calloc(n_msgs, sizeof *pa);
    uint8_t *body = NULL, *auth = NULL, *out = NULL;
    Wchain__Coin **fee = NULL;
    size_t n_fee = 0;
    if (!anys || !pa) goto done;
    for (size_t i = 0; i < n_msgs; i++) {
        wchain__any__init(&anys[i]);
        anys[i].type_url = msgs[i].type_url;
        anys[i].value.data = msgs[i].value;
        anys[i].value.len = msgs[i].value_len;
        pa[i] = &anys[i];
    }
    Wchain__TxBody b = WCHAIN__TX_BODY__INIT;
    b.messages = pa;
    b.n_messages = n_msgs;
    b.memo = (char *)(p->memo ? p->memo : "");
    size_t bl = wchain__tx_body__get_packed_size(&b);
    if (!(body = malloc(bl ? bl : 1))) goto done;
    wchain__tx_body__pack(&b, body);
    /* auth info */
    Wchain__PubKey pk = WCHAIN__PUB_KEY__INIT;
    pk.key.data = pub;
    pk.key.len = 33;
    uint8_t pkb[40];
    size_t pkl = wchain__pub_key__pack(&pk, pkb);
    Wchain__Any pka = WCHAIN__ANY__INIT;
    pka.type_url = (char *)URL_PUBKEY;
    pka.value.data = pkb;
    pka.value.len = pkl;
    Wchain__ModeInfo__Single single = WCHAIN__MODE_INFO__SINGLE__INIT;
    single.mode = 1;
    Wchain__ModeInfo mi = WCHAIN__MODE_INFO__INIT;
    mi.sum_case = WCHAIN__MODE_INFO__SUM_SINGLE;
    mi.single = &single;
    Wchain__SignerInfo si = WCHAIN__SIGNER_INFO__INIT;
    si.public_key = &pka;
    si.mode_info = &mi;
    si.sequence = p->sequence;
    Wchain__SignerInfo *psi = &si;
    Wchain__Fee f = WCHAIN__FEE__INIT;
    if (pb_coins(p->fee, &fee, &n_fee, err, errlen)) {
        rc = WICAS_CHAIN_ERR_INVALID;
        goto done;
    }
    f.amount = fee;
    f.n_amount = n_fee;
    f.gas_limit = p->gas_limit;
    Wchain__AuthInfo ai = WCHAIN__AUTH_INFO__INIT;
    ai.signer_infos = &psi;
    ai.n_signer_infos = 1;
    ai.fee = &f;
    size_t al = wchain__auth_info__get_packed_size(&ai);
    if (!(auth = malloc(al ? al : 1))) goto done;
    wchain__auth_info__pack(&ai, auth);
    /* signature */
    uint8_t sig64[64];
    ProtobufCBinaryData sigs[1] = {{0, NULL}};
    if (secret) {
        uint8_t h[32];
        if (wicas_chain_sign_doc_hash(body, bl, auth, al, p->chain_id, p->account_number, h)) goto done;
        if (wicas_chain_sign_hash(secret, h, sig64)) {
            snprintf(err, errlen, "signing failed");
            rc = WICAS_CHAIN_ERR_CRYPTO;
            goto done;
        }
        sigs[0].data = sig64;
        sigs[0].len = 64;
    }
    Wchain__TxRaw raw = WCHAIN__TX_RAW__INIT;
    raw.body_bytes.data = body;
    raw.body_bytes.len = bl;
    raw.auth_info_bytes.data = auth;
    raw.auth_info_bytes.len = al;
    raw.signatures = sigs;
    raw.n_signatures = 1;
    size_t tl = wchain__tx_raw__get_packed_size(&raw);
    if (!(out = malloc(tl))) goto done;
    wchain__tx_raw__pack(&raw, out);
    *tx = out;
    *tx_len = tl;
    out = NULL;
    rc = 0;
done:
    if (rc == WICAS_CHAIN_ERR_NOMEM) snprintf(err, errlen, "out of memory");
    free(anys);
    free(pa);
    free(body);
    free(auth);
    free(out);
    free_pb_coins(fee, n_fee);
    return rc;
}

/* ---- the AI module's messages ---------------------------------------------------------- */

static int pack_msg(const ProtobufCMessage *m, const char *url, wicas_chain_any *out, char *err,
                    size_t errlen) {
    size_t n = protobuf_c_message_get_packed_size(m);
    out->value = malloc(n ? n : 1);
    out->type_url = strdup(url);
    if (!out->value || !out->type_url) {
        wicas_chain_any_free(out);
        snprintf(err, errlen, "out of memory");
        return WICAS_CHAIN_ERR_NOMEM;
    }
    protobuf_c_message_pack(m, out->value);
    out->value_len = n;
    return 0;
}

int wicas_chain_msg_register_model(const char *authority, const char *model_json, wicas_chain_any *out,
                                   char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    wicas_ai_model mod;
    if (!model_json ||
        wicas_ai_model_from_json(model_json, strlen(model_json), &mod, err, errlen) != WICAS_AI_OK)
        return WICAS_CHAIN_ERR_INVALID;
    char hex[65];
    wicas_hex_encode(mod.sha256, 32, hex);
    Wchain__AiGasParams g = WCHAIN__AI_GAS_PARAMS__INIT;
    g.base_gas = mod.gas.base;
    g.per_prompt_token = mod.gas.per_prompt_token;
    g.per_gen_token = mod.gas.per_gen_token;
    Wchain__MsgRegisterModel m = WCHAIN__MSG_REGISTER_MODEL__INIT;
    m.authority = (char *)(authority ? authority : "");
    m.name = mod.name;
    m.sha256 = hex;
    m.size = mod.size_bytes;
    m.arch = mod.arch;
    m.params = mod.n_params;
    m.gas = &g;
    /* the same checks the chain applies, so the CLI fails before signing */
    size_t n = wchain__msg_register_model__get_packed_size(&m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return snprintf(err, errlen, "out of memory"), WICAS_CHAIN_ERR_NOMEM;
    wchain__msg_register_model__pack(&m, buf);
    int rc = wicas_chain_msg_check(URL_REGISTER, buf, n, err, errlen);
    free(buf);
    if (rc) return WICAS_CHAIN_ERR_INVALID;
    return pack_msg(&m.base, URL_REGISTER, out, err, errlen);
}

int wicas_chain_msg_store_program(const char *sender, const uint8_t *wasm, size_t wasm_len,
                                  wicas_chain_any *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    uint8_t a[32];
    size_t al;
    if (!sender || wicas_chain_addr_decode(sender, a, &al)) {
        snprintf(err, errlen, "invalid sender address '%s' (want wicas1...)", sender ? sender : "(null)");
        return WICAS_CHAIN_ERR_INVALID;
    }
    Wchain__MsgStoreProgram m = WCHAIN__MSG_STORE_PROGRAM__INIT;
    m.sender = (char *)sender;
    m.wasm_byte_code.data = (uint8_t *)wasm;
    m.wasm_byte_code.len = wasm_len;
    int rc = pack_msg(&m.base, URL_STORE_PROGRAM, out, err, errlen);
    if (!rc && wicas_chain_msg_check(URL_STORE_PROGRAM, out->value, out->value_len, err, errlen)) {
        wicas_chain_any_free(out);
        return WICAS_CHAIN_ERR_INVALID; /* e.g. empty or over the chain's size limit */
    }
    return rc;
}

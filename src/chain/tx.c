/*
 * tx.c — Cosmos SDK transactions: decoding TxRaw -> TxBody/AuthInfo with the
 * stateless checks (the SDK's ValidateBasic), SIGN_MODE_DIRECT signatures
 * (secp256k1 over SHA-256 of the SignDoc protobuf, 64-byte compact, low-S),
 * and the client side: message builders and build-and-sign for the CLI.
 *
 * Wire facts (cosmos-sdk v0.50 proto/cosmos/tx/v1beta1/tx.proto):
 *   SignDoc{1 body_bytes, 2 auth_info_bytes, 3 chain_id, 4 account_number} —
 *   the signature covers the exact body/auth_info bytes carried in TxRaw, so
 *   we never re-encode what we verify. protobuf-c emits fields in number
 *   order and omits proto3 defaults, as Go's encoder does, so a SignDoc we
 *   build is byte-identical to CosmJS's.
 * Only single-signer txs are supported (one SignerInfo, one signature, one
 * distinct signer across messages); multisig and fee grants are refused.
 */
#include <inttypes.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "module.h"

secp256k1_context *wicas_wchain_secp(void);

#define URL_SEND "/cosmos.bank.v1beta1.MsgSend"
#define URL_PUBKEY "/cosmos.crypto.secp256k1.PubKey"

static int fail(uint32_t *code, uint32_t c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sets the result code and the message; returns -1. */
static int fail(uint32_t *code, uint32_t c, char *err, size_t errlen, const char *fmt, ...) {
    *code = c;
    va_list ap;
    va_start(ap, fmt);
    wicas_verrf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int wicas_msg_signer(const char *url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                     char *err, size_t errlen) {
    *signer = NULL;
    const wicas_msg_route *r = NULL;
    if (!wicas_module_for_msg(url, &r))
        return fail(code, WICAS_CODE_UNKNOWN_REQUEST, err, errlen,
                    "unrecognized message type '%s': unknown request", url);
    return r->signer(url, val, len, signer, code, err, errlen);
}

int wicas_chain_msg_check(const char *type_url, const uint8_t *val, size_t len, char *err, size_t errlen) {
    char *s = NULL;
    uint32_t code = 0;
    int rc = wicas_msg_signer(type_url ? type_url : "", val, len, &s, &code, err, errlen);
    free(s);
    return rc ? WICAS_CHAIN_ERR_INVALID : 0;
}

/* ---- unknown fields (the SDK's codec/unknownproto) ------------------------------------------
 * protobuf-c keeps the fields it does not know in each message's
 * unknown_fields; left alone they would let anyone re-encode a signed tx
 * with an extra field: same content, new hash (malleability). As the Cosmos
 * SDK's tx decoder does: TxRaw allows none; TxBody and AuthInfo, and every
 * message inside them (SignerInfo, ModeInfo, Fee, Coin, Any and the message
 * an Any holds when we know its type), allow only non-critical ones, whose
 * field number has bit 0x400 set (ADR 020). Any with a type we do not know is
 * left to the message / public-key checks, which refuse it, except in
 * non_critical_extension_options, where it is undecodable (no extension type
 * is registered here). Failure = ErrTxDecode. */
#define NONCRITICAL_BIT 0x400u
#define MAX_PB_DEPTH 32

/* The protobuf type an Any holds: a public key, or a message a module routes. */
static const ProtobufCMessageDescriptor *any_type(const char *url) {
    if (!url) return NULL;
    if (strcmp(url, URL_PUBKEY) == 0) return &wchain__pub_key__descriptor;
    const wicas_msg_route *r = NULL;
    return wicas_module_for_msg(url, &r) ? r->desc : NULL;
}

/* 0 if m and what it holds pass the rule, else -1 with err set. */
static int pb_check_unknown(const ProtobufCMessage *m, bool allow_nc, int depth, const char *where, char *err,
                            size_t errlen) {
    if (depth > MAX_PB_DEPTH) {
        snprintf(err, errlen, "%s: messages nested deeper than %d", where, MAX_PB_DEPTH);
        return -1;
    }
    for (unsigned i = 0; i < m->n_unknown_fields; i++) {
        uint32_t tag = m->unknown_fields[i].tag;
        if (!allow_nc || !(tag & NONCRITICAL_BIT)) {
            snprintf(err, errlen, "%s: unknown %sfield %u in %s", where,
                     tag & NONCRITICAL_BIT ? "non-critical " : "", tag, m->descriptor->name);
            return -1;
        }
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const char *base = (const char *)m;
        const ProtobufCMessage *const *subs;
        size_t n;
        const ProtobufCMessage *one;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + fd->quantifier_offset);
            subs = *(const ProtobufCMessage *const *const *)(base + fd->offset);
        } else {
            if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
                continue;
            one = *(const ProtobufCMessage *const *)(base + fd->offset);
            subs = &one;
            n = one ? 1 : 0;
        }
        for (size_t k = 0; k < n; k++) {
            if (pb_check_unknown(subs[k], allow_nc, depth + 1, where, err, errlen)) return -1;
            if (fd->descriptor != &wchain__any__descriptor) continue;
            const Wchain__Any *any = (const Wchain__Any *)subs[k];
            const ProtobufCMessageDescriptor *td = any_type(any->type_url);
            if (!td) {
                if (d == &wchain__tx_body__descriptor && fd->id == 2047) {
                    snprintf(err, errlen, "%s: unable to resolve type URL %s", where, any->type_url);
                    return -1;
                }
                continue; /* refused by the message / public-key checks */
            }
            ProtobufCMessage *inner = protobuf_c_message_unpack(td, NULL, any->value.len, any->value.data);
            if (!inner) continue; /* the message's own decoding reports it */
            int rc = pb_check_unknown(inner, allow_nc, depth + 1, where, err, errlen);
            protobuf_c_message_free_unpacked(inner, NULL);
            if (rc) return -1;
        }
    }
    return 0;
}

void wicas_wtx_free(wtx *t) {
    if (t->raw) wchain__tx_raw__free_unpacked(t->raw, NULL);
    if (t->body) wchain__tx_body__free_unpacked(t->body, NULL);
    if (t->auth) wchain__auth_info__free_unpacked(t->auth, NULL);
    free(t->fee);
    memset(t, 0, sizeof *t);
}

int wicas_wtx_decode(const uint8_t *tx, size_t len, bool simulate, wtx *t, uint32_t *code, char *err,
                     size_t errlen) {
    memset(t, 0, sizeof *t);
    if (len == 0 || len > MAX_TX_BYTES)
        return fail(code, len ? WICAS_CODE_TX_TOO_LARGE : WICAS_CODE_TX_DECODE, err, errlen,
                    "tx of %zu bytes: must be 1..%u bytes", len, MAX_TX_BYTES);
    t->raw = wchain__tx_raw__unpack(NULL, len, tx);
    if (!t->raw) return fail(code, WICAS_CODE_TX_DECODE, err, errlen, "cannot decode TxRaw: tx parse error");
    t->body = wchain__tx_body__unpack(NULL, t->raw->body_bytes.len, t->raw->body_bytes.data);
    if (!t->body)
        return fail(code, WICAS_CODE_TX_DECODE, err, errlen, "cannot decode TxBody: tx parse error");
    t->auth = wchain__auth_info__unpack(NULL, t->raw->auth_info_bytes.len, t->raw->auth_info_bytes.data);
    if (!t->auth)
        return fail(code, WICAS_CODE_TX_DECODE, err, errlen, "cannot decode AuthInfo: tx parse error");
    char uerr[256];
    if (pb_check_unknown(&t->raw->base, false, 0, "TxRaw", uerr, sizeof uerr) ||
        pb_check_unknown(&t->body->base, true, 0, "TxBody", uerr, sizeof uerr) ||
        pb_check_unknown(&t->auth->base, true, 0, "AuthInfo", uerr, sizeof uerr))
        return fail(code, WICAS_CODE_TX_DECODE, err, errlen, "%s: tx parse error", uerr);
    Wchain__TxBody *b = t->body;
    Wchain__AuthInfo *a = t->auth;
    if (b->n_messages == 0)
        return fail(code, WICAS_CODE_INVALID_REQUEST, err, errlen,
                    "must contain at least one message: invalid request");
    if (b->n_extension_options)
        return fail(code, 31, err, errlen, "unknown extension options: tx has extension options");
    if (strlen(b->memo) > MAX_MEMO_CHARS)
        return fail(code, WICAS_CODE_MEMO_TOO_LARGE, err, errlen,
                    "maximum number of characters is %d but received %zu characters: memo too large",
                    MAX_MEMO_CHARS, strlen(b->memo));
    /* a simulation (what CosmJS sends for "auto" fees) may leave the fee empty
     * or absent, gas 0 included: it runs under SIMULATE_GAS_LIMIT */
    static const Wchain__Fee no_fee = WCHAIN__FEE__INIT;
    if (!a->fee && !simulate)
        return fail(code, WICAS_CODE_INVALID_REQUEST, err, errlen, "missing fee: invalid request");
    const Wchain__Fee *fee = a->fee ? a->fee : &no_fee;
    t->gas_limit = fee->gas_limit;
    if ((t->gas_limit == 0 && !simulate) || t->gas_limit > MAX_BLOCK_TX_GAS)
        return fail(code, WICAS_CODE_INVALID_GAS_LIMIT, err, errlen,
                    "gas limit %" PRIu64 " out of range 1..%llu: invalid gas limit", t->gas_limit,
                    MAX_BLOCK_TX_GAS);
    if ((fee->payer && *fee->payer) || (fee->granter && *fee->granter))
        return fail(code, WICAS_CODE_INVALID_REQUEST, err, errlen, "fee payer/granter are not supported");
    char cerr[200];
    if (wicas_coins_from_pb(fee->amount, fee->n_amount, &t->fee, &t->n_fee, cerr, sizeof cerr))
        return fail(code, WICAS_CODE_INVALID_COINS, err, errlen, "invalid fee: %s: invalid coins", cerr);
    /* signers: every message must be signed by the same account */
    char *first = NULL;
    for (size_t i = 0; i < b->n_messages; i++) {
        Wchain__Any *m = b->messages[i];
        char *s = NULL;
        if (wicas_msg_signer(m->type_url, m->value.data, m->value.len, &s, code, err, errlen)) {
            free(first);
            return -1;
        }
        if (!first)
            first = s;
        else {
            bool same = strcmp(first, s) == 0;
            free(s);
            if (!same) {
                free(first);
                return fail(
                    code, WICAS_CODE_UNAUTHORIZED, err, errlen,
                    "messages have different signers; only single-signer txs are supported: unauthorized");
            }
        }
    }
    size_t al;
    uint8_t addr[32];
    if (wicas_chain_addr_decode(first, addr, &al) || al != 20) {
        int r = fail(code, WICAS_CODE_INVALID_ADDRESS, err, errlen, "invalid signer address '%s'", first);
        free(first);
        return r;
    }
    free(first);
    memcpy(t->signer, addr, 20);
    if (t->raw->n_signatures == 0 || a->n_signer_infos == 0)
        return fail(code, WICAS_CODE_NO_SIGNATURES, err, errlen, "no signatures supplied");
    if (t->raw->n_signatures != 1 || a->n_signer_infos != 1)
        return fail(
            code, WICAS_CODE_UNAUTHORIZED, err, errlen,
            "wrong number of signers; expected 1, got %zu signatures and %zu signer infos: unauthorized",
            t->raw->n_signatures, a->n_signer_infos);
    Wchain__SignerInfo *si = a->signer_infos[0];
    /* SIGN_MODE_DIRECT (1); a simulation may say SIGN_MODE_UNSPECIFIED (0), as
     * CosmJS does: it carries no signature to check */
    if (!si->mode_info || si->mode_info->sum_case != WCHAIN__MODE_INFO__SUM_SINGLE ||
        !(si->mode_info->single->mode == 1 || (simulate && si->mode_info->single->mode == 0)))
        return fail(code, WICAS_CODE_UNAUTHORIZED, err, errlen,
                    "only SIGN_MODE_DIRECT single signatures are supported: unauthorized");
    t->sequence = si->sequence;
    if (si->public_key) {
        if (strcmp(si->public_key->type_url, URL_PUBKEY) != 0)
            return fail(code, WICAS_CODE_INVALID_PUBKEY, err, errlen, "unsupported public key type '%s'",
                        si->public_key->type_url);
        Wchain__PubKey *pk =
            wchain__pub_key__unpack(NULL, si->public_key->value.len, si->public_key->value.data);
        if (!pk || pk->key.len != 33) {
            if (pk) wchain__pub_key__free_unpacked(pk, NULL);
            return fail(code, WICAS_CODE_INVALID_PUBKEY, err, errlen,
                        "secp256k1 public key must be 33 compressed bytes: invalid pubkey");
        }
        memcpy(t->pubkey, pk->key.data, 33);
        wchain__pub_key__free_unpacked(pk, NULL);
        secp256k1_pubkey parsed;
        if (!secp256k1_ec_pubkey_parse(wicas_wchain_secp(), &parsed, t->pubkey, 33))
            return fail(code, WICAS_CODE_INVALID_PUBKEY, err, errlen,
                        "public key is not on the curve: invalid pubkey");
        t->has_pubkey = true;
    }
    return 0;
}

static uint8_t *sign_doc_bytes(const ProtobufCBinaryData *body, const ProtobufCBinaryData *auth,
                               const char *chain_id, uint64_t acc, size_t *len) {
    Wchain__SignDoc d = WCHAIN__SIGN_DOC__INIT;
    d.body_bytes = *body;
    d.auth_info_bytes = *auth;
    d.chain_id = (char *)chain_id;
    d.account_number = acc;
    *len = wchain__sign_doc__get_packed_size(&d);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf) wchain__sign_doc__pack(&d, buf);
    return buf;
}

bool wicas_wtx_verify(const wtx *t, const char *chain_id, uint64_t account_number) {
    if (!t->has_pubkey || t->raw->signatures[0].len != 64) return false;
    size_t dl;
    uint8_t *doc =
        sign_doc_bytes(&t->raw->body_bytes, &t->raw->auth_info_bytes, chain_id, account_number, &dl);
    if (!doc) return false;
    uint8_t h[32];
    wicas_sha256(doc, dl, h);
    free(doc);
    secp256k1_ecdsa_signature sig, norm;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_signature_parse_compact(wicas_wchain_secp(), &sig, t->raw->signatures[0].data))
        return false;
    /* normalize returns 1 when S was high: the SDK rejects such signatures */
    if (secp256k1_ecdsa_signature_normalize(wicas_wchain_secp(), &norm, &sig)) return false;
    if (!secp256k1_ec_pubkey_parse(wicas_wchain_secp(), &pk, t->pubkey, 33)) return false;
    return secp256k1_ecdsa_verify(wicas_wchain_secp(), &sig, h, &pk) == 1;
}

/* ---- signing (the client's side of wicas_wtx_verify) ------------------------------------------------- */

int wicas_chain_sign_doc_hash(const uint8_t *body, size_t body_len, const uint8_t *auth_info, size_t auth_len,
                              const char *chain_id, uint64_t account_number, uint8_t hash[32]) {
    ProtobufCBinaryData bb = {body_len, (uint8_t *)body}, ab = {auth_len, (uint8_t *)auth_info};
    size_t dl;
    uint8_t *doc = sign_doc_bytes(&bb, &ab, chain_id, account_number, &dl);
    if (!doc) return WICAS_CHAIN_ERR_NOMEM;
    wicas_sha256(doc, dl, hash);
    free(doc);
    return 0;
}

int wicas_chain_sign_hash(const uint8_t secret[32], const uint8_t hash[32], uint8_t sig64[64]) {
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_sign(wicas_wchain_secp(), &sig, hash, secret, NULL, NULL))
        return WICAS_CHAIN_ERR_CRYPTO;
    secp256k1_ecdsa_signature_serialize_compact(wicas_wchain_secp(), sig64, &sig);
    return 0;
}

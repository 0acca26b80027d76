/*
 * ante.c — the ante handler the application sets (the SDK's app.go wires
 * x/auth/ante with the account and bank keepers the same way): it runs
 * before a tx's messages, in its own overlay, and uses the auth and bank
 * modules, which is why it lives here, above both, and not in the core.
 *
 * In order: tx size gas, the chain's max_tx_gas and min_gas_price (genesis
 * params, consensus rules), the node's own minimum gas price in CheckTx, the
 * account and its public key, fee deduction to the fee collector, the
 * sequence, signature gas and the SIGN_MODE_DIRECT signature, then sequence
 * + 1 and the public key remembered. A failure writes nothing (chain.c drops
 * the overlay).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "module.h"
#include "params.h"
#include "xauth.h"
#include "xbank.h"

int wicas_app_ante(wctx *x, wtx *t, size_t len, int mode) {
    wicas_chain *c = x->c;
    char signer[100];
    wicas_addr_str(t->signer, 20, signer);
    if (wicas_gas_use(x, GAS_TX_SIZE_PER_BYTE * (uint64_t)len, "txSize")) return -1;
    /* fee: only the native denom counts toward the minimum gas price */
    uint64_t fee_native = 0;
    for (size_t i = 0; i < t->n_fee; i++)
        if (strcmp(t->fee[i].denom, WICAS_CHAIN_DENOM) == 0) fee_native = t->fee[i].amount;
    /* chain-wide parameters from genesis: a consensus rule in every mode but simulation */
    chain_params cp;
    wicas_params_load(&x->ov, &cp);
    if (cp.max_tx_gas && t->gas_limit > cp.max_tx_gas)
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_GAS_LIMIT, WICAS_CHAIN_CODESPACE_SDK,
                              "gas limit %" PRIu64 " exceeds the chain's max_tx_gas %" PRIu64
                              ": invalid gas limit",
                              t->gas_limit, cp.max_tx_gas);
    if (mode != MODE_SIMULATE && cp.min_gas_price_den) {
        unsigned __int128 need = (unsigned __int128)t->gas_limit * cp.min_gas_price_num;
        need = (need + cp.min_gas_price_den - 1) / cp.min_gas_price_den;
        if ((unsigned __int128)fee_native < need)
            return wicas_ctx_fail(x, WICAS_CODE_INSUFFICIENT_FEE, WICAS_CHAIN_CODESPACE_SDK,
                                  "insufficient fees; got: %" PRIu64
                                  "%s required by the chain's min_gas_price: %llu%s: "
                                  "insufficient fee",
                                  fee_native, WICAS_CHAIN_DENOM, (unsigned long long)need, WICAS_CHAIN_DENOM);
    }
    if ((mode == MODE_CHECK || mode == MODE_RECHECK) && c->opts.min_gas_price_den) {
        /* required = ceil(gas_limit * num / den), in 128 bits to avoid overflow */
        unsigned __int128 need = (unsigned __int128)t->gas_limit * c->opts.min_gas_price_num;
        need = (need + c->opts.min_gas_price_den - 1) / c->opts.min_gas_price_den;
        if ((unsigned __int128)fee_native < need)
            return wicas_ctx_fail(x, WICAS_CODE_INSUFFICIENT_FEE, WICAS_CHAIN_CODESPACE_SDK,
                                  "insufficient fees; got: %" PRIu64 "%s required: %llu%s: insufficient fee",
                                  fee_native, WICAS_CHAIN_DENOM, (unsigned long long)need, WICAS_CHAIN_DENOM);
    }
    Wchain__BaseAccount *acc = NULL;
    int rc = wicas_acc_get(x, t->signer, 20, &acc);
    if (rc < 0) return -1;
    if (rc == 0)
        return wicas_ctx_fail(x, WICAS_CODE_UNKNOWN_ADDRESS, WICAS_CHAIN_CODESPACE_SDK,
                              "account %s does not exist: unknown address", signer);
    /* public key: from the tx, else the one the account already has */
    uint8_t stored[33];
    bool has_stored = false;
    if (acc->pub_key && acc->pub_key->value.len) {
        Wchain__PubKey *pk = wchain__pub_key__unpack(NULL, acc->pub_key->value.len, acc->pub_key->value.data);
        if (pk && pk->key.len == 33) {
            memcpy(stored, pk->key.data, 33);
            has_stored = true;
        }
        if (pk) wchain__pub_key__free_unpacked(pk, NULL);
    }
    if (!t->has_pubkey) {
        if (!has_stored) {
            wchain__base_account__free_unpacked(acc, NULL);
            return wicas_ctx_fail(x, WICAS_CODE_INVALID_PUBKEY, WICAS_CHAIN_CODESPACE_SDK,
                                  "pubkey on account %s is not set and the tx carries none: invalid pubkey",
                                  signer);
        }
        memcpy(t->pubkey, stored, 33);
        t->has_pubkey = true;
    }
    uint8_t derived[20];
    wicas_chain_pubkey_address(t->pubkey, derived);
    if (memcmp(derived, t->signer, 20) != 0 || (has_stored && memcmp(stored, t->pubkey, 33) != 0)) {
        wchain__base_account__free_unpacked(acc, NULL);
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_PUBKEY, WICAS_CHAIN_CODESPACE_SDK,
                              "pubkey does not match signer address %s: invalid pubkey", signer);
    }
    /* fee deduction to the fee collector module account */
    uint8_t fc[20];
    wicas_module_addr("fee_collector", fc);
    if (t->n_fee) {
        if (wicas_bank_send(x, t->signer, 20, fc, 20, t->fee, t->n_fee)) {
            wchain__base_account__free_unpacked(acc, NULL);
            if (x->code == WICAS_CODE_INSUFFICIENT_FUNDS)
                wicas_err_wrap(x->err, sizeof x->err, "", ": insufficient funds to pay for fees");
            return -1;
        }
    } else if (mode == MODE_SIMULATE) {
        /* Wallets simulate with an empty fee (CosmJS's "auto", the SDK's
         * --gas auto) and then sign a tx that pays one: charge what deducting
         * it costs (a 1-unit native transfer to the fee collector, run in a
         * child whose writes, events and failure are dropped) so that the
         * estimate covers the signed tx. Measured on a MsgSend: without this
         * the estimate was 29,612 gas and the signed tx needed 43,561, over
         * CosmJS's 1.4x margin. */
        coin one = {.amount = 1};
        snprintf(one.denom, sizeof one.denom, "%s", WICAS_CHAIN_DENOM);
        wctx fx;
        wicas_ctx_child(&fx, x);
        if (wicas_bank_send(&fx, t->signer, 20, fc, 20, &one, 1)) fx.code = 0;
        if (wicas_ctx_end(&fx, x, false) || x->out_of_gas) {
            wchain__base_account__free_unpacked(acc, NULL);
            return x->code
                       ? -1
                       : wicas_ctx_fail(x, WICAS_CODE_OUT_OF_GAS, WICAS_CHAIN_CODESPACE_SDK, "out of gas");
        }
    }
    char *fs = coins_str(t->fee, t->n_fee);
    wicas_ev_add(&x->ev, "tx", "fee", fs ? fs : "", "fee_payer", signer, NULL);
    free(fs);
    /* sequence, then signature */
    if (t->sequence != acc->sequence) {
        uint64_t want = acc->sequence;
        wchain__base_account__free_unpacked(acc, NULL);
        return wicas_ctx_fail(x, WICAS_CODE_WRONG_SEQUENCE, WICAS_CHAIN_CODESPACE_SDK,
                              "account sequence mismatch, expected %" PRIu64 ", got %" PRIu64
                              ": incorrect account sequence",
                              want, t->sequence);
    }
    if (wicas_gas_use(x, GAS_SIG_SECP256K1, "ante verify: secp256k1")) {
        wchain__base_account__free_unpacked(acc, NULL);
        return -1;
    }
    bool skip_sig = mode == MODE_SIMULATE && t->raw->signatures[0].len == 0;
    /* a simulated tx carries no signature: charge the size of the 64-byte
     * signature it will carry (plus its tag and length), as the SDK does */
    if (skip_sig && wicas_gas_use(x, GAS_TX_SIZE_PER_BYTE * 66, "txSize (simulated signature)")) {
        wchain__base_account__free_unpacked(acc, NULL);
        return -1;
    }
    if (!skip_sig && !wicas_wtx_verify(t, c->chain_id, acc->account_number)) {
        uint64_t an = acc->account_number;
        wchain__base_account__free_unpacked(acc, NULL);
        return wicas_ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK,
                              "signature verification failed; please verify account number (%" PRIu64
                              "), sequence (%" PRIu64 ") and chain-id (%s): unauthorized",
                              an, t->sequence, c->chain_id);
    }
    /* increment sequence, remember the public key */
    Wchain__PubKey pk = WCHAIN__PUB_KEY__INIT;
    pk.key.data = t->pubkey;
    pk.key.len = 33;
    uint8_t pkb[40];
    size_t pkl = wchain__pub_key__pack(&pk, pkb);
    Wchain__Any pka = WCHAIN__ANY__INIT;
    pka.type_url = (char *)"/cosmos.crypto.secp256k1.PubKey";
    pka.value.data = pkb;
    pka.value.len = pkl;
    Wchain__Any *old_pk = acc->pub_key;
    acc->pub_key = &pka;
    acc->sequence++;
    rc = wicas_acc_set(x, t->signer, 20, acc);
    acc->pub_key = old_pk;
    char seqs[160];
    snprintf(seqs, sizeof seqs, "%s/%" PRIu64, signer, t->sequence);
    wchain__base_account__free_unpacked(acc, NULL);
    if (rc) return -1;
    wicas_ev_add(&x->ev, "tx", "acc_seq", seqs, NULL);
    char sigb64[100];
    wicas_base64_encode(t->raw->signatures[0].data, t->raw->signatures[0].len, sigb64);
    wicas_ev_add(&x->ev, "tx", "signature", sigb64, NULL);
    return 0;
}

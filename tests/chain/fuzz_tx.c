/*
 * fuzz_tx.c — libFuzzer target for transaction decoding and the CheckTx path
 * (src/chain/tx.c and the ante handler) on a real chain in a temp directory.
 * Input: a mode byte, then the tx bytes.
 *   mode % 4 == 0: wicas_wtx_decode (TxRaw -> TxBody/AuthInfo, ValidateBasic); an
 *                  accepted tx is also signature-checked (wicas_wtx_verify);
 *   mode % 4 == 1: wicas_chain_check_tx (decode, signature, account number,
 *                  sequence, fee, balance) — a tx it accepts changes the check
 *                  state, which is reset afterwards so every input sees the
 *                  same state;
 *   mode % 4 == 2: wicas_chain_simulate (the messages themselves run on a
 *                  throw-away copy of the state);
 *   mode % 4 == 3: [length-prefixed body bytes][auth info bytes]: the harness
 *                  signs them as alice (SIGN_MODE_DIRECT over the SignDoc),
 *                  so fuzzed bodies and auth infos get past the signature
 *                  check into the ante handler (CheckTx) and the messages
 *                  (simulate).
 * Invariants: a failure has a non-zero code and a message; an accepted tx
 * decodes again to the same result; nothing leaks.
 * Seeds: txs signed by the chain's own builder (a bank send with the right
 * sequence, one with a wrong sequence, a wasm execute, an instantiate), and
 * their body / auth info for mode 3.
 */
#include "fuzz_main.h"

#include "chain/fuzz_chain.h"
#include <secp256k1.h>

#include "chain_internal.h"

secp256k1_context *wicas_wchain_secp(void);

static wicas_chain *chain;
static uint8_t *resign(const uint8_t *body, size_t bl, const uint8_t *auth, size_t al, size_t *len);

static void fuzz_setup(void) {
    chain = fzc_open(fuzz_tmpdir("tx"), NULL);
    fzc_block(chain, 1, NULL, NULL, 0);
    /* the fixture works: a real tx passes CheckTx, then the state is reset */
    size_t l;
    uint8_t *tx = fzc_send_tx(0, "10uwicas", &l);
    wicas_chain_tx_result r;
    wicas_chain_check_tx(chain, tx, l, false, &r);
    FUZZ_CHECK(r.code == 0, "seed tx refused: %s", r.log);
    wicas_chain_tx_result_free(&r);
    FUZZ_CHECK(wicas_chain_reload(chain) == 0, "reload");
    /* and so does the same body + auth info signed by the harness */
    Wchain__TxRaw *raw = wchain__tx_raw__unpack(NULL, l, tx);
    size_t l2;
    uint8_t *tx2 = resign(raw->body_bytes.data, raw->body_bytes.len, raw->auth_info_bytes.data,
                          raw->auth_info_bytes.len, &l2);
    wchain__tx_raw__free_unpacked(raw, NULL);
    wicas_chain_check_tx(chain, tx2, l2, false, &r);
    FUZZ_CHECK(r.code == 0, "re-signed seed tx refused: %s", r.log);
    wicas_chain_tx_result_free(&r);
    FUZZ_CHECK(wicas_chain_reload(chain) == 0, "reload");
    free(tx2);
    free(tx);
}

/* The body and auth info of a real tx as a mode-3 seed. */
static void seed_split(const char *name, const uint8_t *tx, size_t l) {
    Wchain__TxRaw *raw = wchain__tx_raw__unpack(NULL, l, tx);
    if (!raw) abort();
    uint8_t *b = malloc(l + 8);
    size_t off = fz_put_bytes(b, 0, raw->body_bytes.data, raw->body_bytes.len);
    memcpy(b + off, raw->auth_info_bytes.data, raw->auth_info_bytes.len);
    off += raw->auth_info_bytes.len;
    fuzz_seed_mode(name, 3, b, off);
    free(b);
    wchain__tx_raw__free_unpacked(raw, NULL);
}

/* TxRaw{body, auth, SIGN_MODE_DIRECT signature by alice (account 0)}. */
static uint8_t *resign(const uint8_t *body, size_t bl, const uint8_t *auth, size_t al, size_t *len) {
    Wchain__SignDoc d = WCHAIN__SIGN_DOC__INIT;
    d.body_bytes = (ProtobufCBinaryData){bl, (uint8_t *)body};
    d.auth_info_bytes = (ProtobufCBinaryData){al, (uint8_t *)auth};
    d.chain_id = FZC_CHAIN_ID;
    size_t dl = wchain__sign_doc__get_packed_size(&d);
    uint8_t *doc = malloc(dl + 1), h[32], sig64[64];
    wchain__sign_doc__pack(&d, doc);
    wicas_sha256(doc, dl, h);
    free(doc);
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_sign(wicas_wchain_secp(), &sig, h, fzc_alice_sk, NULL, NULL)) abort();
    secp256k1_ecdsa_signature_serialize_compact(wicas_wchain_secp(), sig64, &sig);
    ProtobufCBinaryData sigs[1] = {{64, sig64}};
    Wchain__TxRaw raw = WCHAIN__TX_RAW__INIT;
    raw.body_bytes = d.body_bytes, raw.auth_info_bytes = d.auth_info_bytes;
    raw.signatures = sigs, raw.n_signatures = 1;
    *len = wchain__tx_raw__get_packed_size(&raw);
    uint8_t *tx = malloc(*len + 1);
    wchain__tx_raw__pack(&raw, tx);
    return tx;
}

static void fuzz_seeds(void) {
    size_t l;
    uint8_t *tx = fzc_send_tx(0, "10uwicas", &l);
    for (uint8_t m = 0; m < 3; m++) {
        char name[32];
        snprintf(name, sizeof name, "send-%u", m);
        fuzz_seed_mode(name, m, tx, l);
    }
    seed_split("send-split", tx, l);
    free(tx);
    tx = fzc_send_tx(5, "1uwicas,2zzz", &l);
    fuzz_seed_mode("send-badseq", 1, tx, l);
    free(tx);
    wicas_chain_any m;
    char err[256];
    uint8_t ca[32];
    char contract[100];
    memset(ca, 0x11, sizeof ca);
    if (wicas_chain_addr_encode(ca, 32, contract, sizeof contract)) abort();
    if (wicas_chain_msg_execute(fzc_alice, contract, "{\"increment\":{}}", "3uwicas", &m, err, sizeof err) ==
        0) {
        tx = fzc_sign(fzc_alice_sk, 0, 0, &m, "memo", &l);
        fuzz_seed_mode("execute", 2, tx, l);
        seed_split("execute-split", tx, l);
        free(tx);
    }
    if (wicas_chain_msg_instantiate(fzc_alice, NULL, 1, "label", "{\"count\":1}", NULL, &m, err,
                                    sizeof err) == 0) {
        tx = fzc_sign(fzc_alice_sk, 0, 0, &m, NULL, &l);
        fuzz_seed_mode("instantiate", 2, tx, l);
        free(tx);
    }
}

static void check_result(const wicas_chain_tx_result *r) {
    FUZZ_CHECK(r->log != NULL, "no log");
    if (r->code) FUZZ_CHECK(r->codespace && r->log[0], "code %u without codespace or message", r->code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0] % 4;
    const uint8_t *tx = data + 1;
    size_t len = size - 1;
    uint8_t *signed_tx = NULL;
    if (mode == 3) {
        fz_in in = {data + 1, size - 1};
        size_t bl;
        const uint8_t *body = fz_bytes(&in, &bl);
        signed_tx = resign(body, bl, in.p, in.n, &len);
        tx = signed_tx;
        /* CheckTx and simulate both, on odd / even lengths of the input */
        mode = size % 2 ? 1 : 2;
    }
    if (mode == 0) {
        wtx t, t2;
        uint32_t code = 0, code2 = 0;
        char err[512] = "", err2[512] = "";
        memset(&t, 0, sizeof t);
        memset(&t2, 0, sizeof t2);
        int rc = wicas_wtx_decode(tx, len, false, &t, &code, err, sizeof err);
        if (rc) {
            FUZZ_CHECK(code != 0 && err[0], "decode failed without code/message");
        } else {
            (void)wicas_wtx_verify(&t, FZC_CHAIN_ID, 0);
            /* decoding is a pure function of the bytes */
            FUZZ_CHECK(wicas_wtx_decode(tx, len, false, &t2, &code2, err2, sizeof err2) == 0,
                       "second decode failed");
            FUZZ_CHECK(t.gas_limit == t2.gas_limit && t.sequence == t2.sequence && t.n_fee == t2.n_fee &&
                           memcmp(t.signer, t2.signer, 20) == 0,
                       "decode differs");
            wicas_wtx_free(&t2);
        }
        wicas_wtx_free(&t);
    } else if (mode == 1) {
        wicas_chain_tx_result r;
        wicas_chain_check_tx(chain, tx, len, false, &r);
        check_result(&r);
        bool accepted = r.code == 0;
        wicas_chain_tx_result_free(&r);
        if (accepted) {
            /* the ante effects (fee, sequence) stay in the check state: reset
             * it so that the next input starts from the same state */
            FUZZ_CHECK(wicas_chain_reload(chain) == 0, "reload");
        }
    } else {
        wicas_chain_tx_result r;
        wicas_chain_simulate(chain, tx, len, &r);
        check_result(&r);
        wicas_chain_tx_result_free(&r);
    }
    free(signed_tx);
    return 0;
}

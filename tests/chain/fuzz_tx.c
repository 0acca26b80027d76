/*
 * fuzz_tx.c — libFuzzer target for transaction decoding and the CheckTx path
 * (src/chain/tx.c and the ante handler) on a real chain in a temp directory.
 * Input: a mode byte, then the tx bytes.
 *   mode % 3 == 0: wtx_decode (TxRaw -> TxBody/AuthInfo, ValidateBasic); an
 *                  accepted tx is also signature-checked (wtx_verify);
 *   mode % 3 == 1: wicas_chain_check_tx (decode, signature, account number,
 *                  sequence, fee, balance) — a tx it accepts changes the check
 *                  state, which is reset afterwards so every input sees the
 *                  same state;
 *   mode % 3 == 2: wicas_chain_simulate (the messages themselves run on a
 *                  throw-away copy of the state).
 * Invariants: a failure has a non-zero code and a message; an accepted tx
 * decodes again to the same result; nothing leaks.
 * Seeds: txs signed by the chain's own builder (a bank send with the right
 * sequence, one with a wrong sequence, a wasm execute, an instantiate).
 */
#include "fuzz_main.h"

#include "chain/fuzz_chain.h"
#include "chain_internal.h"

static wicas_chain *chain;

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
    FUZZ_CHECK(chain_reload(chain) == 0, "reload");
    free(tx);
}

static void fuzz_seeds(void) {
    size_t l;
    uint8_t *tx = fzc_send_tx(0, "10uwicas", &l);
    for (uint8_t m = 0; m < 3; m++) {
        char name[32];
        snprintf(name, sizeof name, "send-%u", m);
        fuzz_seed_mode(name, m, tx, l);
    }
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
    uint8_t mode = data[0] % 3;
    const uint8_t *tx = data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        wtx t, t2;
        uint32_t code = 0, code2 = 0;
        char err[512] = "", err2[512] = "";
        memset(&t, 0, sizeof t);
        memset(&t2, 0, sizeof t2);
        int rc = wtx_decode(tx, len, &t, &code, err, sizeof err);
        if (rc) {
            FUZZ_CHECK(code != 0 && err[0], "decode failed without code/message");
        } else {
            (void)wtx_verify(&t, FZC_CHAIN_ID, 0);
            /* decoding is a pure function of the bytes */
            FUZZ_CHECK(wtx_decode(tx, len, &t2, &code2, err2, sizeof err2) == 0, "second decode failed");
            FUZZ_CHECK(t.gas_limit == t2.gas_limit && t.sequence == t2.sequence && t.n_fee == t2.n_fee &&
                           memcmp(t.signer, t2.signer, 20) == 0,
                       "decode differs");
            wtx_free(&t2);
        }
        wtx_free(&t);
    } else if (mode == 1) {
        wicas_chain_tx_result r;
        wicas_chain_check_tx(chain, tx, len, false, &r);
        check_result(&r);
        bool accepted = r.code == 0;
        wicas_chain_tx_result_free(&r);
        if (accepted) {
            /* the ante effects (fee, sequence) stay in the check state: reset
             * it so that the next input starts from the same state */
            FUZZ_CHECK(chain_reload(chain) == 0, "reload");
        }
    } else {
        wicas_chain_tx_result r;
        wicas_chain_simulate(chain, tx, len, &r);
        check_result(&r);
        wicas_chain_tx_result_free(&r);
    }
    return 0;
}

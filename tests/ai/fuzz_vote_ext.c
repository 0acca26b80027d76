/*
 * fuzz_vote_ext.c — libFuzzer target for the vote-extension path of
 * asynchronous AI requests (src/x/ai/aiasync.c) on a real chain in a temp
 * directory with two genesis validators whose ed25519 keys the harness holds
 * and three pending requests (ids 1..3, max_tokens 16), written into block 1
 * by a begin_block hook through the store's own overlay + tree update.
 * Input: a mode byte, then:
 *   mode % 4 == 0: [validator byte][extension]: VerifyVoteExtension at
 *                  height 2 (validator 0/1 known, else an unknown address);
 *   mode % 4 == 1: up to 4 length-prefixed txs: ProcessProposal of block 2
 *                  (the injected-votes tx parser, unsigned);
 *   mode % 4 == 2: up to 3 × ([validator byte][length-prefixed extension]):
 *                  the harness signs each extension with that validator's key
 *                  (so the parser behind the signature check is reached),
 *                  injects them (wicas_chain_vote_injection) and runs
 *                  ProcessProposal; every extension that VerifyVoteExtension
 *                  accepts from distinct validators must make an injection
 *                  ProcessProposal accepts;
 *   mode % 4 == 3: as 2, then FinalizeBlock of block 2 with that injection
 *                  (the tally, resolutions, callbacks); the block is never
 *                  committed and the chain is reopened at height 1 afterwards.
 * Invariants: a refusal always says why; nothing leaks; the chain is the same
 * for every input.
 * Seeds: a well-formed extension answering request 1 (hash as the chain
 * computes it), the empty result list, and a signed injection of both.
 */
#include "fuzz_main.h"

#include "ai.h"
#include "chain/fuzz_chain.h"
#include "chain_internal.h"
#include "xai.h"

#define K_PENDING "ai/req/pending/"

static const char *dir;
static wicas_chain *chain;

/* begin_block hook of block 1: three pending requests, written like any
 * block write (overlay over the block's base, then the tree). */
static int add_pending(void *ctx, wicas_chain *c, const wicas_chain_block *b, char *err, size_t errlen) {
    (void)ctx, (void)err, (void)errlen;
    if (b->height != 1) return 0;
    kv ov;
    wicas_kv_init_overlay(&ov, &c->wbase);
    uint8_t ca[32];
    char contract[100];
    memset(ca, 0x11, 32);
    if (wicas_chain_addr_encode(ca, 32, contract, sizeof contract)) abort();
    for (uint64_t id = 1; id <= 3; id++) {
        uint8_t k[64];
        size_t kl = sizeof K_PENDING - 1;
        memcpy(k, K_PENDING, kl);
        wicas_be64_put(k + kl, id);
        char rec[1024];
        snprintf(
            rec, sizeof rec,
            "{\"id\":\"%llu\",\"contract\":\"%s\",\"model\":\"default\",\"request\":{\"model\":\"default\","
            "\"prompt\":\"p%llu\",\"max_tokens\":16},\"callback\":{\"n\":%llu},\"seed\":\"%064x\","
            "\"height\":\"1\",\"deadline\":\"%llu\",\"gas_paid\":\"0\",\"max_tokens\":\"16\"}",
            (unsigned long long)id, contract, (unsigned long long)id, (unsigned long long)id, 0,
            (unsigned long long)(id == 3 ? 2 : 100));
        if (wicas_kv_set(&ov, k, kl + 8, (const uint8_t *)rec, strlen(rec))) abort();
    }
    uint8_t root[32];
    if (wicas_smt_apply(&c->st, c->st.wtxn, &ov, c->pending_root, root)) abort();
    memcpy(c->pending_root, root, 32);
    wicas_kv_clear(&ov);
    return 0;
}

static wicas_chain *reopen(void) {
    wicas_chain_options o = {.no_sync = true, .map_size = 64u << 20};
    wicas_chain *c;
    char err[256];
    if (wicas_chain_open(dir, &o, &c, err, sizeof err)) {
        fprintf(stderr, "reopen: %s\n", err);
        abort();
    }
    return c;
}

static void fuzz_setup(void) {
    dir = fuzz_tmpdir("ve");
    wicas_chain_options o = {.no_sync = true, .map_size = 64u << 20};
    o.hooks.begin_block = add_pending;
    chain = fzc_open(dir, &o);
    fzc_block(chain, 1, NULL, NULL, 0);
    wicas_chain_close(chain);
    chain = reopen(); /* without the hook from now on */
}

static char *answer(uint64_t id, uint32_t pt, uint32_t gt, const char *text);
/* the fixture works: an answer to pending request 1 verifies, one to an
 * unknown id does not */
static void self_check(void) {
    char *e = answer(1, 5, 3, "Paris is"), *u = answer(9, 5, 3, "x"), why[512] = "";
    FUZZ_CHECK(wicas_chain_verify_vote_extension(chain, 2, fzc_vaddr[0], 20, (uint8_t *)e, strlen(e), why,
                                                 sizeof why),
               "seed extension refused: %s", why);
    FUZZ_CHECK(!wicas_chain_verify_vote_extension(chain, 2, fzc_vaddr[0], 20, (uint8_t *)u, strlen(u), why,
                                                  sizeof why),
               "answer to an unknown id accepted");
    free(e), free(u);
}

static char *answer(uint64_t id, uint32_t pt, uint32_t gt, const char *text) {
    uint8_t h[32];
    char hex[65];
    wicas_aiasync_result_hash(pt, gt, text, strlen(text), h);
    wicas_hex_encode(h, 32, hex);
    return wicas_xprintf(
        "{\"results\":[{\"id\":\"%llu\",\"hash\":\"%s\",\"prompt_tokens\":%u,\"generated_tokens\":%u,"
        "\"text\":\"%s\"}]}",
        (unsigned long long)id, hex, pt, gt, text);
}

static void fuzz_seeds(void) {
    self_check();
    char *e = answer(1, 5, 3, "Paris is");
    uint8_t b[4096];
    b[0] = 0;
    memcpy(b + 1, e, strlen(e));
    fuzz_seed_mode("verify", 0, b, 1 + strlen(e));
    b[0] = 1;
    fuzz_seed_mode("verify-v1", 0, b, 1 + strlen(e));
    const char *empty = "{\"results\":[]}";
    memcpy(b + 1, empty, strlen(empty));
    fuzz_seed_mode("verify-empty", 0, b, 1 + strlen(empty));
    for (uint8_t m = 2; m <= 3; m++) {
        size_t off = 0;
        b[off++] = 0;
        off = fz_put_bytes(b, off, e, strlen(e));
        b[off++] = 1;
        off = fz_put_bytes(b, off, e, strlen(e));
        fuzz_seed_mode(m == 2 ? "signed" : "finalize", m, b, off);
    }
    { /* an injection signed by both, as a raw tx */
        uint8_t sig[2][64];
        for (int v = 0; v < 2; v++)
            fzc_sign_ext(v, (const uint8_t *)e, strlen(e), 1, 0, sig[v]);
        wicas_chain_vote votes[2];
        for (int v = 0; v < 2; v++)
            votes[v] = (wicas_chain_vote){.address = fzc_vaddr[v],
                                          .power = 10,
                                          .block_id_flag = 2,
                                          .extension = (const uint8_t *)e,
                                          .extension_len = strlen(e),
                                          .signature = sig[v],
                                          .signature_len = 64};
        uint8_t *tx;
        size_t tl;
        if (wicas_chain_vote_injection(chain, 2, 0, votes, 2, &tx, &tl) || !tx) abort();
        size_t off = fz_put_bytes(b, 0, tx, tl);
        fuzz_seed_mode("inject", 1, b, off);
        free(tx);
    }
    free(e);
}

/* ---- one input ---------------------------------------------------------------------- */
static bool process(const uint8_t *const *txs, const size_t *lens, size_t n) {
    char why[512] = "";
    bool ok = wicas_chain_process_proposal(chain, 2, txs, lens, n, why, sizeof why);
    FUZZ_CHECK(ok || why[0], "refused without a reason");
    return ok;
}

static void signed_votes(fz_in *in, bool finalize) {
    wicas_chain_vote votes[3];
    uint8_t sig[3][64];
    size_t n = 0;
    bool all_verify = true, seen[FZC_NV] = {false};
    while (in->n && n < 3) {
        int v = fz_u8(in) % FZC_NV;
        size_t el;
        const uint8_t *ext = fz_bytes(in, &el);
        fzc_sign_ext(v, ext, el, 1, 0, sig[n]);
        votes[n] = (wicas_chain_vote){.address = fzc_vaddr[v],
                                      .power = 10,
                                      .block_id_flag = 2,
                                      .extension = ext,
                                      .extension_len = el,
                                      .signature = sig[n],
                                      .signature_len = 64};
        char why[512] = "";
        bool ok = wicas_chain_verify_vote_extension(chain, 2, fzc_vaddr[v], 20, ext, el, why, sizeof why);
        FUZZ_CHECK(ok || why[0], "refused without a reason");
        /* an empty extension is left out of the injection */
        if (el) all_verify = all_verify && ok && !seen[v];
        seen[v] = true;
        n++;
    }
    uint8_t *tx = NULL;
    size_t tl = 0;
    FUZZ_CHECK(wicas_chain_vote_injection(chain, 2, 0, votes, n, &tx, &tl) == 0, "injection");
    if (!tx) return;
    const uint8_t *txs[1] = {tx};
    bool ok = process(txs, &tl, 1);
    if (all_verify) FUZZ_CHECK(ok, "verified extensions from distinct validators, injection refused");
    if (finalize) {
        wicas_chain_block b = {
            .height = 2, .time_seconds = 1700000002, .txs = txs, .tx_lens = &tl, .n_txs = 1};
        memset(b.hash, 2, 32);
        wicas_chain_tx_result res;
        wicas_chain_event *ev = NULL;
        size_t nev = 0;
        uint8_t h[32];
        char err[512] = "";
        int rc = wicas_chain_finalize_block(chain, &b, &res, &ev, &nev, h, err, sizeof err);
        FUZZ_CHECK(rc == 0 || !ok, "an accepted proposal fails the block: %s", err);
        if (rc == 0) {
            wicas_chain_tx_result_free(&res);
            wicas_chain_events_free(ev, nev);
        }
        wicas_chain_close(chain); /* the uncommitted block is discarded */
        chain = reopen();
        int64_t hh;
        wicas_chain_info(chain, &hh, h);
        FUZZ_CHECK(hh == 1, "height %lld after reopen", (long long)hh);
    }
    free(tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fz_in in = {data + 1, size - 1};
    switch (data[0] % 4) {
    case 0: {
        uint8_t v = fz_u8(&in);
        uint8_t unknown[20];
        memset(unknown, v, 20);
        const uint8_t *addr = v < FZC_NV ? fzc_vaddr[v] : unknown;
        char why[512] = "";
        bool ok = wicas_chain_verify_vote_extension(chain, 2, addr, 20, in.p, in.n, why, sizeof why);
        FUZZ_CHECK(ok || why[0], "refused without a reason");
        break;
    }
    case 1: {
        const uint8_t *txs[4];
        size_t lens[4], n = 0;
        while (in.n && n < 4)
            txs[n] = fz_bytes(&in, &lens[n]), n++;
        process(txs, lens, n);
        break;
    }
    default:
        signed_votes(&in, data[0] % 4 == 3);
    }
    return 0;
}

/*
 * fuzz_snapshot.c — libFuzzer target for state-sync restore
 * (src/chain/snapshot.c: OfferSnapshot's metadata and ApplySnapshotChunk)
 * into an empty chain in a temp directory. A source chain (two blocks of
 * real bank sends) is snapshotted in small chunks at set-up; its app hash is
 * the hash the restoring node trusts.
 * Input: a mode byte, then:
 *   mode % 2 == 0: [flags][u64 height][u32 format][u32 chunks][metadata]:
 *                  an offer with peer-supplied metadata; flags bit 0 makes
 *                  the hash SHA-256(metadata) (the offer's own check passes),
 *                  bit 1 takes height and chunk count from the metadata;
 *   mode % 2 == 1: [u32 n_keys][trust byte] then up to 16 chunks, each
 *                  [control byte][length-prefixed bytes]: the harness writes
 *                  metadata that lists the chunks' hashes (so the records
 *                  parser and the install are reached), offers it and applies
 *                  the chunks in order; control bit 0 corrupts the chunk
 *                  (must ask for a refetch, then the true chunk is sent),
 *                  bit 1 sends it under a wrong index.
 * Invariants: every outcome is one of the documented results and a refusal
 * says why; a restore that does not finish leaves the target empty (height
 * 0); a finished one has the snapshot's height and exactly the trusted app
 * hash; nothing leaks. A finished restore is undone (fresh target) so every
 * input sees the same empty chain.
 * Seeds: the source chain's real snapshot (metadata, every chunk).
 */
#include "fuzz_main.h"

#include "chain/fuzz_chain.h"

static const char *dir_b;
static wicas_chain *target;
static wicas_chain_snapshot snap; /* of the source chain */
static uint8_t src_hash[32];
static uint8_t *chunks[64];
static size_t chunk_lens[64];
static uint64_t n_keys;

static wicas_chain *open_empty(void) {
    wicas_chain_options o = {.no_sync = true, .map_size = 64u << 20};
    wicas_chain *c;
    char err[256];
    if (wicas_chain_open(dir_b, &o, &c, err, sizeof err)) {
        fprintf(stderr, "open: %s\n", err);
        abort();
    }
    return c;
}

static void reset_target(void) {
    wicas_chain_close(target);
    fuzz_rm_tree(dir_b);
    if (mkdir(dir_b, 0700)) abort();
    target = open_empty();
}

static void fuzz_setup(void) {
    wicas_chain *a = fzc_open(fuzz_tmpdir("snapA"), NULL);
    size_t l1, l2;
    uint8_t *t1 = fzc_send_tx(0, "10uwicas", &l1), *t2 = fzc_send_tx(1, "3uwicas", &l2);
    const uint8_t *txs[2] = {t1, t2};
    size_t lens[2] = {l1, l2};
    fzc_block(a, 1, txs, lens, 2);
    fzc_block(a, 2, NULL, NULL, 0);
    free(t1), free(t2);
    char err[256];
    if (wicas_chain_snapshot_take(a, 1, 200, err, sizeof err)) {
        fprintf(stderr, "snapshot: %s\n", err);
        abort();
    }
    wicas_chain_snapshot *list;
    size_t n;
    if (wicas_chain_snapshot_list(a, &list, &n) || n != 1 || list[0].chunks > 64) abort();
    snap = list[0];
    free(list);
    int64_t h;
    wicas_chain_info(a, &h, src_hash);
    for (uint32_t i = 0; i < snap.chunks; i++)
        if (wicas_chain_snapshot_chunk(a, snap.height, snap.format, i, &chunks[i], &chunk_lens[i])) abort();
    /* n_keys is in the metadata: "WSS1" | u64 height | u64 n_keys | ... */
    for (int i = 0; i < 8; i++)
        n_keys = n_keys << 8 | snap.metadata[12 + i];
    wicas_chain_close(a);
    dir_b = fuzz_tmpdir("snapB");
    target = open_empty();
}

static void put_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--)
        p[i] = (uint8_t)v, v >>= 8;
}

static bool restore(fz_in *in);

static void fuzz_seeds(void) {
    static uint8_t b[1 << 16];
    size_t off = 0;
    b[off++] = 3;
    put_be(b + off, (uint64_t)snap.height, 8), off += 8;
    put_be(b + off, snap.format, 4), off += 4;
    put_be(b + off, snap.chunks, 4), off += 4;
    memcpy(b + off, snap.metadata, snap.metadata_len), off += snap.metadata_len;
    fuzz_seed_mode("offer", 0, b, off);
    off = 0;
    put_be(b, n_keys, 4), off += 4;
    b[off++] = 0;
    for (uint32_t i = 0; i < snap.chunks; i++) {
        b[off++] = 0;
        off = fz_put_bytes(b, off, chunks[i], chunk_lens[i]);
    }
    fuzz_seed_mode("restore", 1, b, off);
    fz_in in = {b, off};
    FUZZ_CHECK(restore(&in), "the real snapshot does not restore"); /* the fixture works */
    b[4] = 1;                                                       /* a wrong trusted hash */
    b[5] = 1;                                                       /* first chunk corrupted once */
    fuzz_seed_mode("restore-bad", 1, b, off);
}

static void check_outcome(wicas_chain_restore_result r, const char *err) {
    FUZZ_CHECK(r <= WICAS_CHAIN_RESTORE_ABORT, "result %d", (int)r);
    if (r != WICAS_CHAIN_RESTORE_ACCEPT) FUZZ_CHECK(err[0], "result %d without a reason", (int)r);
}

static void check_empty(void) {
    int64_t h;
    uint8_t ah[32];
    wicas_chain_info(target, &h, ah);
    FUZZ_CHECK(h == 0, "an unfinished restore left height %lld", (long long)h);
}

static void offer(fz_in *in) {
    uint8_t flags = fz_u8(in);
    wicas_chain_snapshot s = {.height = (int64_t)fz_u64(in), .format = fz_u32(in), .chunks = fz_u32(in)};
    s.metadata_len = in->n;
    s.metadata = malloc(in->n ? in->n : 1);
    if (in->n) memcpy(s.metadata, in->p, in->n);
    if (flags & 1) wicas_sha256(s.metadata, s.metadata_len, s.hash);
    if ((flags & 2) && s.metadata_len >= 12) {
        uint64_t h = 0;
        for (int i = 4; i < 12; i++)
            h = h << 8 | s.metadata[i];
        s.height = (int64_t)h;
        if (s.metadata_len > 30) s.chunks = (uint32_t)((s.metadata_len - 30) / 32);
    }
    char err[512] = "";
    wicas_chain_restore *r = NULL;
    wicas_chain_restore_result res =
        wicas_chain_restore_begin(target, &s, src_hash, FZC_CHAIN_ID, 1, &r, err, sizeof err);
    check_outcome(res, err);
    FUZZ_CHECK((res == WICAS_CHAIN_RESTORE_ACCEPT) == (r != NULL), "restore handle vs result");
    wicas_chain_restore_free(r);
    free(s.metadata);
    check_empty();
}

static bool restore(fz_in *in) {
    uint64_t keys = fz_u32(in);
    uint8_t trust = fz_u8(in);
    const uint8_t *cp[16];
    size_t cl[16];
    uint8_t ctl[16];
    uint32_t n = 0;
    while (in->n && n < 16)
        ctl[n] = fz_u8(in), cp[n] = fz_bytes(in, &cl[n]), n++;
    if (n == 0) return false;
    /* metadata as snapshot.c writes it, listing these chunks */
    size_t ml = 30 + strlen(FZC_CHAIN_ID) + 32 * (size_t)n;
    uint8_t *meta = malloc(ml);
    memcpy(meta, "WSS1", 4);
    put_be(meta + 4, (uint64_t)snap.height, 8);
    put_be(meta + 12, keys, 8);
    put_be(meta + 20, 1, 8);
    put_be(meta + 28, strlen(FZC_CHAIN_ID), 2);
    memcpy(meta + 30, FZC_CHAIN_ID, strlen(FZC_CHAIN_ID));
    for (uint32_t i = 0; i < n; i++)
        wicas_sha256(cp[i], cl[i], meta + 30 + strlen(FZC_CHAIN_ID) + 32 * i);
    wicas_chain_snapshot s = {.height = snap.height,
                              .format = WICAS_CHAIN_SNAPSHOT_FORMAT,
                              .chunks = n,
                              .metadata = meta,
                              .metadata_len = ml};
    wicas_sha256(meta, ml, s.hash);
    uint8_t trusted[32];
    memcpy(trusted, src_hash, 32);
    if (trust & 1) trusted[trust % 32] ^= 0x80;
    char err[512] = "";
    wicas_chain_restore *r = NULL;
    wicas_chain_restore_result res =
        wicas_chain_restore_begin(target, &s, trusted, FZC_CHAIN_ID, 1, &r, err, sizeof err);
    check_outcome(res, err);
    bool done = false;
    for (uint32_t i = 0; res == WICAS_CHAIN_RESTORE_ACCEPT && i < n && !done; i++) {
        if (ctl[i] & 2) {
            err[0] = 0;
            wicas_chain_restore_result w =
                wicas_chain_restore_chunk(r, i + 1 + ctl[i], cp[i], cl[i], &done, err, sizeof err);
            FUZZ_CHECK(w == WICAS_CHAIN_RESTORE_REJECT && !done && err[0], "a chunk out of order was taken");
            break;
        }
        if (ctl[i] & 1) {
            uint8_t *bad = malloc(cl[i] + 1);
            memcpy(bad, cp[i], cl[i]);
            bad[cl[i]] = ctl[i];
            err[0] = 0;
            wicas_chain_restore_result w =
                wicas_chain_restore_chunk(r, i, bad, cl[i] + 1, &done, err, sizeof err);
            free(bad);
            FUZZ_CHECK(w == WICAS_CHAIN_RESTORE_RETRY_CHUNK && !done && err[0],
                       "a corrupt chunk was not refetched");
        }
        err[0] = 0;
        res = wicas_chain_restore_chunk(r, i, cp[i], cl[i], &done, err, sizeof err);
        check_outcome(res, err);
        FUZZ_CHECK(!done || (res == WICAS_CHAIN_RESTORE_ACCEPT && i + 1 == n), "done too early");
    }
    wicas_chain_restore_free(r);
    free(meta);
    if (done) {
        int64_t h;
        uint8_t ah[32];
        wicas_chain_info(target, &h, ah);
        FUZZ_CHECK(h == snap.height && memcmp(ah, trusted, 32) == 0,
                   "restored state differs from the trusted one");
        reset_target();
    } else {
        check_empty();
    }
    return done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fz_in in = {data + 1, size - 1};
    if (data[0] % 2 == 0)
        offer(&in);
    else
        restore(&in);
    return 0;
}

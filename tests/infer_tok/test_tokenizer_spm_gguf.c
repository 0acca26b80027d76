/*
 * test_tokenizer_spm_gguf.c — the SentencePiece-style (tokenizer.ggml.model
 * "llama") tokenizer read from small GGUF files this test writes itself, with
 * a vocabulary small enough that every expected id below is derived by hand
 * in the comments: merges by score (not by position), ties to the left, the
 * <0xXX> byte fallback, the "▁" space marker and the prefix space
 * (tokenizer.ggml.add_space_prefix true / false, as Gemma 3 has it), special
 * tokens (CONTROL only with parse_special, USER_DEFINED always), and the
 * Gemma chat format chosen from the vocabulary when the file has no
 * tokenizer.chat_template (the published Gemma 3 270M GGUF has none).
 *
 * The files go through tests/infer_tok/tok_gguf.c (the test GGUF reader), so
 * the metadata keys and their types are exercised as a converter writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tok_gguf.h"
#include "tokenizer.h"

/* ---- the vocabulary ------------------------------------------------------------ */
/* ids 3..258 are <0x00>..<0xFF>: byte b is id 3 + b */
#define BYTE(b) (3 + (b))
enum {
    UNK = 0,
    BOS = 1,
    EOS = 2,
    SP = 259,  /* "▁"   score -1 */
    A = 260,   /* "a"   -2 */
    B = 261,   /* "b"   -2 */
    C = 262,   /* "c"   -2 */
    AB = 263,  /* "ab"  -5 */
    BC = 264,  /* "bc"  -3 */
    ABC = 265, /* "abc" -4 */
    SPA = 266, /* "▁a"  -6 */
    AA = 267,  /* "aa"  -7 */
    SOT = 268, /* "<start_of_turn>" CONTROL */
    EOT = 269, /* "<end_of_turn>"   CONTROL */
    NL2 = 270, /* "\n\n"  USER_DEFINED */
    NL = 271,  /* "\n"  -2 */
    D = 272,   /* "d"   -2 */
    CD = 273,  /* "cd"  -1 */
    NV = 274
};
static const struct {
    int id;
    const char *text;
    float score;
    int type;
} PIECES[] = {
    {UNK, "<unk>", 0, 2},
    {BOS, "<bos>", 0, 3},
    {EOS, "<eos>", 0, 3},
    {SP, "\xe2\x96\x81", -1, 1},
    {A, "a", -2, 1},
    {B, "b", -2, 1},
    {C, "c", -2, 1},
    {AB, "ab", -5, 1},
    {BC, "bc", -3, 1},
    {ABC, "abc", -4, 1},
    {SPA,
     "\xe2\x96\x81"
     "a",
     -6, 1},
    {AA, "aa", -7, 1},
    {SOT, "<start_of_turn>", 0, 3},
    {EOT, "<end_of_turn>", 0, 3},
    {NL2, "\n\n", 0, 4},
    {NL, "\n", -2, 1},
    {D, "d", -2, 1},
    {CD, "cd", -1, 1},
};

/* ---- a minimal GGUF v3 writer (metadata only, no tensors) ------------------------ */
typedef struct {
    FILE *f;
    int bad;
} w;
static void wr(w *o, const void *p, size_t n) {
    o->bad |= fwrite(p, 1, n, o->f) != n;
}
static void w_u32(w *o, uint32_t v) {
    wr(o, &v, 4);
}
static void w_u64(w *o, uint64_t v) {
    wr(o, &v, 8);
}
static void w_str(w *o, const char *s, size_t n) {
    w_u64(o, n);
    wr(o, s, n);
}
static void w_key(w *o, const char *k, uint32_t type) {
    w_str(o, k, strlen(k));
    w_u32(o, type);
}

/* Writes the vocabulary; add_space_prefix < 0 leaves the key out. */
static void write_gguf(const char *path, int add_space_prefix) {
    w o = {fopen(path, "wb"), 0};
    assert_non_null(o.f);
    char texts[NV][8];
    const char *tok[NV];
    float score[NV];
    int32_t type[NV];
    for (int i = 0; i < 256; i++) {
        snprintf(texts[BYTE(i)], sizeof texts[0], "<0x%02X>", i);
        tok[BYTE(i)] = texts[BYTE(i)];
        score[BYTE(i)] = 0;
        type[BYTE(i)] = 6;
    }
    for (size_t i = 0; i < sizeof PIECES / sizeof PIECES[0]; i++) {
        tok[PIECES[i].id] = PIECES[i].text;
        score[PIECES[i].id] = PIECES[i].score;
        type[PIECES[i].id] = PIECES[i].type;
    }
    wr(&o, "GGUF", 4);
    w_u32(&o, 3);
    w_u64(&o, 0);                           /* tensors */
    w_u64(&o, 8 + (add_space_prefix >= 0)); /* key/values */
    w_key(&o, "general.architecture", 8);
    w_str(&o, "gemma3", 6);
    w_key(&o, "tokenizer.ggml.model", 8);
    w_str(&o, "llama", 5);
    w_key(&o, "tokenizer.ggml.tokens", 9);
    w_u32(&o, 8);
    w_u64(&o, NV);
    for (int i = 0; i < NV; i++)
        w_str(&o, tok[i], strlen(tok[i]));
    w_key(&o, "tokenizer.ggml.scores", 9);
    w_u32(&o, 6);
    w_u64(&o, NV);
    wr(&o, score, sizeof score);
    w_key(&o, "tokenizer.ggml.token_type", 9);
    w_u32(&o, 5);
    w_u64(&o, NV);
    wr(&o, type, sizeof type);
    w_key(&o, "tokenizer.ggml.bos_token_id", 4);
    w_u32(&o, BOS);
    w_key(&o, "tokenizer.ggml.eos_token_id", 4);
    w_u32(&o, EOS);
    w_key(&o, "tokenizer.ggml.add_bos_token", 7);
    wr(&o, "\1", 1);
    if (add_space_prefix >= 0) {
        uint8_t v = (uint8_t)add_space_prefix;
        w_key(&o, "tokenizer.ggml.add_space_prefix", 7);
        wr(&o, &v, 1);
    }
    assert_int_equal(fclose(o.f), 0);
    assert_int_equal(o.bad, 0);
}

/* Loads a tokenizer from a GGUF written with the given add_space_prefix. */
static wicas_tokenizer *load(int add_space_prefix) {
    char path[] = "/tmp/wicas_spm_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_gguf(path, add_space_prefix);
    tok_gguf g;
    assert_int_equal(tok_gguf_load(path, &g), 0);
    unlink(path);
    assert_int_equal(g.cfg.kind, WICAS_TOK_LLAMA);
    assert_int_equal(g.cfg.n_vocab, NV);
    assert_int_equal(g.cfg.no_space_prefix, add_space_prefix == 0);
    wicas_tokenizer *t;
    char err[128];
    assert_int_equal(wicas_tok_new(&g.cfg, &t, err, sizeof err), 0);
    tok_gguf_free(&g); /* the tokenizer keeps its own copy */
    return t;
}

/* encode(text) == want[0..n) */
static void expect(const wicas_tokenizer *t, const char *text, bool bos, bool special, const int32_t *want,
                   size_t n) {
    int32_t out[64];
    size_t got;
    assert_int_equal(wicas_tok_encode(t, text, strlen(text), bos, special, out, 64, &got), 0);
    if (got != n || memcmp(out, want, n * sizeof *want) != 0) {
        fprintf(stderr, "\"%s\": got", text);
        for (size_t i = 0; i < got; i++)
            fprintf(stderr, " %d", out[i]);
        fprintf(stderr, ", want");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", want[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(got, n);
    assert_memory_equal(out, want, n * sizeof *want);
}
#define EXPECT(t, text, bos, special, ...)                                                                   \
    do {                                                                                                     \
        const int32_t w_[] = {__VA_ARGS__};                                                                  \
        expect(t, text, bos, special, w_, sizeof w_ / sizeof w_[0]);                                         \
    } while (0)

/* Decoded text of encode(text) */
static size_t roundtrip(const wicas_tokenizer *t, const char *text, char *buf, size_t cap) {
    int32_t out[64];
    size_t n, o = 0, pn;
    assert_int_equal(wicas_tok_encode(t, text, strlen(text), false, true, out, 64, &n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wicas_tok_piece(t, out[i], buf + o, cap - o, &pn), 0);
        o += pn;
    }
    return o;
}

/* ---- add_space_prefix = false (Gemma 3) ------------------------------------------- */
static void test_no_prefix(void **state) {
    (void)state;
    wicas_tokenizer *t = load(0);
    /* a b c: bigrams ab -5, bc -3; bc merges first (higher score), then a+bc
     * = abc (-4) */
    EXPECT(t, "abc", false, false, ABC);
    /* a b c d: ab -5, bc -3, cd -1: cd first although bc is further left; then
     * bc is gone, "bcd" is no piece, so ab: [ab, cd] */
    EXPECT(t, "abcd", false, false, AB, CD);
    /* a a a: two equal "aa" bigrams, the left one merges: [aa, a] */
    EXPECT(t, "aaa", false, false, AA, A);
    /* no prefix space: "a" alone; a space in the text is "▁", and "▁a" merges */
    EXPECT(t, "a", false, false, A);
    EXPECT(t, " a", false, false, SPA);
    EXPECT(t, "a b", false, false, A, SP, B);
    /* é (C3 A9) and x are no pieces: their bytes */
    EXPECT(t, "\xc3\xa9", false, false, BYTE(0xC3), BYTE(0xA9));
    EXPECT(t, "xa", false, false, BYTE('x'), A);
    /* BOS from add_bos; the empty text is BOS alone, or nothing */
    EXPECT(t, "ab", true, false, BOS, AB);
    EXPECT(t, "", true, false, BOS);
    int32_t none[1];
    size_t n = 9;
    assert_int_equal(wicas_tok_encode(t, "", 0, false, false, none, 1, &n), 0);
    assert_int_equal(n, 0);
    /* CONTROL text is one id only with parse_special; no space follows it here */
    EXPECT(t, "<start_of_turn>a", false, true, SOT, A);
    EXPECT(t, "a<end_of_turn>", false, true, A, EOT);
    /* an UNKNOWN-type token's text is that token with parse_special (as in
     * llama.cpp), else text: '<' 'u' 'n' 'k' '>' are no pieces, so bytes */
    EXPECT(t, "<unk>", false, true, UNK);
    EXPECT(t, "<unk>", false, false, BYTE('<'), BYTE('u'), BYTE('n'), BYTE('k'), BYTE('>'));
    /* USER_DEFINED "\n\n" is matched even without parse_special; "\n" is a
     * normal piece: three newlines are [\n\n, \n] (longest special first) */
    EXPECT(t, "a\n\nb", false, false, A, NL2, B);
    EXPECT(t, "\n\n\n", false, false, NL2, NL);
    /* round trip: the pieces give the text back exactly */
    char buf[128];
    const char *rt = "abc d \xc3\xa9\n\nx";
    size_t o = roundtrip(t, rt, buf, sizeof buf);
    assert_int_equal(o, strlen(rt));
    assert_memory_equal(buf, rt, o);
    wicas_tok_free(t);
}

/* ---- add_space_prefix = true (and absent: the llama default) ------------------------- */
static void test_prefix(void **state) {
    (void)state;
    for (int k = 1; k >= -1; k -= 2) {
        wicas_tokenizer *t = load(k);
        /* "▁abc": bc (-3), then abc (-4); "▁a" (-6) lost its a: [▁, abc] */
        EXPECT(t, "abc", false, false, SP, ABC);
        /* "▁a" */
        EXPECT(t, "a", false, false, SPA);
        /* "▁▁a": "▁▁" is no piece, "▁a" is: [▁, ▁a] */
        EXPECT(t, " a", false, false, SP, SPA);
        /* after a special the prefix space comes again */
        EXPECT(t, "<start_of_turn>a", false, true, SOT, SPA);
        EXPECT(t, "a\n\nb", false, false, SPA, NL2, SP, B);
        /* without parse_special the CONTROL text is text: bytes, never SOT */
        int32_t out[64];
        size_t n;
        assert_int_equal(wicas_tok_encode(t, "<start_of_turn>", 15, false, false, out, 64, &n), 0);
        assert_int_equal(out[0], SP);
        assert_int_equal(out[1], BYTE('<'));
        for (size_t i = 0; i < n; i++)
            assert_int_not_equal(out[i], SOT);
        /* decoding keeps the prefix space */
        char buf[64];
        size_t o = roundtrip(t, "ab", buf, sizeof buf);
        assert_int_equal(o, 3);
        assert_memory_equal(buf, " ab", 3);
        wicas_tok_free(t);
    }
}

/* ---- Gemma chat format ------------------------------------------------------------- */
static void test_gemma_chat(void **state) {
    (void)state;
    wicas_tokenizer *t = load(0);
    /* no tokenizer.chat_template, but <start_of_turn>/<end_of_turn> are CONTROL */
    assert_int_equal(wicas_tok_chat_style(t), WICAS_CHAT_GEMMA);
    char out[512];
    size_t n;
    wicas_chat_msg one = {"user", "  What is 2+2?\n"};
    assert_int_equal(wicas_tok_apply_chat(t, &one, 1, true, out, sizeof out, &n), 0);
    const char *want1 = "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n";
    assert_int_equal(n, strlen(want1));
    assert_memory_equal(out, want1, n);
    /* system text opens the user turn; assistant is "model"; a system message
     * after a model turn opens the next user turn; empty systems add nothing */
    wicas_chat_msg msgs[] = {{"system", " Be brief. "}, {"user", "Hi"},   {"assistant", "Hello!"},
                             {"system", "\n"},          {"user", "Bye"},  {"assistant", "Bye."},
                             {"system", "Sys2"},        {"user", "Again"}};
    assert_int_equal(wicas_tok_apply_chat(t, msgs, 8, false, out, sizeof out, &n), 0);
    const char *want2 = "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                        "<start_of_turn>model\nHello!<end_of_turn>\n"
                        "<start_of_turn>user\nBye<end_of_turn>\n"
                        "<start_of_turn>model\nBye.<end_of_turn>\n"
                        "<start_of_turn>user\nSys2\n\nAgain<end_of_turn>\n";
    assert_int_equal(n, strlen(want2));
    assert_memory_equal(out, want2, n);
    /* too small a buffer: ENOSPC with the size needed */
    size_t need;
    assert_int_equal(wicas_tok_apply_chat(t, msgs, 8, false, out, 10, &need), WICAS_TOK_ENOSPC);
    assert_int_equal(need, strlen(want2));
    /* the formatted prompt, parsed with specials: turn markers are single ids */
    int32_t ids[128];
    assert_int_equal(wicas_tok_apply_chat(t, &one, 1, true, out, sizeof out, &n), 0);
    assert_int_equal(wicas_tok_encode(t, out, n, true, true, ids, 128, &n), 0);
    assert_int_equal(ids[0], BOS);
    assert_int_equal(ids[1], SOT);
    /* ... SOT "model\n": m o (bytes) d (a piece) e l (bytes) \n (a piece) */
    assert_int_equal(ids[n - 7], SOT);
    assert_int_equal(ids[n - 6], BYTE('m'));
    assert_int_equal(ids[n - 4], D);
    assert_int_equal(ids[n - 1], NL);
    assert_true(wicas_tok_is_eog(t, EOT));
    assert_true(wicas_tok_is_eog(t, EOS));
    assert_false(wicas_tok_is_eog(t, SOT));
    /* a bad role is refused */
    wicas_chat_msg bad = {"tool", "x"};
    assert_int_equal(wicas_tok_apply_chat(t, &bad, 1, true, out, sizeof out, &n), WICAS_TOK_ETEMPLATE);
    wicas_tok_free(t);

    /* a template naming <start_of_turn> is Gemma too */
    tok_gguf g;
    char path[] = "/tmp/wicas_spm_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_gguf(path, 0);
    assert_int_equal(tok_gguf_load(path, &g), 0);
    unlink(path);
    const char *tpl = "{{ bos_token }}{% for m in messages %}{{ '<start_of_turn>' + m['role'] }}{% endfor %}";
    g.cfg.chat_template = (wicas_tok_str){tpl, (uint32_t)strlen(tpl)};
    assert_int_equal(wicas_tok_new(&g.cfg, &t, NULL, 0), 0);
    assert_int_equal(wicas_tok_chat_style(t), WICAS_CHAT_GEMMA);
    wicas_tok_free(t);
    /* an unrecognised template is not overridden by the vocabulary */
    const char *other = "{{ messages }}";
    g.cfg.chat_template = (wicas_tok_str){other, (uint32_t)strlen(other)};
    assert_int_equal(wicas_tok_new(&g.cfg, &t, NULL, 0), 0);
    assert_int_equal(wicas_tok_chat_style(t), WICAS_CHAT_UNKNOWN);
    wicas_tok_free(t);
    tok_gguf_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_prefix),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_gemma_chat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tokenizer_qwen2.c — the byte-level BPE tokenizer with Qwen2's
 * pre-tokenizer (tokenizer.ggml.pre "qwen2") against GPT-2's on a tiny
 * vocabulary: the 256 byte symbols plus a few merges that can only apply when
 * both symbols land in the same pre-tokenized piece. Each merge taken or not
 * shows where the pattern split the text, so every expected id below follows
 * from the two patterns by hand. (The full pattern is compared with
 * llama.cpp's on a real vocabulary in test_llamacpp_tok.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tokenizer.h"

/* ids 0..255: the GPT-2 symbol of byte b is id b; merged tokens follow */
enum { SP1 = 256, D12, APS, EXNL, TABA, NLNL, NV };
static char texts[NV][8];
static wicas_tok_str toks[NV];
static const char *MERGES[] = {
    "\xc4\xa0 1",        /* "Ġ1": space + digit 1 */
    "1 2",               /* two digits */
    "' S",               /* contraction 'S */
    "! \xc4\x8a",        /* "!Ċ": '!' + newline */
    "\xc4\x89 a",        /* "ĉa": tab + 'a' */
    "\xc4\x8a \xc4\x8a", /* "ĊĊ": two newlines */
};
static wicas_tok_str merges[sizeof MERGES / sizeof MERGES[0]];

static size_t put_cp(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static wicas_tok_config cfg(const char *pre) {
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        size_t n = put_cp(texts[b], keep ? (uint32_t)b : next++);
        texts[b][n] = 0;
    }
    strcpy(texts[SP1], "\xc4\xa0"
                       "1");
    strcpy(texts[D12], "12");
    strcpy(texts[APS], "'S");
    strcpy(texts[EXNL], "!\xc4\x8a");
    strcpy(texts[TABA], "\xc4\x89"
                        "a");
    strcpy(texts[NLNL], "\xc4\x8a\xc4\x8a");
    for (int i = 0; i < NV; i++)
        toks[i] = (wicas_tok_str){texts[i], (uint32_t)strlen(texts[i])};
    for (size_t i = 0; i < sizeof MERGES / sizeof MERGES[0]; i++)
        merges[i] = (wicas_tok_str){MERGES[i], (uint32_t)strlen(MERGES[i])};
    wicas_tok_config c;
    memset(&c, 0, sizeof c);
    c.kind = WICAS_TOK_GPT2;
    c.pre = (wicas_tok_str){pre, (uint32_t)strlen(pre)};
    c.n_vocab = NV;
    c.tokens = toks;
    c.n_merges = sizeof MERGES / sizeof MERGES[0];
    c.merges = merges;
    c.bos_id = c.eos_id = c.unk_id = c.pad_id = c.eot_id = -1;
    return c;
}

static void expect(const wicas_tokenizer *t, const char *text, const int32_t *want, size_t n) {
    int32_t out[64];
    size_t got;
    assert_int_equal(wicas_tok_encode(t, text, strlen(text), false, false, out, 64, &got), 0);
    if (got != n || memcmp(out, want, n * sizeof *want) != 0) {
        fprintf(stderr, "\"%s\": got", text);
        for (size_t i = 0; i < got; i++)
            fprintf(stderr, " %d", out[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(got, n);
    assert_memory_equal(out, want, n * sizeof *want);
}
#define EXPECT(t, text, ...)                                                                                 \
    do {                                                                                                     \
        const int32_t w_[] = {__VA_ARGS__};                                                                  \
        expect(t, text, w_, sizeof w_ / sizeof w_[0]);                                                       \
    } while (0)

static void test_qwen2_vs_gpt2(void **state) {
    (void)state;
    wicas_tok_config cq = cfg("qwen2"), cg = cfg("gpt2");
    wicas_tokenizer *q, *g;
    char err[160];
    assert_int_equal(wicas_tok_new(&cq, &q, err, sizeof err), 0);
    assert_int_equal(wicas_tok_new(&cg, &g, err, sizeof err), 0);

    /* " 12": GPT-2 ` ?\p{N}+` keeps " 12" together; Ġ1 (rank 0) merges before
     * 12 (rank 1) and takes the 1: [Ġ1, 2]. Qwen2: every digit alone, and the
     * space before a digit is its own \s+ piece: [Ġ, 1, 2] */
    EXPECT(g, " 12", SP1, '2');
    EXPECT(q, " 12", ' ', '1', '2');
    EXPECT(g, "12", D12);
    EXPECT(q, "12", '1', '2');
    /* "IT'S": GPT-2's contractions are lower case only, so ' and S are apart;
     * Qwen2's ignore case: IT, 'S */
    EXPECT(g, "IT'S", 'I', 'T', '\'', 'S');
    EXPECT(q, "IT'S", 'I', 'T', APS);
    EXPECT(q, "it's", 'i', 't', '\'', 's'); /* "'s" is no merge here */
    /* "Hi!\n": Qwen2's punctuation takes the line breaks after it */
    EXPECT(g, "Hi!\n", 'H', 'i', '!', '\n');
    EXPECT(q, "Hi!\n", 'H', 'i', EXNL);
    /* "\ta": one non-letter may lead a run of letters in Qwen2 */
    EXPECT(g, "\ta", '\t', 'a');
    EXPECT(q, "\ta", TABA);
    /* " \n\nx": GPT-2 \s+(?!\S) leaves the last \n to stand alone before x:
     * " \n", "\n", "x"; Qwen2 \s*[\r\n]+ takes the run up to its last
     * line break: " \n\n" (ĊĊ merges), "x" */
    EXPECT(g, " \n\nx", ' ', '\n', '\n', 'x');
    EXPECT(q, " \n\nx", ' ', NLNL, 'x');
    /* white space without line breaks: \s+(?!\S) then the letter's lead
     * space (both patterns): "  a" -> " ", " a" */
    EXPECT(q, "  a", ' ', ' ', 'a');
    /* a lone space at the end, and the empty text */
    EXPECT(q, "a ", 'a', ' ');
    size_t n = 7;
    assert_int_equal(wicas_tok_encode(q, "", 0, false, false, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
    /* the pieces give the text back */
    const char *rt = "IT'S 12!\n\tab \n\n x";
    int32_t ids[64];
    assert_int_equal(wicas_tok_encode(q, rt, strlen(rt), false, false, ids, 64, &n), 0);
    char buf[64];
    size_t o = 0, pn;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wicas_tok_piece(q, ids[i], buf + o, sizeof buf - o, &pn), 0);
        o += pn;
    }
    assert_int_equal(o, strlen(rt));
    assert_memory_equal(buf, rt, o);
    wicas_tok_free(q);
    wicas_tok_free(g);
}

/* Pre-tokenizers with other rules are refused by name, not approximated. */
static void test_unknown_pre(void **state) {
    (void)state;
    static const char *bad[] = {"llama-bpe", "deepseek-llm", "qwen35", "Qwen2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wicas_tok_config c = cfg(bad[i]);
        wicas_tokenizer *t = (wicas_tokenizer *)&c; /* must be reset to NULL */
        char err[160];
        assert_int_equal(wicas_tok_new(&c, &t, err, sizeof err), WICAS_TOK_EINVAL);
        assert_null(t);
        assert_non_null(strstr(err, bad[i]));
        assert_non_null(strstr(err, "not supported"));
    }
    wicas_tok_config c = cfg("deepseek-r1-qwen"); /* Qwen2's pattern under another name */
    wicas_tokenizer *t;
    assert_int_equal(wicas_tok_new(&c, &t, NULL, 0), 0);
    EXPECT(t, "12", '1', '2');
    wicas_tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_qwen2_vs_gpt2),
                                       cmocka_unit_test(test_unknown_pre)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

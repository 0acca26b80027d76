/*
 * test_tokenizer_gpt2.c — the GPT-2 byte-level BPE tokenizer on the real
 * SmolLM2-135M-Instruct vocabulary (WICAS_DEFAULT_MODEL): known ids, round
 * trips, special tokens, end-of-generation ids, the ChatML template, and
 * error handling.
 *
 * Where the expected ids come from: the vocabulary and the 48,900 merges were
 * exported from the GGUF file with a small Python script and loaded into
 * Hugging Face `tokenizers` 0.22 (PyPI) as
 *   models.BPE(vocab, merges), pre_tokenizer = Sequence([Digits(individual_digits=True),
 *   ByteLevel(add_prefix_space=False, use_regex=True)]), the 17 CONTROL tokens
 *   added as special tokens,
 * which is SmolLM2's tokenizer.json pipeline; tok.encode(s, add_special_tokens=False).ids
 * gave the lists below (2026-11-24). They were not produced by this code.
 *
 * smollm2_hf_ref.json holds 400 more reference cases made the same way from
 * seeded random mixes of words, digits, punctuation, contractions, white
 * space of all kinds (incl. U+00A0, U+3000, U+0085), accents, CJK, Hangul,
 * Greek/Cyrillic/Hebrew/Arabic/Devanagari, emoji with modifiers and ZWJ,
 * number forms, and special-token texts (recognised, as HF does).
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"
#include "tok_gguf.h"
#include "tokenizer.h"

static tok_gguf G;
static wicas_tokenizer *T;

static int setup(void **state) {
    (void)state;
    const char *path = getenv("WICAS_DEFAULT_MODEL");
    if (!path) {
        fprintf(stderr, "WICAS_DEFAULT_MODEL not set\n");
        return -1;
    }
    if (tok_gguf_load(path, &G) != 0) return -1;
    char err[256];
    int rc = wicas_tok_new(&G.cfg, &T, err, sizeof err);
    if (rc) {
        fprintf(stderr, "wicas_tok_new: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wicas_tok_free(T);
    tok_gguf_free(&G);
    return 0;
}

typedef struct {
    const char *text;
    int32_t ids[24];
    size_t n;
} known;

#define K(s, ...)                                                                                            \
    { s, {__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / sizeof(int32_t) }

static const known KNOWN[] = {
    K("Hello world", 19556, 905),
    K("Hello, world! How are you today?", 19556, 28, 905, 17, 1073, 359, 346, 1834, 47),
    K("The year 2024 had 366 days.", 504, 713, 216, 34, 32, 34, 36, 761, 216, 35, 38, 38, 2009, 30),
    K("  leading spaces and trailing   ", 216, 2899, 5600, 284, 35079, 333),
    K("tabs\tand\nnewlines\n\n  indented", 100, 7366, 197, 397, 198, 2241, 5110, 8866, 641, 6574),
    K("I'm can't we'll they've she'd you're HE'S", 57, 5248, 416, 982, 392, 3060, 502, 3543, 1041, 6737, 346,
      2316, 18209, 23, 67),
    K("caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 Z\xc3\xbcrich", 83, 1939, 2756, 15486, 46494, 412, 2756,
      5422, 2756, 1777, 7170, 5130),
    K("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 "
      "\xe4\xb8\xad\xe6\x96\x87",
      23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 216, 28589,
      29184),
    K("emoji \xf0\x9f\xa4\x96\xf0\x9f\x9a\x80 ok \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 391, 33777, 15107, 114,
      240, 10813, 244, 218, 10907, 15107, 235, 231, 10813, 233, 138),
    K("price: $1,234.56 (approx)", 17517, 42, 1885, 33, 28, 34, 35, 36, 30, 37, 38, 365, 22046, 25),
    K("a  b   c    d", 81, 216, 278, 256, 265, 333, 287),
    K("x=(y+z)*2; // comment", 104, 8615, 105, 27, 106, 14428, 34, 43, 13241, 5189),
    K("line1\r\nline2", 1311, 33, 201, 198, 1311, 34),
    K("\xc3\x9cn\xc3\xaf"
      "c\xc3\xb6"
      "d\xc3\xa9 \xef\xac\x81 ligature",
      142, 246, 94, 25972, 83, 7466, 84, 2756, 40367, 13042, 906),
    K("1234567890", 33, 34, 35, 36, 37, 38, 39, 40, 41, 32),
    K("!!!??? ... ---", 29646, 16693, 47, 4563, 21749),
    K("\xc4\xa0Hello \xc4\xa0", 143, 250, 19556, 24488, 250),
};

static void test_known_ids(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof KNOWN / sizeof KNOWN[0]; k++) {
        int32_t out[64];
        size_t n = 0;
        int rc = wicas_tok_encode(T, KNOWN[k].text, strlen(KNOWN[k].text), false, true, out, 64, &n);
        assert_int_equal(rc, 0);
        if (n != KNOWN[k].n || memcmp(out, KNOWN[k].ids, n * sizeof *out) != 0) {
            fprintf(stderr, "mismatch for \"%s\": got", KNOWN[k].text);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %d", out[i]);
            fprintf(stderr, "\n");
        }
        assert_int_equal(n, KNOWN[k].n);
        assert_memory_equal(out, KNOWN[k].ids, n * sizeof *out);
    }
}

static void test_hf_reference_file(void **state) {
    (void)state;
    const char *src = getenv("WICAS_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/infer_tok/smollm2_hf_ref.json", src);
    size_t len;
    uint8_t *data = wicas_read_file(path, 1 << 24, &len);
    assert_non_null(data);
    cJSON *root = cJSON_ParseWithLength((const char *)data, len);
    assert_non_null(root);
    int n_cases = cJSON_GetArraySize(root), bad = 0;
    assert_int_equal(n_cases, 400);
    int32_t *out = malloc(4096 * sizeof *out);
    for (int k = 0; k < n_cases; k++) {
        cJSON *c = cJSON_GetArrayItem(root, k);
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(c, "text"));
        cJSON *ids = cJSON_GetObjectItem(c, "ids");
        assert_non_null(text);
        size_t n;
        assert_int_equal(wicas_tok_encode(T, text, strlen(text), false, true, out, 4096, &n), 0);
        int same = (int)n == cJSON_GetArraySize(ids);
        for (size_t i = 0; same && i < n; i++)
            same = out[i] == (int32_t)cJSON_GetArrayItem(ids, (int)i)->valueint;
        if (!same) {
            bad++;
            fprintf(stderr, "case %d differs: \"%s\"\n  got ", k, text);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %d", out[i]);
            fprintf(stderr, "\n");
        }
    }
    free(out);
    cJSON_Delete(root);
    free(data);
    assert_int_equal(bad, 0);
}

static void test_special_tokens(void **state) {
    (void)state;
    const char *s = "<|im_start|>user\nHi<|im_end|>\n";
    int32_t out[32];
    size_t n;
    /* reference (same HF set-up, special tokens recognised) */
    const int32_t want[] = {1, 4093, 198, 26843, 2, 198};
    assert_int_equal(wicas_tok_encode(T, s, strlen(s), false, true, out, 32, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, want, sizeof want);
    /* without parse_special the markers are plain text: no id 1 or 2 appears */
    assert_int_equal(wicas_tok_encode(T, s, strlen(s), false, false, out, 32, &n), 0);
    assert_true(n > 6);
    for (size_t i = 0; i < n; i++)
        assert_true(out[i] > 16);
    /* add_bos prepends bos (1 here) */
    assert_int_equal(wicas_tok_encode(T, "Hello world", 11, true, true, out, 32, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 19556);
}

static void roundtrip(const char *s, size_t len) {
    size_t n = 0;
    int rc = wicas_tok_encode(T, s, len, false, false, NULL, 0, &n);
    assert_true(rc == WICAS_TOK_ENOSPC || (rc == 0 && n == 0));
    int32_t *ids = malloc((n + 1) * sizeof *ids);
    size_t n2;
    assert_int_equal(wicas_tok_encode(T, s, len, false, false, ids, n, &n2), 0);
    assert_int_equal(n2, n);
    char *back = malloc(len + 64);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        assert_int_equal(wicas_tok_piece(T, ids[i], back + o, len + 64 - o, &k), 0);
        o += k;
        assert_true(o <= len);
    }
    assert_int_equal(o, len);
    assert_memory_equal(back, s, len);
    free(back);
    free(ids);
}

static void test_roundtrip(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof KNOWN / sizeof KNOWN[0]; k++)
        roundtrip(KNOWN[k].text, strlen(KNOWN[k].text));
    static const char *more[] = {
        "",
        " ",
        "\n",
        "   \n\t \r\n  ",
        "Mixed: Ελληνικά, русский, עברית, العربية, हिन्दी.",
        "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 family",
        "3.14159265358979 e=2.718 1e-10",
        "''''' ' 's 'S ''ll",
        "<|im_end|> as text <|endoftext|>",
        "\x01\x02\x7f control \x1b[0m \x05",
    };
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++)
        roundtrip(more[k], strlen(more[k]));
    /* invalid UTF-8 and NUL bytes survive byte for byte */
    static const char bad[] = "ok \xc3 \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80 \x80\xbf z\0y";
    roundtrip(bad, sizeof bad - 1);
    /* every single byte; SmolLM2's vocabulary has no one-byte token for
     * 0x04 0x06 0x13 0x14 0x16 0x1D 0xC0 0xC1 0xF1 0xF2 0xF5..0xFF (checked in
     * Python against the exported vocabulary), and those are dropped */
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        if (b == 0x04 || b == 0x06 || b == 0x13 || b == 0x14 || b == 0x16 || b == 0x1D || b == 0xC0 ||
            b == 0xC1 || b == 0xF1 || b == 0xF2 || b >= 0xF5) {
            size_t n = 99;
            int32_t id;
            assert_int_equal(wicas_tok_encode(T, &c, 1, false, false, &id, 1, &n), 0);
            assert_int_equal(n, 0);
        } else {
            roundtrip(&c, 1);
        }
    }
    /* ...also inside a word: "a\xffb" keeps a and b */
    int32_t ids[8];
    size_t n;
    assert_int_equal(wicas_tok_encode(T,
                                      "a\xff"
                                      "b",
                                      3, false, false, ids, 8, &n),
                     0);
    char back[8];
    size_t o = 0, k;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wicas_tok_piece(T, ids[i], back + o, sizeof back - o, &k), 0);
        o += k;
    }
    assert_int_equal(o, 2);
    assert_memory_equal(back, "ab", 2);
}

static void test_buffer_and_errors(void **state) {
    (void)state;
    int32_t out[2];
    size_t n = 99;
    /* too small: ENOSPC and the size needed, only cap ids written */
    assert_int_equal(wicas_tok_encode(T, "Hello, world!", 13, false, true, out, 2, &n), WICAS_TOK_ENOSPC);
    assert_int_equal(n, 4);
    assert_int_equal(out[0], 19556);
    assert_int_equal(wicas_tok_encode(NULL, "x", 1, false, true, out, 2, &n), WICAS_TOK_EINVAL);
    assert_int_equal(wicas_tok_encode(T, NULL, 1, false, true, out, 2, &n), WICAS_TOK_EINVAL);
    char buf[4];
    assert_int_equal(wicas_tok_piece(T, -1, buf, 4, &n), WICAS_TOK_ERANGE);
    assert_int_equal(wicas_tok_piece(T, 49152, buf, 4, &n), WICAS_TOK_ERANGE);
    assert_int_equal(wicas_tok_piece(T, 2, buf, 4, &n), WICAS_TOK_ENOSPC); /* "<|im_end|>" */
    assert_int_equal(n, 10);
    assert_string_equal(wicas_tok_strerror(WICAS_TOK_ENOSPC), "output buffer too small");

    /* bad configurations are refused with a message */
    wicas_tok_config c = G.cfg;
    wicas_tokenizer *t2 = (wicas_tokenizer *)1;
    char err[128];
    c.bos_id = 49152;
    assert_int_equal(wicas_tok_new(&c, &t2, err, sizeof err), WICAS_TOK_EINVAL);
    assert_null(t2);
    assert_non_null(strstr(err, "bos"));
    c = G.cfg;
    c.n_vocab = 0;
    assert_int_equal(wicas_tok_new(&c, &t2, err, sizeof err), WICAS_TOK_EINVAL);
    c = G.cfg;
    c.merges = NULL;
    assert_int_equal(wicas_tok_new(&c, &t2, err, sizeof err), WICAS_TOK_EINVAL);
    assert_int_equal(wicas_tok_new(NULL, &t2, err, sizeof err), WICAS_TOK_EINVAL);
    /* a pre-tokenizer with other rules is refused, by name */
    c = G.cfg;
    c.pre = (wicas_tok_str){"llama-bpe", 9};
    assert_int_equal(wicas_tok_new(&c, &t2, err, sizeof err), WICAS_TOK_EINVAL);
    assert_non_null(strstr(err, "llama-bpe"));
    /* plain GPT-2 pattern is accepted; on this vocabulary (no multi-digit
     * tokens) it gives what HF's ByteLevel-only pre-tokenizer gives */
    c.pre = (wicas_tok_str){"gpt2", 4};
    assert_int_equal(wicas_tok_new(&c, &t2, err, sizeof err), 0);
    int32_t ids[8];
    const int32_t want[] = {104, 216, 39, 13855}; /* "x 7 apples", HF tokenizers */
    assert_int_equal(wicas_tok_encode(t2, "x 7 apples", 10, false, false, ids, 8, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(ids, want, sizeof want);
    wicas_tok_free(t2);
}

static void test_eog(void **state) {
    (void)state;
    assert_true(wicas_tok_is_eog(T, 2));  /* <|im_end|>, the eos id */
    assert_true(wicas_tok_is_eog(T, 0));  /* <|endoftext|> */
    assert_false(wicas_tok_is_eog(T, 1)); /* <|im_start|> */
    assert_false(wicas_tok_is_eog(T, 19556));
    assert_false(wicas_tok_is_eog(T, -5));
    assert_false(wicas_tok_is_eog(T, 1 << 20));
    assert_int_equal(wicas_tok_bos(T), 1);
    assert_int_equal(wicas_tok_eos(T), 2);
    assert_false(wicas_tok_add_bos_default(T));
    assert_int_equal(wicas_tok_n_vocab(T), 49152);
}

static void test_chat(void **state) {
    (void)state;
    assert_int_equal(wicas_tok_chat_style(T), WICAS_CHAT_CHATML);
    char out[1024];
    size_t n;
    /* no system message: SmolLM2's template inserts its default one */
    wicas_chat_msg m1[] = {{"user", "What is 2+2?"}};
    assert_int_equal(wicas_tok_apply_chat(T, m1, 1, true, out, sizeof out, &n), 0);
    const char *want1 = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                        "Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        "<|im_start|>assistant\n";
    assert_int_equal(n, strlen(want1));
    assert_memory_equal(out, want1, n);
    /* with a system message and a finished exchange, no generation prompt */
    wicas_chat_msg m2[] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}};
    assert_int_equal(wicas_tok_apply_chat(T, m2, 3, false, out, sizeof out, &n), 0);
    const char *want2 = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        "<|im_start|>assistant\nHello!<|im_end|>\n";
    assert_int_equal(n, strlen(want2));
    assert_memory_equal(out, want2, n);
    /* the formatted prompt tokenizes with the markers as single ids */
    int32_t ids[64];
    size_t k;
    assert_int_equal(wicas_tok_encode(T, out, n, false, true, ids, 64, &k), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[k - 2], 2);
    assert_int_equal(ids[k - 1], 198);
    /* errors: bad role, short buffer (size reported) */
    wicas_chat_msg bad[] = {{"robot", "x"}};
    assert_int_equal(wicas_tok_apply_chat(T, bad, 1, true, out, sizeof out, &n), WICAS_TOK_ETEMPLATE);
    wicas_chat_msg nul[] = {{"user", NULL}};
    assert_int_equal(wicas_tok_apply_chat(T, nul, 1, true, out, sizeof out, &n), WICAS_TOK_ETEMPLATE);
    assert_int_equal(wicas_tok_apply_chat(T, m1, 1, true, out, 10, &n), WICAS_TOK_ENOSPC);
    assert_int_equal(n, strlen(want1));
}

static void test_random_bytes(void **state) {
    (void)state;
    /* seeded random byte strings (raw, and mostly-ASCII with '<|' runs):
     * never a crash, and every byte that has a token comes back in order */
    uint32_t x = 777;
    static const uint8_t dropped[] = {0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2};
    for (int k = 0; k < 3000; k++) {
        char text[128], keep[128];
        size_t len = (size_t)(k % 128), nk = 0;
        for (size_t i = 0; i < len; i++) {
            x = x * 1664525u + 1013904223u;
            uint8_t b = (uint8_t)(x >> 24);
            if (k & 1) b = (x >> 20) % 5 == 0 ? (uint8_t) "<|>'\n"[(x >> 8) % 5] : (uint8_t)(b & 0x7f);
            text[i] = (char)b;
            bool drop = b >= 0xF5;
            for (size_t j = 0; j < sizeof dropped; j++)
                drop |= b == dropped[j];
            if (!drop) keep[nk++] = (char)b;
        }
        int32_t ids[256];
        size_t n;
        assert_int_equal(wicas_tok_encode(T, text, len, false, false, ids, 256, &n), 0);
        char back[256];
        size_t o = 0, pn;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(wicas_tok_piece(T, ids[i], back + o, sizeof back - o, &pn), 0);
            o += pn;
        }
        assert_int_equal(o, nk);
        assert_memory_equal(back, keep, nk);
        /* with parse_special too: must not fail */
        assert_int_equal(wicas_tok_encode(T, text, len, true, true, ids, 256, &n), 0);
    }
}

static void test_long_input(void **state) {
    (void)state;
    /* a megabyte-long single word must not be quadratic (heap-driven merges) */
    size_t len = 1 << 20;
    char *s = malloc(len);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + (i * 7 % 26 < 3 ? 0 : i % 3));
    roundtrip(s, len);
    memset(s, 'a', len);
    roundtrip(s, len);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_ids),
        cmocka_unit_test(test_hf_reference_file),
        cmocka_unit_test(test_special_tokens),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_buffer_and_errors),
        cmocka_unit_test(test_eog),
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_long_input),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

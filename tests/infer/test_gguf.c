/*
 * test_gguf.c — the GGUF reader accepts valid files and rejects malformed
 * ones with a message, never crashing: generated models (v2 and v3), the
 * default model, every truncation of a small file, thousands of bit flips,
 * and hand-made files with bad magic/version/counts/lengths/offsets/types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"
#include "gguf.h"
#include "infer.h"

static const char *g_dir;

static uint8_t *load(const char *name, size_t *n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    uint8_t *b = wicas_read_file(p, (size_t)1 << 30, n);
    if (!b) fail_msg("cannot read %s", p);
    return b;
}

static void valid_generated(void **st) {
    (void)st;
    const char *names[] = {"q4_1.gguf", "q4_0_untied.gguf", "q8_0_mha.gguf",
                           "f16.gguf",  "f32_untied.gguf",  "bf16.gguf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[1024], err[512];
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        gguf_file f;
        int rc = wicas_gguf_open(p, &f, err, sizeof err);
        if (rc) fail_msg("%s: %s", names[i], err);
        assert_int_equal(f.version, strcmp(names[i], "bf16.gguf") == 0 ? 2 : 3);
        assert_int_equal(f.alignment, 32);
        const gguf_tensor *t = wicas_gguf_find_tensor(&f, "token_embd.weight");
        assert_non_null(t);
        assert_int_equal(t->ne[0] % 32, 0);
        assert_int_equal((uintptr_t)(t->data - f.map) % 32, 0);
        uint64_t v;
        assert_true(wicas_gguf_get_u64(&f, "llama.block_count", &v));
        assert_true(v >= 1);
        const gguf_kv *toks = wicas_gguf_find_array(&f, "tokenizer.ggml.tokens", GGUF_T_STRING);
        assert_non_null(toks);
        assert_int_equal(toks->arr_n, 300);
        assert_true(wicas_gguf_str_eq(toks->arr_strs[1], "<s>"));
        wicas_gguf_close(&f);
    }
}

static void default_model_types(void **st) {
    (void)st;
    const char *p = getenv("WICAS_DEFAULT_MODEL");
    if (!p) fail_msg("WICAS_DEFAULT_MODEL not set: set-up provides the default model (missing is a failure)");
    gguf_file f;
    char err[512];
    int rc = wicas_gguf_open(p, &f, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(f.version, 3);
    assert_int_equal(f.n_tensors, 272);
    /* The checked fact behind the kernel choice: token_embd Q8_0, matrices
     * Q4_1, norms F32, no output.weight (tied). */
    int counts[32] = {0};
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        assert_true(f.tensors[i].type < 32);
        counts[f.tensors[i].type]++;
    }
    assert_int_equal(counts[GGML_Q8_0], 1);
    assert_int_equal(counts[GGML_Q4_1], 210);
    assert_int_equal(counts[GGML_F32], 61);
    assert_int_equal(wicas_gguf_find_tensor(&f, "token_embd.weight")->type, GGML_Q8_0);
    assert_null(wicas_gguf_find_tensor(&f, "output.weight"));
    wicas_gguf_close(&f);
}

/* Every prefix of a valid file is rejected with a message (except the whole). */
static void truncations(void **st) {
    (void)st;
    size_t n;
    uint8_t *b = load("f32_untied.gguf", &n);
    /* The metadata part is small: test every prefix there, then sampled
     * prefixes through the tensor data. */
    size_t step = 1;
    for (size_t len = 0; len < n; len += step) {
        if (len > 40000) step = (n / 300) | 1;
        gguf_file f;
        char err[512] = "";
        uint8_t *copy = malloc(len ? len : 1); /* exact-size copy so ASan sees overreads */
        memcpy(copy, b, len);
        int rc = wicas_gguf_parse(copy, len, &f, err, sizeof err);
        if (rc == 0) fail_msg("prefix of %zu / %zu bytes accepted", len, n);
        assert_true(strlen(err) > 0);
        free(copy);
    }
    gguf_file f;
    char err[512];
    assert_int_equal(wicas_gguf_parse(b, n, &f, err, sizeof err), 0);
    wicas_gguf_close(&f);
    free(b);
}

/* Random bit flips: parse must either succeed or fail with a message; when it
 * succeeds every tensor must lie inside the buffer. */
static void bit_flips(void **st) {
    (void)st;
    size_t n;
    uint8_t *b = load("q4_1.gguf", &n);
    uint8_t *c = malloc(n);
    uint64_t s = 12345;
    gguf_file f0;
    char err[512];
    assert_int_equal(wicas_gguf_parse(b, n, &f0, err, sizeof err), 0);
    size_t meta_end = (size_t)f0.data_offset;
    wicas_gguf_close(&f0);
    int rejected = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(c, b, n);
        int flips = 1 + it % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)((s >> 33) % meta_end);
            c[pos] ^= (uint8_t)(1u << ((s >> 20) & 7));
        }
        gguf_file f;
        err[0] = 0;
        int rc = wicas_gguf_parse(c, n, &f, err, sizeof err);
        if (rc != 0) {
            assert_true(strlen(err) > 0);
            rejected++;
            continue;
        }
        for (uint64_t i = 0; i < f.n_tensors; i++) {
            assert_true(f.tensors[i].data >= c && f.tensors[i].data + f.tensors[i].n_bytes <= c + n);
        }
        wicas_gguf_close(&f);
    }
    assert_true(rejected > 100); /* most header damage must be noticed */
    free(c);
    free(b);
}

/* ---- hand-made files ------------------------------------------------------------ */
typedef struct {
    uint8_t p[4096];
    size_t n;
} mk;
static void u32(mk *m, uint32_t v) {
    memcpy(m->p + m->n, &v, 4);
    m->n += 4;
}
static void u64(mk *m, uint64_t v) {
    memcpy(m->p + m->n, &v, 8);
    m->n += 8;
}
static void str(mk *m, const char *s) {
    u64(m, strlen(s));
    memcpy(m->p + m->n, s, strlen(s));
    m->n += strlen(s);
}
static void pad(mk *m, size_t a) {
    while (m->n % a)
        m->p[m->n++] = 0;
}

static void expect_fail(mk *m, int want_rc, const char *needle) {
    gguf_file f;
    char err[512] = "";
    int rc = wicas_gguf_parse(m->p, m->n, &f, err, sizeof err);
    if (rc != want_rc) fail_msg("rc %d (want %d), err '%s'", rc, want_rc, err);
    if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* A minimal valid file: one key, one F32 tensor of 8 elements. */
static void base(mk *m, uint32_t version, uint64_t nt, uint64_t nkv) {
    m->n = 0;
    u32(m, 0x46554747u);
    u32(m, version);
    u64(m, nt);
    u64(m, nkv);
}

static void handmade(void **st) {
    (void)st;
    mk m;
    gguf_file f;
    char err[512];
    /* valid */
    base(&m, 3, 1, 1);
    str(&m, "general.architecture");
    u32(&m, 8);
    str(&m, "llama");
    str(&m, "t");
    u32(&m, 2);
    u64(&m, 4);
    u64(&m, 2);
    u32(&m, 0);
    u64(&m, 0);
    pad(&m, 32);
    for (int i = 0; i < 8; i++)
        u32(&m, 0x3f800000u);
    assert_int_equal(wicas_gguf_parse(m.p, m.n, &f, err, sizeof err), 0);
    assert_int_equal(f.tensors[0].n_bytes, 32);
    assert_int_equal(f.tensors[0].n_elems, 8);
    wicas_gguf_close(&f);
    mk good = m;

    m = good;
    m.p[0] = 'X';
    expect_fail(&m, WICAS_INFER_EFORMAT, "magic");
    m = good;
    m.p[4] = 1;
    expect_fail(&m, WICAS_INFER_EUNSUPPORTED, "version 1");
    m = good;
    m.p[4] = 4;
    expect_fail(&m, WICAS_INFER_EUNSUPPORTED, "version 4");
    m = good;
    memset(m.p + 8, 0xff, 8); /* tensor count 2^64-1 */
    expect_fail(&m, WICAS_INFER_EFORMAT, "tensor count");
    m = good;
    memset(m.p + 16, 0x7f, 8);
    expect_fail(&m, WICAS_INFER_EFORMAT, "metadata count");
    m = good;
    memset(m.p + 24, 0xff, 8); /* key length huge */
    expect_fail(&m, WICAS_INFER_EFORMAT, "key 0");
    m = good;
    m.p[24 + 8 + 20] = 77; /* value type */
    expect_fail(&m, WICAS_INFER_EFORMAT, "unknown value type 77");
    size_t vlen = 24 + 8 + 20 + 4; /* string length of the value */
    m = good;
    m.p[vlen] = 200;
    expect_fail(&m, WICAS_INFER_EFORMAT, "general.architecture");
    size_t tinfo = vlen + 8 + 5; /* tensor descriptor */
    size_t ndims = tinfo + 8 + 1;
    m = good;
    m.p[ndims] = 5;
    expect_fail(&m, WICAS_INFER_EFORMAT, "5 dimensions");
    m = good;
    memset(m.p + ndims + 4, 0xff, 8); /* dim overflow */
    expect_fail(&m, WICAS_INFER_EFORMAT, "overflows");
    m = good;
    memset(m.p + ndims + 4, 0, 8); /* zero dim */
    expect_fail(&m, WICAS_INFER_EFORMAT, "dimension 0");
    size_t ttype = ndims + 4 + 16;
    m = good;
    m.p[ttype] = 99;
    expect_fail(&m, WICAS_INFER_EFORMAT, "unknown tensor type 99");
    m = good;
    m.p[ttype] = GGML_Q4_0; /* 8 elements not a multiple of 32 */
    expect_fail(&m, WICAS_INFER_EFORMAT, "not a multiple");
    size_t toff = ttype + 4;
    m = good;
    m.p[toff] = 4; /* misaligned offset */
    expect_fail(&m, WICAS_INFER_EFORMAT, "alignment");
    m = good;
    m.p[toff] = 64; /* past the end */
    expect_fail(&m, WICAS_INFER_EFORMAT, "past the end");
    m = good;
    memset(m.p + toff, 0xe0, 8); /* offset near 2^64: overflow-safe check */
    expect_fail(&m, WICAS_INFER_EFORMAT, "past the end");

    /* duplicate key */
    base(&m, 3, 0, 2);
    str(&m, "a");
    u32(&m, 4);
    u32(&m, 1);
    str(&m, "a");
    u32(&m, 4);
    u32(&m, 2);
    expect_fail(&m, WICAS_INFER_EFORMAT, "duplicate metadata key 'a'");
    /* bad alignment value */
    base(&m, 3, 0, 1);
    str(&m, "general.alignment");
    u32(&m, 4);
    u32(&m, 48);
    expect_fail(&m, WICAS_INFER_EFORMAT, "general.alignment");
    /* bool out of range */
    base(&m, 3, 0, 1);
    str(&m, "b");
    u32(&m, 7);
    m.p[m.n++] = 2;
    expect_fail(&m, WICAS_INFER_EFORMAT, "bool");
    /* array: nested, huge count */
    base(&m, 3, 0, 1);
    str(&m, "arr");
    u32(&m, 9);
    u32(&m, 9);
    u64(&m, 1);
    expect_fail(&m, WICAS_INFER_EFORMAT, "array element type");
    base(&m, 3, 0, 1);
    str(&m, "arr");
    u32(&m, 9);
    u32(&m, 6);
    u64(&m, (uint64_t)1 << 61);
    expect_fail(&m, WICAS_INFER_EFORMAT, "exceeds the file");
    base(&m, 3, 0, 1);
    str(&m, "arr");
    u32(&m, 9);
    u32(&m, 8);
    u64(&m, (uint64_t)1 << 40);
    expect_fail(&m, WICAS_INFER_EFORMAT, "exceeds the file");
    /* v2 valid with an empty tensor list */
    base(&m, 2, 0, 1);
    str(&m, "k");
    u32(&m, 12);
    u64(&m, 0x3ff0000000000000ull);
    assert_int_equal(wicas_gguf_parse(m.p, m.n, &f, err, sizeof err), 0);
    double d;
    assert_true(wicas_gguf_get_f64(&f, "k", &d));
    assert_true(d == 1.0);
    wicas_gguf_close(&f);
    /* wicas_gguf_open on a missing file and on a non-GGUF file */
    assert_int_equal(wicas_gguf_open("/nonexistent/x.gguf", &f, err, sizeof err), WICAS_INFER_EIO);
    assert_non_null(strstr(err, "/nonexistent/x.gguf"));
}

/* Model-level validation: a GGUF that is a valid container but not a usable
 * llama model is refused with a message (here: metadata only). */
static void model_level(void **st) {
    (void)st;
    char p[1024], err[512];
    snprintf(p, sizeof p, "%s/minimal_bad.gguf", g_dir);
    mk m;
    base(&m, 3, 0, 1);
    str(&m, "general.architecture");
    u32(&m, 8);
    str(&m, "gpt-neox");
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fwrite(m.p, 1, m.n, fp);
    fclose(fp);
    wicas_infer_model *mod = NULL;
    assert_int_equal(wicas_infer_model_load(p, NULL, NULL, &mod, err, sizeof err), WICAS_INFER_EUNSUPPORTED);
    assert_null(mod);
    assert_non_null(strstr(err, "gpt-neox"));
    base(&m, 3, 0, 2);
    str(&m, "general.architecture");
    u32(&m, 8);
    str(&m, "llama");
    str(&m, "llama.block_count");
    u32(&m, 4);
    u32(&m, 2);
    fp = fopen(p, "wb");
    fwrite(m.p, 1, m.n, fp);
    fclose(fp);
    assert_int_equal(wicas_infer_model_load(p, NULL, NULL, &mod, err, sizeof err), WICAS_INFER_EFORMAT);
    assert_non_null(strstr(err, "llama.embedding_length"));
    remove(p);
}

/* Q5_x / k-quant tensors: sizes from the type table, rows that are not whole
 * super-blocks, data past the end, a generated k-quant model's byte counts,
 * and a known-size type the engine does not run (Q8_1) refused at load. */
static void kquant_tensors(void **st) {
    (void)st;
    static const struct {
        uint32_t type, be, bb;
    } K[] = {
        {GGML_Q5_0, 32, 22},   {GGML_Q5_1, 32, 24},     {GGML_Q2_K, 256, 84},  {GGML_Q3_K, 256, 110},
        {GGML_Q4_K, 256, 144}, {GGML_Q5_K, 256, 176},   {GGML_Q6_K, 256, 210}, {GGML_Q8_K, 256, 292},
        {GGML_IQ4_NL, 32, 18}, {GGML_IQ4_XS, 256, 136},
    };
    char err[512];
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        uint32_t be, bb;
        assert_true(wicas_gguf_type_size(K[i].type, &be, &bb));
        assert_int_equal(be, K[i].be);
        assert_int_equal(bb, K[i].bb);
        for (int variant = 0; variant < 3; variant++) {
            /* variant 0: [be*2, 3] valid; 1: row length be+32 (not a whole
             * block for k-quants); 2: one byte of data missing */
            static mk m;
            gguf_file f;
            const uint64_t ne0 = variant == 1 ? K[i].be + 32 : 2 * (uint64_t)K[i].be;
            base(&m, 3, 1, 0);
            str(&m, "w");
            u32(&m, 2);
            u64(&m, ne0);
            u64(&m, 3);
            u32(&m, K[i].type);
            u64(&m, 0);
            pad(&m, 32);
            const size_t nbytes = (size_t)(ne0 / K[i].be) * K[i].bb * 3;
            if (m.n + nbytes > sizeof m.p) fail_msg("buffer");
            memset(m.p + m.n, 0, nbytes);
            m.n += nbytes;
            if (variant == 2) m.n -= 1;
            int rc = wicas_gguf_parse(m.p, m.n, &f, err, sizeof err);
            if (variant == 0) {
                if (rc) fail_msg("%s: %s", wicas_gguf_type_name(K[i].type), err);
                assert_int_equal(f.tensors[0].n_bytes, 6 * K[i].bb);
                wicas_gguf_close(&f);
            } else if (variant == 1 && K[i].be == 256) {
                assert_int_equal(rc, WICAS_INFER_EFORMAT);
                assert_non_null(strstr(err, "not a multiple"));
            } else if (variant == 2) {
                assert_int_equal(rc, WICAS_INFER_EFORMAT);
                assert_non_null(strstr(err, "past the end"));
            } else {
                assert_int_equal(rc, 0);
                wicas_gguf_close(&f);
            }
        }
    }
    /* generated Q4_K_M-like model: every matrix's byte count from its type */
    char p[1024];
    snprintf(p, sizeof p, "%s/q4_k_m.gguf", g_dir);
    gguf_file f;
    if (wicas_gguf_open(p, &f, err, sizeof err)) fail_msg("%s", err);
    int seen_k4 = 0, seen_k6 = 0;
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const gguf_tensor *t = &f.tensors[i];
        uint32_t be, bb;
        assert_true(wicas_gguf_type_size(t->type, &be, &bb));
        assert_int_equal(t->n_bytes, t->n_elems / be * bb);
        seen_k4 += t->type == GGML_Q4_K;
        seen_k6 += t->type == GGML_Q6_K;
    }
    assert_true(seen_k4 > 0 && seen_k6 > 0);
    wicas_gguf_close(&f);
    /* a model whose matrix is Q8_1 (sized, but no kernel): refused by name */
    FILE *in = fopen(p, "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, in), (size_t)n);
    fclose(in);
    /* the first Q4_K tensor descriptor: name "blk.0.attn_q.weight", then
     * n_dims, two dims, type; Q8_1 has 36-byte blocks of 32, so a 256-wide
     * row needs 288 bytes instead of 144 and the file is too short, or, with
     * the data there, is refused by the model loader: either way a clear
     * error and no model */
    const char *nm = "blk.0.attn_q.weight";
    uint8_t *at = memmem(buf, (size_t)n, nm, strlen(nm));
    assert_non_null(at);
    uint32_t q81 = GGML_Q8_1;
    memcpy(at + strlen(nm) + 4 + 16, &q81, 4);
    snprintf(p, sizeof p, "%s/q8_1_bad.gguf", g_dir);
    FILE *out = fopen(p, "wb");
    assert_non_null(out);
    fwrite(buf, 1, (size_t)n, out);
    fclose(out);
    free(buf);
    wicas_infer_model *mod = NULL;
    int rc = wicas_infer_model_load(p, NULL, NULL, &mod, err, sizeof err);
    assert_true(rc == WICAS_INFER_EUNSUPPORTED || rc == WICAS_INFER_EFORMAT);
    assert_null(mod);
    printf("Q8_1 matrix: %s\n", err);
    assert_true(strstr(err, "Q8_1") || strstr(err, "overlap") || strstr(err, "past the end"));
    remove(p);
}

int main(int argc, char **argv) {
    g_dir = argc > 1 ? argv[1] : ".";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_generated), cmocka_unit_test(default_model_types),
        cmocka_unit_test(truncations),     cmocka_unit_test(bit_flips),
        cmocka_unit_test(handmade),        cmocka_unit_test(model_level),
        cmocka_unit_test(kquant_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

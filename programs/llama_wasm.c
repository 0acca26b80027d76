/*
 * llama_wasm.c — a whole llama-family inference engine in one C file, compiled
 * to wasm32-wasi: the portability demo. It needs nothing from the host but a
 * file system: it reads a GGUF model from the read-only /models preopen,
 * parses it with its own compact reader, and runs the transformer entirely
 * inside wasm (f32 math; quantised weights multiplied block by block with
 * int8-quantised activations in SIMD128 integer dot products), printing the generated text to stdout.
 *
 *   llama_wasm [-m /models/model.gguf] [-n TOKENS] [--ids 1,2,3] [PROMPT...]
 *
 * With a GPT-2-style byte-level BPE vocabulary (SmolLM2 and friends) the
 * prompt is tokenized here (a simplified GPT-2 pre-tokenizer, BPE merges by
 * rank, <|...|> special tokens recognised) and the answer decoded to text.
 * With --ids the prompt is token ids and the output is "id id id ..." — for
 * models with other vocabularies, such as the tests' generated ones.
 * Decoding is greedy, so output is a pure function of the model and prompt.
 *
 * Shaped like llama2.c's run.c: a config, the weights (pointers into the file
 * image), a run state with the KV cache, and a forward() that follows the
 * math step by step. Weight formats: F32, F16, Q8_0, Q4_0, Q4_1.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "llama_wasm: %s%s\n", msg, arg ? arg : "");
    exit(1);
}

/* ---- GGUF ------------------------------------------------------------------------------
 * Little-endian: "GGUF", version (2|3), n_tensors u64, n_kv u64, then the
 * key/value pairs, the tensor infos, padding to the alignment, tensor data. */
enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 };
enum { G_F32 = 0, G_F16 = 1, G_Q4_0 = 2, G_Q4_1 = 3, G_Q8_0 = 8 };

typedef struct {
    const uint8_t *p;
    uint64_t n;
} str_t;
typedef struct {
    str_t name;
    uint32_t type;
    uint64_t ne[4];
    uint32_t nd;
    uint64_t off;
    const uint8_t *data;
} tensor_t;

typedef struct {
    const uint8_t *buf;
    size_t len, pos;
} reader;

static void need(reader *r, uint64_t n) {
    if (n > r->len - r->pos) die("truncated or malformed GGUF", NULL);
}
static uint64_t rd(reader *r, int bytes) {
    need(r, (uint64_t)bytes);
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->buf[r->pos + i] << (8 * i);
    r->pos += (size_t)bytes;
    return v;
}
static str_t rd_str(reader *r) {
    uint64_t n = rd(r, 8);
    need(r, n);
    str_t s = {r->buf + r->pos, n};
    r->pos += (size_t)n;
    return s;
}
static const int SCALAR_SIZE[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static void skip_value(reader *r, uint32_t type) {
    if (type == T_STR) {
        rd_str(r);
    } else if (type == T_ARR) {
        uint32_t et = (uint32_t)rd(r, 4);
        uint64_t n = rd(r, 8);
        if (et > T_F64) die("bad GGUF array type", NULL);
        if (et == T_STR || et == T_ARR)
            for (uint64_t i = 0; i < n; i++)
                skip_value(r, et);
        else {
            if (n > r->len) die("bad GGUF array length", NULL);
            need(r, n * (uint64_t)SCALAR_SIZE[et]);
            r->pos += (size_t)(n * (uint64_t)SCALAR_SIZE[et]);
        }
    } else if (type <= T_F64) {
        need(r, (uint64_t)SCALAR_SIZE[type]);
        r->pos += (size_t)SCALAR_SIZE[type];
    } else {
        die("bad GGUF value type", NULL);
    }
}

static int str_is(str_t s, const char *c) {
    return s.n == strlen(c) && memcmp(s.p, c, s.n) == 0;
}

/* ---- the model -------------------------------------------------------------------------- */
typedef struct {
    int n_layers, dim, ff, n_heads, n_kv_heads, head_dim, vocab, seq_len;
    float rope_base, eps;
    int bos, eos, eot, add_bos;
} config_t;

typedef struct {
    const tensor_t *embd, *out_norm, *output;
    const tensor_t **attn_norm, **wq, **wk, **wv, **wo, **ffn_norm, **w1, **w2,
        **w3; /* w1 gate, w3 up, w2 down */
} weights_t;

static struct {
    uint8_t *image;
    size_t size;
    tensor_t *tensors;
    uint64_t n_tensors;
    config_t c;
    weights_t w;
    /* tokenizer */
    str_t *vocab;
    uint64_t n_vocab;
    str_t *merges;
    uint64_t n_merges;
    int32_t *token_type;
} M;

static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 0) {
        if (man == 0)
            bits = sign;
        else { /* subnormal: renormalise */
            exp = 127 - 15 + 1;
            while (!(man & 1024)) {
                man <<= 1;
                exp--;
            }
            bits = sign | exp << 23 | (man & 1023) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static size_t row_bytes(uint32_t type, uint64_t n) {
    switch (type) {
    case G_F32:
        return (size_t)n * 4;
    case G_F16:
        return (size_t)n * 2;
    case G_Q4_0:
        return (size_t)n / 32 * 18;
    case G_Q4_1:
        return (size_t)n / 32 * 20;
    case G_Q8_0:
        return (size_t)n / 32 * 34;
    default:
        return 0;
    }
}

static const tensor_t *find_tensor(const char *name, int required) {
    for (uint64_t i = 0; i < M.n_tensors; i++)
        if (str_is(M.tensors[i].name, name)) return &M.tensors[i];
    if (required) die("missing tensor ", name);
    return NULL;
}

/* A matrix [rows][cols] (GGUF ne0 = cols): checks shape and type. */
static const tensor_t *matrix(const char *name, uint64_t cols, uint64_t rows) {
    const tensor_t *t = find_tensor(name, 1);
    if (t->ne[0] != cols || (rows && t->ne[1] != rows) || !row_bytes(t->type, cols) ||
        (t->type != G_F32 && t->type != G_F16 && cols % 32))
        die("bad shape or unsupported type for tensor ", name);
    return t;
}

static void load_model(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open model ", path);
    if (fseek(f, 0, SEEK_END) != 0) die("cannot seek ", path);
    long sz = ftell(f);
    if (sz <= 0) die("empty model ", path);
    rewind(f);
    M.image = malloc((size_t)sz);
    if (!M.image) die("not enough memory for the model (raise the sandbox memory limit)", NULL);
    if (fread(M.image, 1, (size_t)sz, f) != (size_t)sz) die("short read of ", path);
    fclose(f);
    M.size = (size_t)sz;

    reader r = {M.image, M.size, 0};
    if (rd(&r, 4) != 0x46554747u) die("not a GGUF file: ", path);
    uint32_t version = (uint32_t)rd(&r, 4);
    if (version != 2 && version != 3) die("unsupported GGUF version", NULL);
    M.n_tensors = rd(&r, 8);
    uint64_t n_kv = rd(&r, 8);
    if (M.n_tensors > 100000 || n_kv > 100000) die("implausible GGUF counts", NULL);
    config_t *c = &M.c;
    memset(c, 0, sizeof *c);
    c->rope_base = 10000.0f;
    c->eps = 1e-5f;
    c->bos = c->eos = c->eot = -1;
    c->seq_len = 2048;
    uint64_t align = 32;
    for (uint64_t i = 0; i < n_kv; i++) {
        str_t key = rd_str(&r);
        uint32_t type = (uint32_t)rd(&r, 4);
        size_t at = r.pos;
        uint64_t u = 0;
        float fv = 0;
        if (type == T_U32 || type == T_I32)
            u = rd(&r, 4);
        else if (type == T_U64 || type == T_I64)
            u = rd(&r, 8);
        else if (type == T_BOOL || type == T_U8)
            u = rd(&r, 1);
        else if (type == T_F32) {
            uint32_t b = (uint32_t)rd(&r, 4);
            memcpy(&fv, &b, 4);
        } else if (type == T_ARR &&
                   (str_is(key, "tokenizer.ggml.tokens") || str_is(key, "tokenizer.ggml.merges"))) {
            uint32_t et = (uint32_t)rd(&r, 4);
            uint64_t n = rd(&r, 8);
            if (et != T_STR || n > 10000000) die("bad tokenizer array", NULL);
            str_t *a = malloc((size_t)(n ? n : 1) * sizeof *a);
            if (!a) die("out of memory", NULL);
            for (uint64_t k = 0; k < n; k++)
                a[k] = rd_str(&r);
            if (str_is(key, "tokenizer.ggml.tokens"))
                M.vocab = a, M.n_vocab = n;
            else
                M.merges = a, M.n_merges = n;
            continue;
        } else if (type == T_ARR && str_is(key, "tokenizer.ggml.token_type")) {
            uint32_t et = (uint32_t)rd(&r, 4);
            uint64_t n = rd(&r, 8);
            if (et != T_I32 || n > 10000000) die("bad token_type array", NULL);
            M.token_type = malloc((size_t)(n ? n : 1) * 4);
            if (!M.token_type) die("out of memory", NULL);
            for (uint64_t k = 0; k < n; k++)
                M.token_type[k] = (int32_t)rd(&r, 4);
            continue;
        } else {
            skip_value(&r, type);
            continue;
        }
        (void)at;
        if (str_is(key, "llama.block_count"))
            c->n_layers = (int)u;
        else if (str_is(key, "llama.embedding_length"))
            c->dim = (int)u;
        else if (str_is(key, "llama.feed_forward_length"))
            c->ff = (int)u;
        else if (str_is(key, "llama.attention.head_count"))
            c->n_heads = (int)u;
        else if (str_is(key, "llama.attention.head_count_kv"))
            c->n_kv_heads = (int)u;
        else if (str_is(key, "llama.context_length"))
            c->seq_len = (int)u;
        else if (str_is(key, "llama.rope.freq_base"))
            c->rope_base = fv;
        else if (str_is(key, "llama.attention.layer_norm_rms_epsilon"))
            c->eps = fv;
        else if (str_is(key, "tokenizer.ggml.bos_token_id"))
            c->bos = (int)u;
        else if (str_is(key, "tokenizer.ggml.eos_token_id"))
            c->eos = (int)u;
        else if (str_is(key, "tokenizer.ggml.eot_token_id"))
            c->eot = (int)u;
        else if (str_is(key, "tokenizer.ggml.add_bos_token"))
            c->add_bos = (int)u;
        else if (str_is(key, "general.alignment"))
            align = u;
    }
    if (c->n_kv_heads == 0) c->n_kv_heads = c->n_heads;
    if (c->n_layers <= 0 || c->dim <= 0 || c->ff <= 0 || c->n_heads <= 0 || c->dim % c->n_heads ||
        c->n_heads % c->n_kv_heads || c->n_layers > 1000 || !M.n_vocab)
        die("missing or inconsistent llama metadata", NULL);
    c->head_dim = c->dim / c->n_heads;
    c->vocab = (int)M.n_vocab;
    if (c->seq_len > 4096) c->seq_len = 4096;
    if (align == 0 || (align & (align - 1))) die("bad alignment", NULL);

    M.tensors = calloc((size_t)M.n_tensors, sizeof *M.tensors);
    if (!M.tensors) die("out of memory", NULL);
    for (uint64_t i = 0; i < M.n_tensors; i++) {
        tensor_t *t = &M.tensors[i];
        t->name = rd_str(&r);
        t->nd = (uint32_t)rd(&r, 4);
        if (t->nd < 1 || t->nd > 4) die("bad tensor rank", NULL);
        for (int d = 0; d < 4; d++)
            t->ne[d] = 1;
        for (uint32_t d = 0; d < t->nd; d++)
            t->ne[d] = rd(&r, 8);
        t->type = (uint32_t)rd(&r, 4);
        t->off = rd(&r, 8);
    }
    size_t data = (r.pos + (size_t)align - 1) & ~((size_t)align - 1);
    for (uint64_t i = 0; i < M.n_tensors; i++) {
        tensor_t *t = &M.tensors[i];
        if (t->ne[0] == 0 || t->ne[0] > (1u << 24) || t->ne[1] > (1u << 24) || t->ne[2] != 1 || t->ne[3] != 1)
            continue;
        size_t rb = row_bytes(t->type, t->ne[0]);
        uint64_t bytes = (uint64_t)rb * t->ne[1];
        if (t->off > M.size || data > M.size - t->off || bytes > M.size - data - t->off)
            die("tensor outside the file", NULL);
        t->data = M.image + data + t->off;
    }

    /* weights */
    weights_t *w = &M.w;
    int L = c->n_layers, kvd = c->n_kv_heads * c->head_dim;
    w->embd = matrix("token_embd.weight", (uint64_t)c->dim, (uint64_t)c->vocab);
    w->out_norm = matrix("output_norm.weight", (uint64_t)c->dim, 1);
    w->output = find_tensor("output.weight", 0);
    if (w->output)
        w->output = matrix("output.weight", (uint64_t)c->dim, (uint64_t)c->vocab);
    else
        w->output = w->embd; /* tied embeddings */
    const tensor_t ***lists[] = {&w->attn_norm, &w->wq, &w->wk, &w->wv, &w->wo,
                                 &w->ffn_norm,  &w->w1, &w->w2, &w->w3};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        *lists[k] = calloc((size_t)L, sizeof(tensor_t *));
        if (!*lists[k]) die("out of memory", NULL);
    }
    char name[96];
#define LAYER(field, suffix, cols, rows)                                                                     \
    snprintf(name, sizeof name, "blk.%d." suffix ".weight", l),                                              \
        w->field[l] = matrix(name, (uint64_t)(cols), (uint64_t)(rows))
    for (int l = 0; l < L; l++) {
        LAYER(attn_norm, "attn_norm", c->dim, 1);
        LAYER(wq, "attn_q", c->dim, c->dim);
        LAYER(wk, "attn_k", c->dim, kvd);
        LAYER(wv, "attn_v", c->dim, kvd);
        LAYER(wo, "attn_output", c->dim, c->dim);
        LAYER(ffn_norm, "ffn_norm", c->dim, 1);
        LAYER(w1, "ffn_gate", c->dim, c->ff);
        LAYER(w3, "ffn_up", c->dim, c->ff);
        LAYER(w2, "ffn_down", c->ff, c->dim);
    }
#undef LAYER
    if (w->out_norm->type != G_F32) die("output_norm must be F32", NULL);
    for (int l = 0; l < L; l++)
        if (w->attn_norm[l]->type != G_F32 || w->ffn_norm[l]->type != G_F32) die("norms must be F32", NULL);
}

/* ---- kernels ------------------------------------------------------------------------------ */

/* Dequantises row r of tensor t (n values) into out. */
static void dequant_block(uint32_t type, const uint8_t *b, float *out) {
    switch (type) {
    case G_Q4_0: {
        float d = f16_to_f32((uint16_t)(b[0] | b[1] << 8));
        for (int j = 0; j < 16; j++) {
            out[j] = (float)((b[2 + j] & 15) - 8) * d;
            out[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
        break;
    }
    case G_Q4_1: {
        float d = f16_to_f32((uint16_t)(b[0] | b[1] << 8)), m = f16_to_f32((uint16_t)(b[2] | b[3] << 8));
        for (int j = 0; j < 16; j++) {
            out[j] = (float)(b[4 + j] & 15) * d + m;
            out[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
        break;
    }
    case G_Q8_0: {
        float d = f16_to_f32((uint16_t)(b[0] | b[1] << 8));
        for (int j = 0; j < 32; j++)
            out[j] = (float)(int8_t)b[2 + j] * d;
        break;
    }
    }
}

static void dequant_row(const tensor_t *t, uint64_t row, float *out) {
    uint64_t n = t->ne[0];
    const uint8_t *p = t->data + row * row_bytes(t->type, n);
    if (t->type == G_F32) {
        memcpy(out, p, (size_t)n * 4);
    } else if (t->type == G_F16) {
        for (uint64_t i = 0; i < n; i++)
            out[i] = f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else {
        size_t bs = row_bytes(t->type, 32);
        for (uint64_t b = 0; b < n / 32; b++)
            dequant_block(t->type, p + b * bs, out + b * 32);
    }
}

/* Dot product of n floats (n a multiple of 4 with SIMD): four lanes, then the
 * lanes summed in a fixed order. */
static float dot(const float *a, const float *b, int n) {
#ifdef __wasm_simd128__
    if ((n & 3) == 0) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < n; i += 4)
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        return (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
               (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
    }
#endif
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* f16 -> f32 through a table built once (65536 entries). */
static float f16_table[65536];
static void init_f16_table(void) {
    for (uint32_t i = 0; i < 65536; i++)
        f16_table[i] = f16_to_f32((uint16_t)i);
}
#define F16(p) f16_table[(uint16_t)((p)[0] | (p)[1] << 8)]

/* The activations of a quantised matmul are quantised too, per block of 32,
 * to int8 with one scale (xq = round(x / dx), dx = max|x| / 127), as
 * llama.cpp's Q8 path does; then a block's dot product is an exact integer
 * sum s = sum(q * xq) and
 *   Q4_0: d * dx * s (q - 8 in place of q)   Q8_0: d * dx * s
 *   Q4_1: d * dx * s + m * sum(x)            (sum(x) over the block, exact f32)
 * With SIMD128, 8 int16 products per i32x4.dot_i16x8. */
typedef struct {
    int8_t q[32];
    float d, sum;
} xblock;
static xblock xq[1 << 11];

static void quantize_x(const float *x, int n) {
    for (int b = 0; b < n / 32; b++) {
        const float *v = x + b * 32;
        float amax = 0, sum = 0;
        for (int j = 0; j < 32; j++) {
            float a = fabsf(v[j]);
            if (a > amax) amax = a;
            sum += v[j];
        }
        float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < 32; j++)
            xq[b].q[j] = (int8_t)nearbyintf(v[j] * id);
        xq[b].d = d;
        xq[b].sum = sum;
    }
}

static float block_dot(uint32_t type, const uint8_t *b, const xblock *x) {
    int32_t s;
#ifdef __wasm_simd128__
    v128_t wl, wh; /* weights 0..15 and 16..31 as int8 */
    if (type == G_Q8_0) {
        wl = wasm_v128_load(b + 2);
        wh = wasm_v128_load(b + 18);
    } else {
        v128_t raw = wasm_v128_load(b + (type == G_Q4_1 ? 4 : 2));
        wl = wasm_v128_and(raw, wasm_i8x16_splat(15));
        wh = wasm_u8x16_shr(raw, 4);
        if (type == G_Q4_0) {
            wl = wasm_i8x16_sub(wl, wasm_i8x16_splat(8));
            wh = wasm_i8x16_sub(wh, wasm_i8x16_splat(8));
        }
    }
    v128_t xl = wasm_v128_load(x->q), xh = wasm_v128_load(x->q + 16);
    v128_t acc = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(wl), wasm_i16x8_extend_low_i8x16(xl));
    acc = wasm_i32x4_add(
        acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(wl), wasm_i16x8_extend_high_i8x16(xl)));
    acc = wasm_i32x4_add(
        acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(wh), wasm_i16x8_extend_low_i8x16(xh)));
    acc = wasm_i32x4_add(
        acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(wh), wasm_i16x8_extend_high_i8x16(xh)));
    s = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
        wasm_i32x4_extract_lane(acc, 3);
#else
    s = 0;
    if (type == G_Q8_0) {
        for (int j = 0; j < 32; j++)
            s += (int8_t)b[2 + j] * x->q[j];
    } else {
        const uint8_t *qs = b + (type == G_Q4_1 ? 4 : 2);
        int off = type == G_Q4_0 ? 8 : 0;
        for (int j = 0; j < 16; j++)
            s += ((qs[j] & 15) - off) * x->q[j] + ((qs[j] >> 4) - off) * x->q[j + 16];
    }
#endif
    float d = F16(b);
    if (type == G_Q4_1) return d * x->d * (float)s + F16(b + 2) * x->sum;
    return d * x->d * (float)s;
}

/* out[rows] = W x, one row at a time. */
static float scratch_row[1 << 16];
static void matmul(float *out, const float *x, const tensor_t *w, int cols, int rows) {
    if (w->type == G_F32) {
        for (int r = 0; r < rows; r++)
            out[r] = dot((const float *)(const void *)(w->data + (size_t)r * cols * 4), x, cols);
        return;
    }
    if (w->type == G_F16) {
        for (int r = 0; r < rows; r++) {
            dequant_row(w, (uint64_t)r, scratch_row);
            out[r] = dot(scratch_row, x, cols);
        }
        return;
    }
    size_t bs = row_bytes(w->type, 32), rb = row_bytes(w->type, (uint64_t)cols);
    int nb = cols / 32;
    quantize_x(x, cols);
    for (int r = 0; r < rows; r++) {
        const uint8_t *p = w->data + (size_t)r * rb;
        float s = 0;
        for (int b = 0; b < nb; b++)
            s += block_dot(w->type, p + (size_t)b * bs, &xq[b]);
        out[r] = s;
    }
}

static void rmsnorm(float *out, const float *x, const tensor_t *wt, int n, float eps) {
    const float *w = (const float *)(const void *)wt->data;
    float ss = 0;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    float scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++)
        out[i] = x[i] * scale * w[i];
}

static void softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    float sum = 0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

/* ---- forward pass --------------------------------------------------------------------------- */
static struct { float *x, *xb, *xb2, *hb, *hb2, *q, *k, *v, *att, *logits, *kc, *vc; } S;

static void alloc_state(void) {
    const config_t *c = &M.c;
    size_t kvd = (size_t)c->n_kv_heads * c->head_dim, cache = (size_t)c->n_layers * c->seq_len * kvd;
    S.x = calloc((size_t)c->dim, 4);
    S.xb = calloc((size_t)c->dim, 4);
    S.xb2 = calloc((size_t)c->dim, 4);
    S.hb = calloc((size_t)c->ff, 4);
    S.hb2 = calloc((size_t)c->ff, 4);
    S.q = calloc((size_t)c->dim, 4);
    S.k = calloc(kvd, 4);
    S.v = calloc(kvd, 4);
    S.att = calloc((size_t)c->seq_len, 4);
    S.logits = calloc((size_t)c->vocab, 4);
    S.kc = calloc(cache, 4);
    S.vc = calloc(cache, 4);
    if (!S.x || !S.xb || !S.xb2 || !S.hb || !S.hb2 || !S.q || !S.k || !S.v || !S.att || !S.logits || !S.kc ||
        !S.vc)
        die("not enough memory for the KV cache (raise the sandbox memory limit)", NULL);
    if (c->dim > (1 << 16) || c->ff > (1 << 16)) die("model too wide", NULL);
    init_f16_table();
}

/* RoPE on adjacent pairs (the GGUF llama layout): pair (2i, 2i+1) of each head
 * turns by pos * base^(-2i/head_dim). */
static void rope(float *v, int n_heads, int head_dim, int pos, float base) {
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < head_dim; i += 2) {
            float theta = (float)pos * powf(base, -(float)i / (float)head_dim);
            float cs = cosf(theta), sn = sinf(theta);
            float *p = v + h * head_dim + i, a = p[0], b = p[1];
            p[0] = a * cs - b * sn;
            p[1] = a * sn + b * cs;
        }
}

static float *forward(int token, int pos) {
    const config_t *c = &M.c;
    const weights_t *w = &M.w;
    int dim = c->dim, hd = c->head_dim, kvd = c->n_kv_heads * hd, group = c->n_heads / c->n_kv_heads;
    dequant_row(w->embd, (uint64_t)token, S.x);
    for (int l = 0; l < c->n_layers; l++) {
        /* attention */
        rmsnorm(S.xb, S.x, w->attn_norm[l], dim, c->eps);
        matmul(S.q, S.xb, w->wq[l], dim, dim);
        matmul(S.k, S.xb, w->wk[l], dim, kvd);
        matmul(S.v, S.xb, w->wv[l], dim, kvd);
        rope(S.q, c->n_heads, hd, pos, c->rope_base);
        rope(S.k, c->n_kv_heads, hd, pos, c->rope_base);
        size_t lo = (size_t)l * c->seq_len * kvd;
        memcpy(S.kc + lo + (size_t)pos * kvd, S.k, (size_t)kvd * 4);
        memcpy(S.vc + lo + (size_t)pos * kvd, S.v, (size_t)kvd * 4);
        for (int h = 0; h < c->n_heads; h++) {
            const float *q = S.q + h * hd;
            int kh = h / group;
            for (int t = 0; t <= pos; t++)
                S.att[t] = dot(q, S.kc + lo + (size_t)t * kvd + kh * hd, hd) / sqrtf((float)hd);
            softmax(S.att, pos + 1);
            float *o = S.xb + h * hd;
            memset(o, 0, (size_t)hd * 4);
            for (int t = 0; t <= pos; t++) {
                const float *v = S.vc + lo + (size_t)t * kvd + kh * hd;
                for (int i = 0; i < hd; i++)
                    o[i] += S.att[t] * v[i];
            }
        }
        matmul(S.xb2, S.xb, w->wo[l], dim, dim);
        for (int i = 0; i < dim; i++)
            S.x[i] += S.xb2[i];
        /* SwiGLU feed-forward: down(silu(gate x) * up x) */
        rmsnorm(S.xb, S.x, w->ffn_norm[l], dim, c->eps);
        matmul(S.hb, S.xb, w->w1[l], dim, c->ff);
        matmul(S.hb2, S.xb, w->w3[l], dim, c->ff);
        for (int i = 0; i < c->ff; i++) {
            float g = S.hb[i];
            S.hb[i] = g / (1.0f + expf(-g)) * S.hb2[i];
        }
        matmul(S.xb, S.hb, w->w2[l], c->ff, dim);
        for (int i = 0; i < dim; i++)
            S.x[i] += S.xb[i];
    }
    rmsnorm(S.x, S.x, w->out_norm, dim, c->eps);
    matmul(S.logits, S.x, w->output, dim, c->vocab);
    return S.logits;
}

/* ---- GPT-2 byte-level BPE -------------------------------------------------------------------
 * Vocabulary strings spell bytes as code points: printable Latin-1 bytes as
 * themselves, the other 68 bytes as U+0100.. in byte order. */
static uint32_t byte_cp[256];
static int cp_byte[512];

static void init_byte_map(void) {
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_cp[b] = keep ? (uint32_t)b : (uint32_t)(256 + n++);
    }
    for (int i = 0; i < 512; i++)
        cp_byte[i] = -1;
    for (int b = 0; b < 256; b++)
        cp_byte[byte_cp[b]] = b;
}

/* Open-addressing hash table from byte strings to ints. */
typedef struct {
    const uint8_t *k;
    uint32_t n;
    int v;
} slot_t;
typedef struct {
    slot_t *s;
    uint32_t cap;
} table_t;

static uint32_t hash(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}
static void tput(table_t *t, const uint8_t *k, uint32_t n, int v) {
    for (uint32_t i = hash(k, n) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->s[i].k) {
            t->s[i].k = k;
            t->s[i].n = n;
            t->s[i].v = v;
            return;
        }
        if (t->s[i].n == n && !memcmp(t->s[i].k, k, n)) return; /* keep the first (lowest id/rank) */
    }
}
static int tget(const table_t *t, const uint8_t *k, size_t n) {
    for (uint32_t i = hash(k, n) & (t->cap - 1); t->s[i].k; i = (i + 1) & (t->cap - 1))
        if (t->s[i].n == n && !memcmp(t->s[i].k, k, n)) return t->s[i].v;
    return -1;
}
static table_t new_table(uint64_t n) {
    table_t t = {NULL, 1024};
    while (t.cap < n * 2)
        t.cap *= 2;
    t.s = calloc(t.cap, sizeof *t.s);
    if (!t.s) die("out of memory", NULL);
    return t;
}

static table_t vocab_t, merge_t;

static int put_utf8(uint8_t *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    o[0] = (uint8_t)(0xC0 | cp >> 6);
    o[1] = (uint8_t)(0x80 | (cp & 63));
    return 2; /* the byte map never goes past U+01FF */
}

/* BPE of one pre-token (raw bytes): symbols start as single mapped bytes; the
 * adjacent pair with the lowest merge rank is merged until none applies. */
static int bpe_word(const uint8_t *w, size_t n, int *out, int cap) {
    enum { MAXS = 512 };
    static uint8_t buf[MAXS][64]; /* static: the wasm stack is small */
    static int len[MAXS];
    int ns = 0, count = 0;
    if (n > MAXS) n = MAXS; /* very long runs: cut (prompts are short) */
    for (size_t i = 0; i < n; i++)
        len[ns] = put_utf8(buf[ns], byte_cp[w[i]]), ns++;
    for (;;) {
        int best = -1, best_rank = 0x7fffffff;
        for (int i = 0; i + 1 < ns; i++) {
            uint8_t key[130];
            if (len[i] + 1 + len[i + 1] > 129) continue;
            memcpy(key, buf[i], (size_t)len[i]);
            key[len[i]] = ' ';
            memcpy(key + len[i] + 1, buf[i + 1], (size_t)len[i + 1]);
            int rank = tget(&merge_t, key, (size_t)(len[i] + 1 + len[i + 1]));
            if (rank >= 0 && rank < best_rank) best_rank = rank, best = i;
        }
        if (best < 0) break;
        if (len[best] + len[best + 1] > 63) break;
        memcpy(buf[best] + len[best], buf[best + 1], (size_t)len[best + 1]);
        len[best] += len[best + 1];
        memmove(buf[best + 1], buf[best + 2], (size_t)(ns - best - 2) * 64);
        memmove(len + best + 1, len + best + 2, (size_t)(ns - best - 2) * sizeof(int));
        ns--;
    }
    for (int i = 0; i < ns && count < cap; i++) {
        int id = tget(&vocab_t, buf[i], (size_t)len[i]);
        if (id < 0) die("a prompt byte has no token", NULL);
        out[count++] = id;
    }
    return count;
}

static int is_letter(uint8_t b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 0x80;
}
static int is_digit(uint8_t b) {
    return b >= '0' && b <= '9';
}
static int is_space(uint8_t b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v';
}

/* Simplified GPT-2 pre-tokenizer: [space]letters, [space]one digit,
 * [space]other symbols, runs of whitespace (the last space of a run joins
 * the next word); special tokens <|...|> are matched whole first. */
static int tokenize(const char *text, int *out, int cap) {
    const uint8_t *s = (const uint8_t *)text;
    size_t n = strlen(text), i = 0;
    int count = 0;
    if (M.c.add_bos && M.c.bos >= 0 && count < cap) out[count++] = M.c.bos;
    while (i < n && count < cap) {
        if (s[i] == '<' && i + 1 < n && s[i + 1] == '|') {
            const uint8_t *e = (const uint8_t *)strstr((const char *)s + i + 2, "|>");
            if (e) {
                int id = tget(&vocab_t, s + i, (size_t)(e + 2 - (s + i)));
                if (id >= 0) {
                    out[count++] = id;
                    i = (size_t)(e + 2 - s);
                    continue;
                }
            }
        }
        size_t j = i;
        if (is_space(s[j])) {
            while (j < n && is_space(s[j]))
                j++;
            /* leave one space for the next word unless the run ends the text or a newline follows */
            if (j < n && j - i > 1 && s[j - 1] == ' ')
                j--;
            else if (j < n && j - i == 1 && s[i] == ' ') {
                j = i + 1;
                goto word;
            }
            count += bpe_word(s + i, j - i, out + count, cap - count);
            i = j;
            continue;
        }
    word:
        if (j < n && is_letter(s[j]))
            while (j < n && is_letter(s[j]))
                j++;
        else if (j < n && is_digit(s[j]))
            j++;
        else
            while (j < n && !is_letter(s[j]) && !is_digit(s[j]) && !is_space(s[j]) &&
                   !(s[j] == '<' && j + 1 < n && s[j + 1] == '|'))
                j++;
        if (j == i) j = i + 1;
        count += bpe_word(s + i, j - i, out + count, cap - count);
        i = j;
    }
    return count;
}

/* Writes the bytes of token id (control tokens print nothing). */
static void print_token(int id) {
    if (M.token_type && M.token_type[id] == 3) return;
    str_t t = M.vocab[id];
    for (uint64_t i = 0; i < t.n;) {
        uint32_t cp = t.p[i];
        int l = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
        if (l == 2 && i + 1 < t.n) cp = (cp & 31) << 6 | (t.p[i + 1] & 63);
        if (cp < 512 && cp_byte[cp] >= 0 && l <= 2)
            putchar(cp_byte[cp]);
        else
            fwrite(t.p + i, 1, (size_t)l, stdout);
        i += (uint64_t)l;
    }
}

/* ---- main ----------------------------------------------------------------------------------- */
int main(int argc, char **argv) {
    const char *model = "/models/model.gguf", *ids = NULL;
    int steps = 16, a = 1;
    for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
        if (!strcmp(argv[a], "-m") && a + 1 < argc)
            model = argv[++a];
        else if (!strcmp(argv[a], "-n") && a + 1 < argc)
            steps = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--ids") && a + 1 < argc)
            ids = argv[++a];
        else if (!strcmp(argv[a], "--")) {
            a++;
            break;
        } else
            die("unknown option ", argv[a]);
    }
    static char prompt[8192];
    size_t pn = 0;
    for (; a < argc; a++)
        pn += (size_t)snprintf(prompt + pn, sizeof prompt - pn, "%s%s", pn ? " " : "", argv[a]);
    if (steps < 1 || steps > 4096) die("-n must be 1..4096", NULL);

    load_model(model);
    alloc_state();
    static int toks[4096];
    int nt = 0;
    if (ids) {
        for (const char *p = ids; *p && nt < 4096;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v >= M.c.vocab) die("bad token id list ", ids);
            toks[nt++] = (int)v;
            p = *end == ',' ? end + 1 : end;
        }
    } else {
        if (!M.merges) die("the model has no BPE merges: use --ids", NULL);
        init_byte_map();
        vocab_t = new_table(M.n_vocab);
        for (uint64_t i = 0; i < M.n_vocab; i++)
            tput(&vocab_t, M.vocab[i].p, (uint32_t)M.vocab[i].n, (int)i);
        merge_t = new_table(M.n_merges);
        for (uint64_t i = 0; i < M.n_merges; i++)
            tput(&merge_t, M.merges[i].p, (uint32_t)M.merges[i].n, (int)i);
        nt = tokenize(prompt, toks, 4096);
    }
    if (nt == 0) die("empty prompt", NULL);
    if (nt + steps > M.c.seq_len) die("prompt + tokens exceed the context", NULL);
    fprintf(stderr, "llama_wasm: %d layers, dim %d, vocab %d; %d prompt tokens\n", M.c.n_layers, M.c.dim,
            M.c.vocab, nt);

    float *logits = NULL;
    for (int i = 0; i < nt; i++)
        logits = forward(toks[i], i);
    int generated = 0;
    for (int s = 0, pos = nt; s < steps; s++, pos++) {
        int best = 0; /* greedy: argmax, ties to the lowest id */
        for (int i = 1; i < M.c.vocab; i++)
            if (logits[i] > logits[best]) best = i;
        if (best == M.c.eos || best == M.c.eot) break;
        if (ids)
            printf("%s%d", s ? " " : "", best);
        else
            print_token(best);
        fflush(stdout);
        generated++;
        if (s + 1 < steps) logits = forward(best, pos);
    }
    putchar('\n');
    fprintf(stderr, "llama_wasm: generated %d tokens\n", generated);
    return 0;
}

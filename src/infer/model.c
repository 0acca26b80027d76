/*
 * model.c — the llama-family transformer: loading the weights from GGUF and
 * the forward pass, in the spirit of llama2.c's run.c (a config struct, a
 * weights struct, a run-state struct, and one forward function that reads
 * top to bottom like the maths).
 *
 * Architectures (general.architecture, keys under "<arch>."): llama (with
 * llama3's RoPE divisors rope_freqs.weight when present); qwen2 (Q/K/V
 * biases, NEOX RoPE pairing); qwen3 (RMSNorm of each q and k head before
 * RoPE); gemma3 (embeddings times sqrt(dim), QK-norm, norms of the attention
 * and FFN outputs before the residual adds, GeGLU with GELU(tanh),
 * sliding-window attention on the layers the pattern names with their own
 * RoPE base, optional final logit soft-capping); phi3 (fused attn_qkv and
 * gate/up tensors, read as row views; NEOX RoPE; its sliding_window key is
 * ignored, as llama.cpp does). Any architecture may carry a fused attn_qkv
 * and Q/K/V biases. The GGUF converter stores Gemma's norm weights with the
 * +1 already added, so every norm is the same RMSNorm. A metadata key under
 * the architecture's prefix that this file does not read, a tensor it does
 * not read, or a RoPE scaling other than linear / llama3 is refused by name
 * rather than ignored. test_llamacpp_quants.sh compares each architecture's
 * logits with llama.cpp's.
 *
 * Determinism: every matrix product goes through the kernels of quant.h
 * (exact integer block sums, one canonical float order); every other
 * reduction (RMSNorm, attention scores, softmax, weighted sums) is plain
 * scalar C with a fixed order, shared by every build; exp, tanh and GELU
 * come from detmath and RoPE angles from wicas_sincos in double. Threads
 * split output rows (or (token, head) pairs for attention), never a sum, so
 * the thread count cannot change a bit.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "detmath.h"

/* ============================================================================
 * Loading
 * ========================================================================== */

static int get_int(const gguf_file *f, const char *key, int def, bool required, int *out, char *err,
                   size_t errlen) {
    uint64_t v;
    if (!wicas_gguf_find(f, key)) {
        if (required) {
            snprintf(err, errlen, "model metadata lacks required key '%s'", key);
            return WICAS_INFER_EFORMAT;
        }
        *out = def;
        return 0;
    }
    if (!wicas_gguf_get_u64(f, key, &v) || v == 0 || v > (1u << 30)) {
        snprintf(err, errlen, "model metadata key '%s' must be a positive integer below 2^30", key);
        return WICAS_INFER_EFORMAT;
    }
    *out = (int)v;
    return 0;
}

/* Finds a 2-D (or 1-D when rows == 1) tensor of the given shape and checks
 * its type is one the kernels handle. */
static int get_mat(const gguf_file *f, uint8_t *used, const char *name, int cols, int rows, bool vector,
                   wmat *w, char *err, size_t errlen) {
    const gguf_tensor *t = wicas_gguf_find_tensor(f, name);
    if (!t) {
        snprintf(err, errlen, "model lacks tensor '%s'", name);
        return WICAS_INFER_EFORMAT;
    }
    used[t - f->tensors] = 1;
    uint64_t want_rows = vector ? 1 : (uint64_t)rows;
    if (t->ne[0] != (uint64_t)cols || t->n_elems != (uint64_t)cols * want_rows) {
        snprintf(err, errlen, "tensor '%s' has shape [%llu, %llu, %llu, %llu], want [%d, %llu]", name,
                 (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                 (unsigned long long)t->ne[3], cols, (unsigned long long)want_rows);
        return WICAS_INFER_EFORMAT;
    }
    bool ok = t->type == GGML_F32 || t->type == GGML_F16 || t->type == GGML_BF16;
    if (!vector)
        ok = ok || t->type == GGML_Q4_0 || t->type == GGML_Q4_1 || t->type == GGML_Q8_0 ||
             wicas_kq_kind((int)t->type) >= 0;
    if (!ok) {
        snprintf(err, errlen, "tensor '%s' has type %s, which this engine does not run (F32, F16, BF16%s)",
                 name, wicas_gguf_type_name(t->type),
                 vector ? "" : ", Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, Q8_K, IQ4_NL, IQ4_XS");
        return WICAS_INFER_EUNSUPPORTED;
    }
    w->type = (int)t->type;
    w->cols = cols;
    w->rows = (int)want_rows;
    w->row_bytes = (size_t)(t->n_bytes / want_rows);
    w->data = t->data;
    return 0;
}

static int get_norm(const gguf_file *f, uint8_t *used, const char *name, int dim, float **out, char *err,
                    size_t errlen) {
    wmat w;
    int rc = get_mat(f, used, name, dim, 1, true, &w, err, errlen);
    if (rc) return rc;
    *out = malloc(sizeof(float) * (size_t)dim);
    if (!*out) return WICAS_INFER_ENOMEM;
    wicas_dequant_row(w.type, w.data, *out, dim);
    return 0;
}

/* Copies a GGUF string array into a wicas_tok_str array. */
static wicas_tok_str *tok_strs(const gguf_kv *kv) {
    wicas_tok_str *s = malloc(sizeof(wicas_tok_str) * (kv->arr_n ? kv->arr_n : 1));
    if (!s) return NULL;
    for (uint64_t i = 0; i < kv->arr_n; i++) {
        s[i].ptr = kv->arr_strs[i].ptr;
        s[i].len = kv->arr_strs[i].len;
    }
    return s;
}

static int build_tokenizer(wicas_infer_model *m, char *err, size_t errlen) {
    const gguf_file *f = &m->gf;
    wicas_tok_config tc;
    memset(&tc, 0, sizeof tc);
    gguf_str s;
    if (!wicas_gguf_get_str(f, "tokenizer.ggml.model", &s)) {
        snprintf(err, errlen, "model metadata lacks 'tokenizer.ggml.model'");
        return WICAS_INFER_EFORMAT;
    }
    if (wicas_gguf_str_eq(s, "gpt2"))
        tc.kind = WICAS_TOK_GPT2;
    else if (wicas_gguf_str_eq(s, "llama"))
        tc.kind = WICAS_TOK_LLAMA;
    else {
        snprintf(err, errlen, "tokenizer.ggml.model '%.*s' is not supported (gpt2, llama)",
                 (int)(s.len > 32 ? 32 : s.len), s.ptr);
        return WICAS_INFER_EUNSUPPORTED;
    }
    if (wicas_gguf_get_str(f, "tokenizer.ggml.pre", &s)) tc.pre = (wicas_tok_str){s.ptr, s.len};
    const gguf_kv *tokens = wicas_gguf_find_array(f, "tokenizer.ggml.tokens", GGUF_T_STRING);
    if (!tokens || tokens->arr_n == 0 || tokens->arr_n != (uint64_t)m->cfg.vocab) {
        snprintf(err, errlen,
                 "tokenizer.ggml.tokens is missing or its length differs from the %d rows of token_embd",
                 m->cfg.vocab);
        return WICAS_INFER_EFORMAT;
    }
    tc.n_vocab = (uint32_t)tokens->arr_n;
    int rc = WICAS_INFER_ENOMEM;
    wicas_tok_str *toks = tok_strs(tokens), *merges = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    if (!toks) goto out;
    tc.tokens = toks;
    const gguf_kv *sc = wicas_gguf_find_array(f, "tokenizer.ggml.scores", GGUF_T_FLOAT32);
    if (sc && sc->arr_n == tokens->arr_n) {
        scores = malloc(sizeof(float) * sc->arr_n);
        if (!scores) goto out;
        memcpy(scores, sc->arr_data, sizeof(float) * sc->arr_n); /* little-endian host assumed */
        tc.scores = scores;
    }
    const gguf_kv *ty = wicas_gguf_find_array(f, "tokenizer.ggml.token_type", GGUF_T_INT32);
    if (ty && ty->arr_n == tokens->arr_n) {
        types = malloc(sizeof(int32_t) * ty->arr_n);
        if (!types) goto out;
        memcpy(types, ty->arr_data, sizeof(int32_t) * ty->arr_n);
        tc.token_types = types;
    }
    const gguf_kv *mg = wicas_gguf_find_array(f, "tokenizer.ggml.merges", GGUF_T_STRING);
    if (mg && mg->arr_n > 0) {
        merges = tok_strs(mg);
        if (!merges) goto out;
        tc.n_merges = (uint32_t)mg->arr_n;
        tc.merges = merges;
    }
    static const struct {
        const char *key;
        size_t off;
    } IDS[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(wicas_tok_config, bos_id)},
        {"tokenizer.ggml.eos_token_id", offsetof(wicas_tok_config, eos_id)},
        {"tokenizer.ggml.unknown_token_id", offsetof(wicas_tok_config, unk_id)},
        {"tokenizer.ggml.padding_token_id", offsetof(wicas_tok_config, pad_id)},
        {"tokenizer.ggml.eot_token_id", offsetof(wicas_tok_config, eot_id)},
    };
    for (size_t i = 0; i < sizeof IDS / sizeof IDS[0]; i++) {
        uint64_t v;
        int32_t id = -1;
        if (wicas_gguf_get_u64(f, IDS[i].key, &v) && v < tc.n_vocab) id = (int32_t)v;
        memcpy((char *)&tc + IDS[i].off, &id, sizeof id);
    }
    bool b;
    tc.add_bos = wicas_gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) ? b : tc.kind == WICAS_TOK_LLAMA;
    tc.add_eos = wicas_gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b) ? b : false;
    /* SentencePiece's "▁" before the first word: on unless the file says
     * false (Gemma 3 does; llama.cpp reads the same key) */
    tc.no_space_prefix = wicas_gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &b) && !b;
    if (wicas_gguf_get_str(f, "tokenizer.chat_template", &s))
        tc.chat_template = (wicas_tok_str){s.ptr, s.len};
    char sub[256];
    int trc = wicas_tok_new(&tc, &m->tok, sub, sizeof sub);
    if (trc != 0) {
        snprintf(err, errlen, "tokenizer: %s", sub);
        rc = WICAS_INFER_EFORMAT;
        goto out;
    }
    rc = 0;
out:
    if (rc == WICAS_INFER_ENOMEM) snprintf(err, errlen, "out of memory building the tokenizer");
    free(toks);
    free(merges);
    free(scores);
    free(types);
    return rc;
}

/* Optional per-layer vector (bias or norm) of n floats: NULL when absent. */
static int get_opt_vec(const gguf_file *f, uint8_t *used, const char *name, int n, float **out, char *err,
                       size_t errlen) {
    *out = NULL;
    if (!wicas_gguf_find_tensor(f, name)) return 0;
    return get_norm(f, used, name, n, out, err, errlen);
}

/* Rows [r0, r0 + n) of a matrix, as a matrix of its own. */
static wmat row_view(const wmat *w, int r0, int n) {
    wmat v = *w;
    v.rows = n;
    v.data = w->data + (size_t)r0 * w->row_bytes;
    return v;
}

/* The weights of every layer (after the hyper-parameters are known). Marks
 * each tensor it reads in used[]. */
static int build_weights(wicas_infer_model *m, uint8_t *used, char *err, size_t errlen) {
    const gguf_file *f = &m->gf;
    const llama_config *c = &m->cfg;
    const int dim = c->dim, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim,
              hd = c->head_dim;
    int rc;
    if ((rc = get_mat(f, used, "token_embd.weight", dim, c->vocab, false, &m->tok_embd, err, errlen)))
        return rc;
    if (wicas_gguf_find_tensor(f, "output.weight")) {
        if ((rc = get_mat(f, used, "output.weight", dim, c->vocab, false, &m->output, err, errlen)))
            return rc;
    } else {
        m->output = m->tok_embd; /* tied embeddings */
    }
    if ((rc = get_norm(f, used, "output_norm.weight", dim, &m->out_norm, err, errlen))) return rc;
    /* llama3 RoPE scaling: frequency i is divided by rope_freqs[i] (the
     * converter bakes rope_scaling type llama3 into this tensor) */
    if (c->arch == ARCH_LLAMA && wicas_gguf_find_tensor(f, "rope_freqs.weight")) {
        if ((rc = get_norm(f, used, "rope_freqs.weight", c->n_rot / 2, &m->rope_ff, err, errlen))) return rc;
        for (int i = 0; i < c->n_rot / 2; i++)
            if (!(m->rope_ff[i] >= 1e-6f && m->rope_ff[i] <= 1e6f)) {
                snprintf(err, errlen, "rope_freqs.weight[%d] = %g is out of range [1e-6, 1e6]", i,
                         (double)m->rope_ff[i]);
                return WICAS_INFER_EFORMAT;
            }
    }
    m->layers = calloc((size_t)c->n_layers, sizeof(llama_layer));
    if (!m->layers) return WICAS_INFER_ENOMEM;
    const bool qk_norm = c->arch == ARCH_QWEN3 || c->arch == ARCH_GEMMA3, post = c->arch == ARCH_GEMMA3;
    for (int l = 0; l < c->n_layers; l++) {
        llama_layer *L = &m->layers[l];
        char name[96];
#define TN(suffix) (snprintf(name, sizeof name, "blk.%d.%s", l, suffix), name)
#define MAT(field, suffix, cols, rows)                                                                       \
    if ((rc = get_mat(f, used, TN(suffix), cols, rows, false, &L->field, err, errlen))) return rc;
#define NORM(field, suffix, n)                                                                               \
    if ((rc = get_norm(f, used, TN(suffix), n, &L->field, err, errlen))) return rc;
        NORM(attn_norm, "attn_norm.weight", dim)
        NORM(ffn_norm, "ffn_norm.weight", dim)
        if (wicas_gguf_find_tensor(f, TN("attn_qkv.weight"))) {
            /* fused: rows [0, qd) are q, then kvd rows of k, then of v */
            wmat qkv;
            if ((rc = get_mat(f, used, name, dim, qd + 2 * kvd, false, &qkv, err, errlen))) return rc;
            L->wq = row_view(&qkv, 0, qd);
            L->wk = row_view(&qkv, qd, kvd);
            L->wv = row_view(&qkv, qd + kvd, kvd);
        } else {
            MAT(wq, "attn_q.weight", dim, qd)
            MAT(wk, "attn_k.weight", dim, kvd)
            MAT(wv, "attn_v.weight", dim, kvd)
        }
        MAT(wo, "attn_output.weight", qd, dim)
        if (c->arch == ARCH_PHI3) {
            /* fused: rows [0, ff) are the gate, [ff, 2 ff) the up projection */
            wmat gu;
            if ((rc = get_mat(f, used, TN("ffn_up.weight"), dim, 2 * c->hidden_dim, false, &gu, err, errlen)))
                return rc;
            L->w_gate = row_view(&gu, 0, c->hidden_dim);
            L->w_up = row_view(&gu, c->hidden_dim, c->hidden_dim);
        } else {
            MAT(w_gate, "ffn_gate.weight", dim, c->hidden_dim)
            MAT(w_up, "ffn_up.weight", dim, c->hidden_dim)
        }
        MAT(w_down, "ffn_down.weight", c->hidden_dim, dim)
        /* Q/K/V biases: optional for every architecture (as in llama.cpp) */
        if ((rc = get_opt_vec(f, used, TN("attn_q.bias"), qd, &L->bq, err, errlen)) ||
            (rc = get_opt_vec(f, used, TN("attn_k.bias"), kvd, &L->bk, err, errlen)) ||
            (rc = get_opt_vec(f, used, TN("attn_v.bias"), kvd, &L->bv, err, errlen)))
            return rc;
        if (qk_norm) {
            NORM(q_norm, "attn_q_norm.weight", hd)
            NORM(k_norm, "attn_k_norm.weight", hd)
        }
        if (post) {
            NORM(attn_post_norm, "post_attention_norm.weight", dim)
            NORM(ffn_post_norm, "post_ffw_norm.weight", dim)
        }
#undef NORM
#undef MAT
#undef TN
    }
    return 0;
}

/* ---- architectures ------------------------------------------------------------------
 * The metadata keys each architecture may carry (after "<arch>."). A key with
 * the architecture's prefix that is not listed here is refused by name: it
 * may change the maths (llama.cpp reads it), and running without it would
 * give a different model. */
static const char *const KEYS_COMMON[] = {"context_length",
                                          "embedding_length",
                                          "block_count",
                                          "feed_forward_length",
                                          "attention.head_count",
                                          "attention.head_count_kv",
                                          "attention.layer_norm_rms_epsilon",
                                          "attention.key_length",
                                          "attention.value_length",
                                          "rope.freq_base",
                                          "rope.dimension_count",
                                          "rope.scaling.type",
                                          "rope.scaling.factor",
                                          "rope.scale_linear",
                                          "rope.scaling.original_context_length",
                                          "rope.scaling.finetuned",
                                          "vocab_size",
                                          "expert_count",
                                          "expert_used_count",
                                          NULL};
static const char *const KEYS_GEMMA3[] = {"attention.sliding_window", "attention.sliding_window_pattern",
                                          "rope.freq_base_swa", "final_logit_softcapping", NULL};
/* phi3: llama.cpp reads attention.sliding_window and then turns the window
 * off for this architecture (its converters write it wrongly), so it is
 * accepted and does not change the maths. */
static const char *const KEYS_PHI3[] = {"attention.sliding_window", NULL};

static const struct {
    const char *name;
    model_arch arch;
} ARCHS[] = {{"llama", ARCH_LLAMA},
             {"qwen2", ARCH_QWEN2},
             {"qwen3", ARCH_QWEN3},
             {"gemma3", ARCH_GEMMA3},
             {"phi3", ARCH_PHI3}};

static bool key_listed(const char *const *list, const char *s, size_t n) {
    for (; list && *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0) return true;
    return false;
}

static int check_arch_keys(const gguf_file *f, const char *an, model_arch arch, char *err, size_t errlen) {
    const size_t pl = strlen(an);
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_str k = f->kv[i].key;
        if (k.len <= pl + 1 || memcmp(k.ptr, an, pl) != 0 || k.ptr[pl] != '.') continue;
        const char *s = k.ptr + pl + 1;
        const size_t n = k.len - pl - 1;
        if (key_listed(KEYS_COMMON, s, n) || (arch == ARCH_GEMMA3 && key_listed(KEYS_GEMMA3, s, n)) ||
            (arch == ARCH_PHI3 && key_listed(KEYS_PHI3, s, n)))
            continue;
        snprintf(err, errlen,
                 "metadata key '%.*s' is not supported for architecture '%s' (it changes the model's "
                 "maths and this engine does not implement it)",
                 (int)(k.len > 96 ? 96 : k.len), k.ptr, an);
        return WICAS_INFER_EUNSUPPORTED;
    }
    return 0;
}

/* "<arch>.<suffix>" */
static const char *akey(char *buf, size_t n, const char *an, const char *suffix) {
    snprintf(buf, n, "%s.%s", an, suffix);
    return buf;
}

int wicas_model_build(wicas_infer_model *m, char *err, size_t errlen) {
    const gguf_file *f = &m->gf;
    llama_config *c = &m->cfg;
    gguf_str arch;
    if (!wicas_gguf_get_str(f, "general.architecture", &arch)) {
        snprintf(err, errlen, "model metadata lacks 'general.architecture'");
        return WICAS_INFER_EFORMAT;
    }
    const char *an = NULL;
    for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
        if (wicas_gguf_str_eq(arch, ARCHS[i].name)) {
            an = ARCHS[i].name;
            c->arch = ARCHS[i].arch;
        }
    if (!an) {
        snprintf(err, errlen,
                 "architecture '%.*s' is not supported (this engine runs llama, qwen2, qwen3, gemma3, phi3)",
                 (int)(arch.len > 32 ? 32 : arch.len), arch.ptr);
        return WICAS_INFER_EUNSUPPORTED;
    }
    int rc;
    if ((rc = check_arch_keys(f, an, c->arch, err, errlen))) return rc;
    char k[96];
#define K(s) akey(k, sizeof k, an, s)
    if ((rc = get_int(f, K("block_count"), 0, true, &c->n_layers, err, errlen)) ||
        (rc = get_int(f, K("embedding_length"), 0, true, &c->dim, err, errlen)) ||
        (rc = get_int(f, K("feed_forward_length"), 0, true, &c->hidden_dim, err, errlen)) ||
        (rc = get_int(f, K("attention.head_count"), 0, true, &c->n_heads, err, errlen)) ||
        (rc = get_int(f, K("attention.head_count_kv"), c->n_heads, false, &c->n_kv_heads, err, errlen)) ||
        (rc = get_int(f, K("attention.key_length"), c->dim / c->n_heads, false, &c->head_dim, err, errlen)) ||
        (rc = get_int(f, K("context_length"), 2048, false, &c->ctx_train, err, errlen)))
        return rc;
    if ((rc = get_int(f, K("rope.dimension_count"), c->head_dim, false, &c->n_rot, err, errlen))) return rc;
    int vlen;
    if ((rc = get_int(f, K("attention.value_length"), c->head_dim, false, &vlen, err, errlen))) return rc;
    if (vlen != c->head_dim) {
        snprintf(err, errlen, "%s.attention.value_length %d differs from key_length %d (not supported)", an,
                 vlen, c->head_dim);
        return WICAS_INFER_EUNSUPPORTED;
    }
    uint64_t ne;
    if ((wicas_gguf_get_u64(f, K("expert_count"), &ne) && ne != 0) ||
        (wicas_gguf_get_u64(f, K("expert_used_count"), &ne) && ne != 0)) {
        snprintf(err, errlen,
                 "mixture-of-experts models (%s.expert_count / expert_used_count) are not supported", an);
        return WICAS_INFER_EUNSUPPORTED;
    }
    if (c->dim > (1 << 16) || c->hidden_dim > (1 << 18) || c->n_heads > 1024 || c->head_dim > 1024 ||
        c->n_kv_heads > c->n_heads) {
        snprintf(err, errlen,
                 "hyper-parameters out of range: dim %d (max 65536), ff %d (max 262144), heads %d/%d "
                 "(max 1024), head_dim %d (max 1024)",
                 c->dim, c->hidden_dim, c->n_heads, c->n_kv_heads, c->head_dim);
        return WICAS_INFER_EFORMAT;
    }
    if (c->n_layers > 1024 || c->n_heads % c->n_kv_heads != 0 || c->n_rot > c->head_dim || (c->n_rot & 1) ||
        c->dim % QK || c->hidden_dim % QK || (c->n_heads * c->head_dim) % QK || c->head_dim == 0) {
        snprintf(
            err, errlen,
            "inconsistent hyper-parameters: layers %d, dim %d, ff %d, heads %d/%d, head_dim %d, rope dims %d "
            "(need heads divisible by kv heads, even rope dims <= head_dim, dims multiples of %d)",
            c->n_layers, c->dim, c->hidden_dim, c->n_heads, c->n_kv_heads, c->head_dim, c->n_rot, QK);
        return WICAS_INFER_EFORMAT;
    }
    double v;
    c->eps = 1e-5f;
    if (wicas_gguf_get_f64(f, K("attention.layer_norm_rms_epsilon"), &v)) {
        if (!(v > 0 && v < 1)) {
            snprintf(err, errlen, "%s = %g is out of range", k, v);
            return WICAS_INFER_EFORMAT;
        }
        c->eps = (float)v;
    } else if (c->arch != ARCH_LLAMA) {
        /* llama.cpp requires it for these architectures */
        snprintf(err, errlen, "model metadata lacks required key '%s'", k);
        return WICAS_INFER_EFORMAT;
    }
    c->rope_base = 10000.0;
    if (wicas_gguf_get_f64(f, K("rope.freq_base"), &v)) {
        if (!(v > 1 && v < 1e12)) {
            snprintf(err, errlen, "%s = %g is out of range", k, v);
            return WICAS_INFER_EFORMAT;
        }
        c->rope_base = v;
    }
    /* RoPE scaling: none or linear (positions times 1/factor), and llama3's
     * per-frequency divisors (tensor rope_freqs.weight, read with the
     * weights); yarn, longrope and anything else are refused. */
    c->rope_scale = 1.0;
    gguf_str st = {"(not a string)", 14};
    if (wicas_gguf_find(f, K("rope.scaling.type")) &&
        (!wicas_gguf_get_str(f, k, &st) || !wicas_gguf_str_eq(st, "none"))) {
        if (!wicas_gguf_get_str(f, k, &st) || !wicas_gguf_str_eq(st, "linear")) {
            snprintf(err, errlen, "%s.rope.scaling.type '%.*s' is not supported (none, linear)", an,
                     (int)(st.len > 32 ? 32 : st.len), st.ptr);
            return WICAS_INFER_EUNSUPPORTED;
        }
        if (!wicas_gguf_get_f64(f, K("rope.scaling.factor"), &v) || !(v >= 1 && v <= 1024)) {
            snprintf(err, errlen, "linear RoPE scaling needs %s.rope.scaling.factor in [1, 1024]", an);
            return WICAS_INFER_EFORMAT;
        }
        c->rope_scale = 1.0 / v;
    } else if ((wicas_gguf_get_f64(f, K("rope.scaling.factor"), &v) ||
                wicas_gguf_get_f64(f, K("rope.scale_linear"), &v)) &&
               v != 1.0 && v != 0.0) {
        /* llama.cpp's default scaling type is linear: a factor alone scales */
        if (!(v >= 1 && v <= 1024)) {
            snprintf(err, errlen, "%s = %g is out of range", k, v);
            return WICAS_INFER_EFORMAT;
        }
        c->rope_scale = 1.0 / v;
    }
    c->rope_neox = c->arch != ARCH_LLAMA;
    c->gelu = c->arch == ARCH_GEMMA3;
    c->embd_scale = c->arch == ARCH_GEMMA3 ? sqrtf((float)c->dim) : 0.0f;
    c->attn_scale = 1.0f / sqrtf((float)c->head_dim);
    if (c->arch == ARCH_QWEN2 || c->arch == ARCH_QWEN3 || c->arch == ARCH_PHI3) {
        if (c->n_rot != c->head_dim) {
            snprintf(err, errlen, "%s needs rope.dimension_count (%d) = head dim (%d)", an, c->n_rot,
                     c->head_dim);
            return WICAS_INFER_EFORMAT;
        }
    }
    c->softcap = 0.0f;
    c->n_swa = 0;
    c->rope_base_swa = 10000.0;
    int swa_pattern = 6;
    bool pattern_array = false;
    if (c->arch == ARCH_GEMMA3) {
        /* Gemma 3 27B (62 layers) scales by 1/sqrt(dim/heads), as gemma_pytorch's
         * query_pre_attn_scalar; every other size by 1/sqrt(key_length). */
        if (c->n_layers == 62) c->attn_scale = 1.0f / sqrtf((float)(c->dim / c->n_heads));
        if (wicas_gguf_get_f64(f, K("final_logit_softcapping"), &v) && v != 0.0) {
            if (!(v > 0 && v < 1e6)) {
                snprintf(err, errlen, "%s = %g is out of range", k, v);
                return WICAS_INFER_EFORMAT;
            }
            c->softcap = (float)v;
        }
        uint64_t w;
        if (wicas_gguf_find(f, K("attention.sliding_window")) &&
            (!wicas_gguf_get_u64(f, k, &w) || w > (1u << 30))) {
            snprintf(err, errlen, "%s must be an integer below 2^30", k);
            return WICAS_INFER_EFORMAT;
        }
        if (wicas_gguf_find(f, k)) c->n_swa = (int)w;
        if (wicas_gguf_get_f64(f, K("rope.freq_base_swa"), &v)) {
            if (!(v > 1 && v < 1e12)) {
                snprintf(err, errlen, "%s = %g is out of range", k, v);
                return WICAS_INFER_EFORMAT;
            }
            c->rope_base_swa = v;
        }
        const gguf_kv *pk = wicas_gguf_find(f, K("attention.sliding_window_pattern"));
        if (pk && c->n_swa > 0) {
            uint64_t pv;
            if (pk->type == GGUF_T_ARRAY && pk->arr_type == GGUF_T_BOOL &&
                pk->arr_n == (uint64_t)c->n_layers) {
                pattern_array = true;
            } else if (wicas_gguf_get_u64(f, k, &pv) && pv <= 1024) {
                swa_pattern = (int)pv;
            } else {
                snprintf(err, errlen, "%s must be an integer or a bool array of block_count entries", k);
                return WICAS_INFER_EFORMAT;
            }
        }
    }
#undef K

    /* Vocabulary size: rows of token_embd (checked against <arch>.vocab_size). */
    const gguf_tensor *te = wicas_gguf_find_tensor(f, "token_embd.weight");
    if (!te || te->n_dims != 2 || te->ne[1] > (1u << 24)) {
        snprintf(err, errlen, "model lacks a 2-D tensor 'token_embd.weight' with at most 2^24 rows");
        return WICAS_INFER_EFORMAT;
    }
    c->vocab = (int)te->ne[1];
    uint64_t vs;
    if (wicas_gguf_get_u64(f, akey(k, sizeof k, an, "vocab_size"), &vs) && vs != (uint64_t)c->vocab) {
        snprintf(err, errlen, "%s %llu differs from token_embd's %d rows", k, (unsigned long long)vs,
                 c->vocab);
        return WICAS_INFER_EFORMAT;
    }
    /* Every tensor of the file must be one this architecture reads: an
     * unknown one (a bias, a norm, a scale) would change the maths. */
    uint8_t *used = calloc(f->n_tensors ? f->n_tensors : 1, 1);
    if (!used) return WICAS_INFER_ENOMEM;
    rc = build_weights(m, used, err, errlen);
    if (!rc)
        for (uint64_t i = 0; i < f->n_tensors; i++)
            if (!used[i]) {
                const gguf_str nm = f->tensors[i].name;
                snprintf(err, errlen, "tensor '%.*s' is not read by architecture '%s' (not supported)",
                         (int)(nm.len > 96 ? 96 : nm.len), nm.ptr, an);
                rc = WICAS_INFER_EUNSUPPORTED;
                break;
            }
    free(used);
    if (rc) return rc;
    if (c->arch == ARCH_GEMMA3 && c->n_swa > 0) {
        const gguf_kv *pk = wicas_gguf_find(f, akey(k, sizeof k, an, "attention.sliding_window_pattern"));
        for (int l = 0; l < c->n_layers; l++) {
            if (pattern_array)
                m->layers[l].swa = pk->arr_data[l] != 0;
            else
                m->layers[l].swa = swa_pattern == 0 || l % swa_pattern < swa_pattern - 1;
        }
    }
    /* RoPE frequencies theta_i = base^(-2i / n_rot), i = 0 .. n_rot/2 - 1. */
    m->inv_freq = malloc(sizeof(double) * (size_t)(c->n_rot / 2 + 1));
    m->inv_freq_swa = malloc(sizeof(double) * (size_t)(c->n_rot / 2 + 1));
    if (!m->inv_freq || !m->inv_freq_swa) return WICAS_INFER_ENOMEM;
    for (int i = 0; i < c->n_rot / 2; i++) {
        m->inv_freq[i] = wicas_pow(c->rope_base, -(double)(2 * i) / (double)c->n_rot);
        if (m->rope_ff) m->inv_freq[i] = m->inv_freq[i] / (double)m->rope_ff[i];
        m->inv_freq_swa[i] = wicas_pow(c->rope_base_swa, -(double)(2 * i) / (double)c->n_rot);
    }
    if ((rc = build_tokenizer(m, err, errlen))) return rc;

    /* Info. */
    wicas_infer_model_info *in = &m->info;
    snprintf(in->arch, sizeof in->arch, "%s", an);
    gguf_str nm;
    if (wicas_gguf_get_str(f, "general.name", &nm))
        snprintf(in->name, sizeof in->name, "%.*s",
                 (int)(nm.len < sizeof in->name ? nm.len : sizeof in->name - 1), nm.ptr);
    for (uint64_t i = 0; i < f->n_tensors; i++)
        in->n_params += f->tensors[i].n_elems;
    in->file_size = f->size;
    in->n_layers = (uint32_t)c->n_layers;
    in->n_embd = (uint32_t)c->dim;
    in->n_ff = (uint32_t)c->hidden_dim;
    in->n_head = (uint32_t)c->n_heads;
    in->n_head_kv = (uint32_t)c->n_kv_heads;
    in->head_dim = (uint32_t)c->head_dim;
    in->n_vocab = (uint32_t)c->vocab;
    in->n_ctx_train = (uint32_t)c->ctx_train;
    in->rope_base = (float)c->rope_base;
    in->norm_eps = c->eps;
    return 0;
}

/* ---- packing for the SIMD kernels ---------------------------------------------- */
static wmat *each_mat(wicas_infer_model *m, int i) {
    /* 0: output, then 7 per layer */
    if (i == 0) return &m->output;
    int l = (i - 1) / 7, k = (i - 1) % 7;
    if (l >= m->cfg.n_layers) return NULL;
    llama_layer *L = &m->layers[l];
    wmat *ms[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    return ms[k];
}

int wicas_model_pack(wicas_infer_model *m) {
    if (!wicas_kernels_packed_available()) return 0;
    size_t total = 0;
    wmat *w;
    for (int i = 0; (w = each_mat(m, i)) != NULL; i++)
        total += (wicas_pack_size(w->type, w->rows, w->cols) + 63) / 64 * 64;
    if (total == 0) return 0;
    m->pack_mem = aligned_alloc(64, total);
    if (!m->pack_mem) return WICAS_INFER_ENOMEM;
    m->pack_bytes = total;
    size_t off = 0;
    for (int i = 0; (w = each_mat(m, i)) != NULL; i++) {
        size_t n = wicas_pack_size(w->type, w->rows, w->cols);
        if (n == 0) continue;
        wicas_pack_matrix(w->type, w->data, w->rows, w->cols, m->pack_mem + off);
        w->packed = m->pack_mem + off;
        /* drop the source pages now (clean file pages, re-read on demand) */
        uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo = (uintptr_t)w->data / pg * pg;
        uintptr_t hi = ((uintptr_t)w->data + w->row_bytes * (size_t)w->rows + pg - 1) / pg * pg;
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
        off += (n + 63) / 64 * 64;
    }
    return 0;
}

void wicas_model_free_parts(wicas_infer_model *m) {
    free(m->pack_mem);
    m->pack_mem = NULL;
    if (m->layers)
        for (int l = 0; l < m->cfg.n_layers; l++) {
            llama_layer *L = &m->layers[l];
            free(L->attn_norm);
            free(L->ffn_norm);
            free(L->bq);
            free(L->bk);
            free(L->bv);
            free(L->q_norm);
            free(L->k_norm);
            free(L->attn_post_norm);
            free(L->ffn_post_norm);
        }
    free(m->layers);
    free(m->out_norm);
    free(m->inv_freq);
    free(m->inv_freq_swa);
    free(m->rope_ff);
    wicas_tok_free(m->tok);
    m->layers = NULL;
    m->out_norm = NULL;
    m->inv_freq = NULL;
    m->inv_freq_swa = NULL;
    m->rope_ff = NULL;
    m->tok = NULL;
}

/* ============================================================================
 * Run state
 * ========================================================================== */

int wicas_run_state_alloc(run_state *s, const llama_config *c, int n_ctx, int max_batch) {
    memset(s, 0, sizeof *s);
    s->max_batch = max_batch;
    s->n_ctx = n_ctx;
    const size_t B = (size_t)max_batch, qd = (size_t)c->n_heads * c->head_dim,
                 kvd = (size_t)c->n_kv_heads * c->head_dim;
    size_t wide = (size_t)c->dim;
    if ((size_t)c->hidden_dim > wide) wide = (size_t)c->hidden_dim;
    if (qd > wide) wide = qd;
    wide = (wide / QK + 7) / 8 * 8 * QK; /* room for the zero padding blocks */
    s->x = malloc(sizeof(float) * B * c->dim);
    s->xb = malloc(sizeof(float) * B * c->dim);
    s->xb2 = malloc(sizeof(float) * B * qd);
    s->q = malloc(sizeof(float) * B * qd);
    s->hb = malloc(sizeof(float) * B * c->hidden_dim);
    s->hb2 = malloc(sizeof(float) * B * c->hidden_dim);
    s->att = malloc(sizeof(float) * B * c->n_heads * (size_t)n_ctx);
    s->rope = malloc(sizeof(float) * 2 * B * (c->n_rot + 2));
    s->logits = malloc(sizeof(float) * (size_t)c->vocab);
    s->act.q = malloc(B * wide);
    s->act.d = malloc(sizeof(float) * B * wide / QK);
    s->act.s = malloc(sizeof(float) * B * wide / QK);
    s->act.qsum = malloc(sizeof(int32_t) * B * wide / QK);
    s->act.f = malloc(sizeof(float) * B * wide);
    s->k_cache = calloc((size_t)c->n_layers * n_ctx * kvd, sizeof(float));
    s->v_cache = calloc((size_t)c->n_layers * n_ctx * kvd, sizeof(float));
    if (!s->x || !s->xb || !s->xb2 || !s->q || !s->hb || !s->hb2 || !s->att || !s->rope || !s->logits ||
        !s->act.q || !s->act.d || !s->act.s || !s->act.qsum || !s->act.f || !s->k_cache || !s->v_cache) {
        wicas_run_state_free(s);
        return WICAS_INFER_ENOMEM;
    }
    return 0;
}

void wicas_run_state_free(run_state *s) {
    free(s->x);
    free(s->xb);
    free(s->xb2);
    free(s->q);
    free(s->hb);
    free(s->hb2);
    free(s->att);
    free(s->rope);
    free(s->logits);
    free(s->act.q);
    free(s->act.d);
    free(s->act.s);
    free(s->act.qsum);
    free(s->act.f);
    free(s->k_cache);
    free(s->v_cache);
    memset(s, 0, sizeof *s);
}

/* ============================================================================
 * Building blocks
 * ========================================================================== */

/* RMSNorm: o = x * (1 / sqrt(mean(x^2) + eps)) * w. The sum of squares uses
 * the canonical 8-lane order (lane i mod 8, fixed tree). */
static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    float acc[8] = {0};
    for (int i = 0; i < n; i++)
        acc[i & 7] = acc[i & 7] + x[i] * x[i];
    float ss = reduce8(acc) / (float)n + eps;
    float scale = 1.0f / sqrtf(ss); /* sqrt is correctly rounded in IEEE-754: not a libm approximation */
    for (int i = 0; i < n; i++)
        o[i] = (x[i] * scale) * w[i];
}

static void quantize_rows(q8_act *a, const float *x, int n_tok, int cols) {
    a->nb = cols / QK;
    a->stride = (a->nb + 7) & ~7;
    a->n_tok = n_tok;
    for (int t = 0; t < n_tok; t++)
        wicas_q8_quantize_row(x + (size_t)t * cols, a, t);
}

/* ---- matrix products as pool jobs ---------------------------------------------
 * A job is up to three matrices sharing one input; their rows are concatenated
 * and split evenly between threads. out[t * ldo + r] = dot(W row r, x_t). */
typedef struct {
    const wmat *w[3];
    float *out[3];
    int ldo[3];
    int n;
    const q8_act *a;
    const kernel_set *k;
    /* SwiGLU fusion: when set, w[0] is gate, w[1] is up, and rows of the
     * combined index r < hidden produce hb[t][r] = silu(gate) * up
     * (GeGLU when gelu is set: gelu_tanh(gate) * up). */
    bool swiglu, gelu;
} mm_job;

static void split(int total, int ith, int nth, int *r0, int *r1) {
    *r0 = (int)((int64_t)total * ith / nth);
    *r1 = (int)((int64_t)total * (ith + 1) / nth);
}

static void mm_worker(void *arg, int ith, int nth) {
    mm_job *j = arg;
    const int T = j->a->n_tok;
    if (j->swiglu) {
        /* This thread's rows of gate (into out[0]) and up (into out[1]), then
         * h = silu(gate) * up on the same rows. */
        const wmat *g = j->w[0], *u = j->w[1];
        int r0, r1, unit = g->rows % 8 ? 1 : 8;
        split(g->rows / unit, ith, nth, &r0, &r1);
        r0 *= unit;
        r1 *= unit;
        if (r0 >= r1) return;
        wicas_matmul_rows_packed(j->k, g->type, g->data, g->packed, g->row_bytes, r0, r1, j->a, j->out[0],
                                 (size_t)j->ldo[0]);
        wicas_matmul_rows_packed(j->k, u->type, u->data, u->packed, u->row_bytes, r0, r1, j->a, j->out[1],
                                 (size_t)j->ldo[1]);
        for (int t = 0; t < T; t++) {
            float *h = j->out[0] + (size_t)t * j->ldo[0], *h2 = j->out[1] + (size_t)t * j->ldo[1];
            if (j->gelu)
                for (int r = r0; r < r1; r++)
                    h[r] = wicas_gelu_tanhf(h[r]) * h2[r];
            else
                for (int r = r0; r < r1; r++)
                    h[r] = wicas_siluf(h[r]) * h2[r];
        }
        return;
    }
    /* Rows are split in units of 8 when every matrix allows it, so packed
     * row groups are never cut between threads. */
    int total = 0, unit = 8;
    for (int i = 0; i < j->n; i++) {
        total += j->w[i]->rows;
        if (j->w[i]->rows % 8) unit = 1;
    }
    int r0, r1;
    split(total / unit, ith, nth, &r0, &r1);
    r0 *= unit;
    r1 *= unit;
    int base = 0;
    for (int i = 0; i < j->n; i++) {
        const wmat *w = j->w[i];
        int lo = r0 > base ? r0 - base : 0, hi = r1 - base < w->rows ? r1 - base : w->rows;
        if (lo < hi)
            wicas_matmul_rows_packed(j->k, w->type, w->data, w->packed, w->row_bytes, lo, hi, j->a, j->out[i],
                                     (size_t)j->ldo[i]);
        base += w->rows;
    }
}

/* ---- attention as a pool job: one (token, head) pair per unit ----------------- */
typedef struct {
    const llama_config *c;
    run_state *s;
    int layer, pos0, n_tok;
    int window; /* sliding window (keys pos-window+1 .. pos), 0: all keys */
} att_job;

static void att_worker(void *arg, int ith, int nth) {
    att_job *j = arg;
    const llama_config *c = j->c;
    run_state *s = j->s;
    const int hd = c->head_dim, qd = c->n_heads * hd, kvd = c->n_kv_heads * hd,
              grp = c->n_heads / c->n_kv_heads;
    const float scale = c->attn_scale;
    const float *kc = s->k_cache + (size_t)j->layer * s->n_ctx * kvd;
    const float *vc = s->v_cache + (size_t)j->layer * s->n_ctx * kvd;
    int u0, u1;
    split(j->n_tok * c->n_heads, ith, nth, &u0, &u1);
    for (int u = u0; u < u1; u++) {
        const int t = u / c->n_heads, h = u % c->n_heads, kvh = h / grp;
        const int n_keys = j->pos0 + t + 1; /* causal: keys 0 .. pos */
        /* sliding window: keys p with pos - p < window */
        const int p_lo = j->window > 0 && n_keys > j->window ? n_keys - j->window : 0;
        const float *q = s->q + (size_t)t * qd + (size_t)h * hd;
        float *att = s->att + ((size_t)t * c->n_heads + h) * s->n_ctx;
        /* scores_k = (q . k) / sqrt(head_dim), dot in the canonical 8-lane order */
        float mx = -INFINITY;
        for (int p = p_lo; p < n_keys; p++) {
            const float *k = kc + (size_t)p * kvd + (size_t)kvh * hd;
            /* element i into lane i mod 8, in order (written lane-wise so the
             * compiler can use one 8-wide vector: same operations) */
            float acc[8] = {0};
            int i = 0;
            for (; i + 8 <= hd; i += 8)
                for (int l = 0; l < 8; l++)
                    acc[l] = acc[l] + q[i + l] * k[i + l];
            for (; i < hd; i++)
                acc[i & 7] = acc[i & 7] + q[i] * k[i];
            float sc = reduce8(acc) * scale;
            att[p] = sc;
            if (sc > mx) mx = sc;
        }
        /* softmax: e_p = exp(s_p - max), sum in order p = 0, 1, ... */
        float sum = 0.0f;
        for (int p = p_lo; p < n_keys; p++) {
            float e = wicas_expf(att[p] - mx);
            att[p] = e;
            sum = sum + e;
        }
        float inv = 1.0f / sum;
        /* out = sum_p (e_p / sum) * v_p, accumulated in order p = 0, 1, ... */
        float *o = s->xb2 + (size_t)t * qd + (size_t)h * hd;
        for (int i0 = 0; i0 < hd; i0 += 64) { /* a local block so the compiler sees no aliasing */
            const int w = hd - i0 < 64 ? hd - i0 : 64;
            float ob[64] = {0};
            for (int p = p_lo; p < n_keys; p++) {
                const float *restrict v = vc + (size_t)p * kvd + (size_t)kvh * hd + i0;
                float a = att[p] * inv;
                for (int i = 0; i < w; i++)
                    ob[i] = ob[i] + a * v[i];
            }
            memcpy(o + i0, ob, sizeof(float) * (size_t)w);
        }
    }
}

/* RoPE. Pair i of a head, i = 0 .. n_rot/2 - 1, rotates together:
 *   x0' = x0 cos(a) - x1 sin(a),  x1' = x0 sin(a) + x1 cos(a),
 *   a = pos * scale * base^(-2i/n_rot). cos/sin in double, rounded to float.
 * "Normal" pairing (llama: llama.cpp's converter permutes the Q/K weights so
 * that adjacent elements rotate together): (x[2i], x[2i+1]); NEOX pairing
 * (qwen2/3, gemma3: the weights as trained): (x[i], x[i + n_rot/2]).
 * Two tables: global layers (base, scale), then sliding-window layers
 * (rope_base_swa, no scaling; only when the model has such layers). */
static void rope_tables(const wicas_infer_model *m, run_state *s, int pos0, int n_tok) {
    const int half = m->cfg.n_rot / 2;
    for (int w = 0; w < (m->cfg.n_swa > 0 ? 2 : 1); w++) {
        const double *inv = w ? m->inv_freq_swa : m->inv_freq, scale = w ? 1.0 : m->cfg.rope_scale;
        for (int t = 0; t < n_tok; t++) {
            double p = (double)(pos0 + t) * scale;
            float *cs = s->rope + ((size_t)w * s->max_batch + t) * (m->cfg.n_rot + 2);
            for (int i = 0; i < half; i++) {
                double sn, cn;
                wicas_sincos(p * inv[i], &sn, &cn);
                cs[2 * i] = (float)cn;
                cs[2 * i + 1] = (float)sn;
            }
        }
    }
}

static void rope_apply(float *x, int n_heads, int hd, int n_rot, bool neox, const float *cs) {
    const int half = n_rot / 2, stride = neox ? 1 : 2, off = neox ? half : 1;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * hd;
        for (int i = 0; i < half; i++) {
            float c = cs[2 * i], sn = cs[2 * i + 1];
            float *a = v + stride * i, *b = a + off;
            float x0 = *a, x1 = *b;
            *a = x0 * c - x1 * sn;
            *b = x0 * sn + x1 * c;
        }
    }
}

/* RMSNorm of each head_dim-long head of n_heads rows, in place (qwen3 and
 * gemma3's QK-norm). */
static void head_norm(float *x, int n_heads, int hd, const float *w, float eps) {
    for (int h = 0; h < n_heads; h++)
        rmsnorm(x + (size_t)h * hd, x + (size_t)h * hd, w, hd, eps);
}

/* x[t][i] += b[i] for n rows of width d, row stride ld. */
static void add_bias(float *x, int n, int d, size_t ld, const float *b) {
    for (int t = 0; t < n; t++)
        for (int i = 0; i < d; i++)
            x[(size_t)t * ld + i] = x[(size_t)t * ld + i] + b[i];
}

/* ============================================================================
 * The forward pass
 * ========================================================================== */

int wicas_model_forward(wicas_infer_ctx *ctx, const int32_t *tokens, int n, float *logits_all) {
    const wicas_infer_model *m = ctx->m;
    const llama_config *c = &m->cfg;
    run_state *s = &ctx->s;
    const int dim = c->dim, hd = c->head_dim, qd = c->n_heads * hd, kvd = c->n_kv_heads * hd,
              ff = c->hidden_dim;
    const int pos0 = ctx->pos;
    const kernel_set *k = wicas_kernels_get();
    if (n <= 0 || n > s->max_batch) return WICAS_INFER_EARG;
    if (pos0 + n > s->n_ctx) return WICAS_INFER_ECTX;
    for (int t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= c->vocab) return WICAS_INFER_EARG;

    /* Token embeddings: x_t = row tokens[t] of token_embd, dequantised. */
    for (int t = 0; t < n; t++)
        wicas_dequant_row(m->tok_embd.type, m->tok_embd.data + (size_t)tokens[t] * m->tok_embd.row_bytes,
                          s->x + (size_t)t * dim, dim);
    /* gemma3: x *= sqrt(dim) */
    if (c->embd_scale != 0.0f)
        for (size_t i = 0; i < (size_t)n * dim; i++)
            s->x[i] = s->x[i] * c->embd_scale;
    rope_tables(m, s, pos0, n);

    for (int l = 0; l < c->n_layers; l++) {
        const llama_layer *L = &m->layers[l];
        float *kc = s->k_cache + ((size_t)l * s->n_ctx + pos0) * kvd;
        float *vc = s->v_cache + ((size_t)l * s->n_ctx + pos0) * kvd;

        /* ---- attention block: x += Wo . attention(RoPE(Wq xn), RoPE(Wk xn), Wv xn) */
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (size_t)t * dim, s->x + (size_t)t * dim, L->attn_norm, dim, c->eps);
        quantize_rows(&s->act, s->xb, n, dim);
        /* q, k, v in one job; k and v land directly in the KV cache. */
        mm_job j = {.w = {&L->wq, &L->wk, &L->wv},
                    .out = {s->q, kc, vc},
                    .ldo = {qd, kvd, kvd},
                    .n = 3,
                    .a = &s->act,
                    .k = k};
        wicas_pool_run(ctx->pool, mm_worker, &j);
        if (L->bq) add_bias(s->q, n, qd, (size_t)qd, L->bq);
        if (L->bk) add_bias(kc, n, kvd, (size_t)kvd, L->bk);
        if (L->bv) add_bias(vc, n, kvd, (size_t)kvd, L->bv);
        const bool swa = L->swa && c->n_swa > 0;
        for (int t = 0; t < n; t++) {
            const float *cs = s->rope + ((size_t)(swa ? s->max_batch : 0) + t) * (c->n_rot + 2);
            if (L->q_norm) head_norm(s->q + (size_t)t * qd, c->n_heads, hd, L->q_norm, c->eps);
            if (L->k_norm) head_norm(kc + (size_t)t * kvd, c->n_kv_heads, hd, L->k_norm, c->eps);
            rope_apply(s->q + (size_t)t * qd, c->n_heads, hd, c->n_rot, c->rope_neox, cs);
            rope_apply(kc + (size_t)t * kvd, c->n_kv_heads, hd, c->n_rot, c->rope_neox, cs);
        }
        att_job aj = {.c = c, .s = s, .layer = l, .pos0 = pos0, .n_tok = n, .window = swa ? c->n_swa : 0};
        wicas_pool_run(ctx->pool, att_worker, &aj);
        quantize_rows(&s->act, s->xb2, n, qd);
        mm_job jo = {.w = {&L->wo}, .out = {s->xb}, .ldo = {dim}, .n = 1, .a = &s->act, .k = k};
        wicas_pool_run(ctx->pool, mm_worker, &jo);
        if (L->attn_post_norm) /* gemma3: x += norm(attention out) */
            for (int t = 0; t < n; t++)
                rmsnorm(s->xb + (size_t)t * dim, s->xb + (size_t)t * dim, L->attn_post_norm, dim, c->eps);
        for (size_t i = 0; i < (size_t)n * dim; i++)
            s->x[i] = s->x[i] + s->xb[i];

        /* ---- feed-forward block (SwiGLU): x += W_down (silu(W_gate xn) * (W_up xn)) */
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (size_t)t * dim, s->x + (size_t)t * dim, L->ffn_norm, dim, c->eps);
        quantize_rows(&s->act, s->xb, n, dim);
        mm_job jf = {.w = {&L->w_gate, &L->w_up},
                     .out = {s->hb, s->hb2},
                     .ldo = {ff, ff},
                     .n = 2,
                     .a = &s->act,
                     .k = k,
                     .swiglu = true,
                     .gelu = c->gelu};
        wicas_pool_run(ctx->pool, mm_worker, &jf);
        quantize_rows(&s->act, s->hb, n, ff);
        mm_job jd = {.w = {&L->w_down}, .out = {s->xb}, .ldo = {dim}, .n = 1, .a = &s->act, .k = k};
        wicas_pool_run(ctx->pool, mm_worker, &jd);
        if (L->ffn_post_norm) /* gemma3: x += norm(FFN out) */
            for (int t = 0; t < n; t++)
                rmsnorm(s->xb + (size_t)t * dim, s->xb + (size_t)t * dim, L->ffn_post_norm, dim, c->eps);
        for (size_t i = 0; i < (size_t)n * dim; i++)
            s->x[i] = s->x[i] + s->xb[i];
    }

    /* ---- final norm and classifier: only the rows the caller needs */
    int t0 = logits_all ? 0 : n - 1, nt = logits_all ? n : 1;
    for (int t = 0; t < nt; t++)
        rmsnorm(s->xb + (size_t)t * dim, s->x + (size_t)(t0 + t) * dim, m->out_norm, dim, c->eps);
    quantize_rows(&s->act, s->xb, nt, dim);
    float *lo = logits_all ? logits_all : s->logits;
    mm_job jl = {.w = {&m->output}, .out = {lo}, .ldo = {c->vocab}, .n = 1, .a = &s->act, .k = k};
    wicas_pool_run(ctx->pool, mm_worker, &jl);
    if (c->softcap != 0.0f) { /* gemma3: logits = cap * tanh(logits / cap) */
        const float inv = 1.0f / c->softcap;
        for (size_t i = 0; i < (size_t)nt * c->vocab; i++)
            lo[i] = wicas_tanhf(lo[i] * inv) * c->softcap;
    }
    if (logits_all)
        memcpy(s->logits, logits_all + (size_t)(n - 1) * c->vocab, sizeof(float) * (size_t)c->vocab);
    ctx->pos = pos0 + n;
    return 0;
}

/*
 * model.h — internal: the llama-family model (config, weights) and the run
 * state of a context, shared by model.c (forward pass) and infer.c (API).
 * One config covers the architectures model.c reads (llama, qwen2, qwen3,
 * gemma3, phi3): the differences are flags and per-layer tensors that are NULL
 * where an architecture has none.
 */
#ifndef WICAS_MODEL_H
#define WICAS_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"
#include "infer.h"
#include "pool.h"
#include "quant.h"
#include "tokenizer.h"

typedef enum { ARCH_LLAMA, ARCH_QWEN2, ARCH_QWEN3, ARCH_GEMMA3, ARCH_PHI3 } model_arch;

/* Hyper-parameters, all from GGUF metadata (<arch>.*; the comments name the
 * llama keys, the other architectures use the same suffixes). */
typedef struct {
    model_arch arch;
    int n_layers;         /* llama.block_count */
    int dim;              /* llama.embedding_length */
    int hidden_dim;       /* llama.feed_forward_length */
    int n_heads;          /* llama.attention.head_count */
    int n_kv_heads;       /* llama.attention.head_count_kv (default n_heads) */
    int head_dim;         /* llama.attention.key_length (default dim / n_heads) */
    int n_rot;            /* llama.rope.dimension_count (default head_dim) */
    int vocab;            /* token_embd rows */
    int ctx_train;        /* llama.context_length */
    float eps;            /* llama.attention.layer_norm_rms_epsilon */
    double rope_base;     /* llama.rope.freq_base (default 10000) */
    double rope_scale;    /* position multiplier: 1 / llama.rope.scaling.factor for linear scaling */
    bool rope_neox;       /* RoPE pairs (i, i + n_rot/2) (qwen2/3, gemma3, phi3) instead of (2i, 2i+1) */
    bool gelu;            /* FFN gate activation GELU(tanh) (gemma3) instead of SiLU */
    float embd_scale;     /* token embeddings multiplied by this (gemma3: sqrt(dim)); 0: not scaled */
    float attn_scale;     /* attention score multiplier, 1/sqrt(key_length) */
    float softcap;        /* gemma3.final_logit_softcapping: logits = c tanh(logits / c); 0: none */
    int n_swa;            /* gemma3.attention.sliding_window: a sliding layer sees keys pos-n_swa+1..pos */
    double rope_base_swa; /* gemma3.rope.freq_base_swa (default 10000), sliding layers, no scaling */
} llama_config;

/* A weight matrix: rows x cols (cols = GGUF ne[0], contiguous). May be a
 * view of consecutive rows of a fused tensor (phi3's attn_qkv, ffn_up). */
typedef struct {
    int type, rows, cols;
    size_t row_bytes;
    const uint8_t *data;
    const uint8_t *packed; /* row-interleaved copy for the SIMD kernels, or NULL */
} wmat;

typedef struct {
    float *attn_norm, *ffn_norm;           /* dim floats each (owned copies) */
    wmat wq, wk, wv, wo;                   /* attention projections */
    wmat w_gate, w_up, w_down;             /* SwiGLU / GeGLU feed-forward */
    float *bq, *bk, *bv;                   /* attention biases (qwen2), or NULL */
    float *q_norm, *k_norm;                /* per-head RMSNorm weights of q and k (head_dim), or NULL */
    float *attn_post_norm, *ffn_post_norm; /* gemma3: norms of the block outputs (dim), or NULL */
    bool swa;                              /* sliding-window layer (gemma3) */
} llama_layer;

struct wicas_infer_model {
    atomic_int refs;
    gguf_file gf;
    llama_config cfg;
    wmat tok_embd, output; /* output == tok_embd when tied */
    float *out_norm;
    llama_layer *layers;
    double *inv_freq;     /* n_rot/2 RoPE frequencies base^(-2i/n_rot) */
    double *inv_freq_swa; /* the same with rope_base_swa (sliding layers), or NULL */
    float *rope_ff;       /* llama3 RoPE: rope_freqs.weight divisors (n_rot/2), or NULL */
    wicas_tokenizer *tok;
    wicas_infer_model_info info;
    uint8_t *pack_mem; /* one allocation holding every packed matrix */
    size_t pack_bytes;
};

/* Per-context run state; sized for up to max_batch tokens per forward call. */
typedef struct {
    int max_batch, n_ctx;
    float *x, *xb, *xb2;      /* max_batch x dim (xb2: attention output, n_heads*head_dim) */
    float *q;                 /* max_batch x n_heads*head_dim */
    float *hb, *hb2;          /* max_batch x hidden_dim (gate / up) */
    float *att;               /* max_batch x n_heads x n_ctx scores */
    float *rope;              /* 2 x max_batch x (n_rot + 2) (cos, sin pairs): global, then sliding layers */
    float *logits;            /* vocab (last token) */
    q8_act act;               /* quantised activations, max_batch x max(dim, hidden, q_dim) */
    float *k_cache, *v_cache; /* n_layers x n_ctx x kv_dim */
} run_state;

struct wicas_infer_ctx {
    wicas_infer_model *m;
    pool *pool;
    run_state s;
    int pos;
};

/* Builds config, weights, tokenizer from an opened GGUF (m->gf). */
int wicas_model_build(wicas_infer_model *m, char *err, size_t errlen);
void wicas_model_free_parts(wicas_infer_model *m);
/* Packs the matrices for the SIMD kernels when this CPU runs them (after
 * this, the file pages of the packed tensors are no longer read). */
int wicas_model_pack(wicas_infer_model *m);

int wicas_run_state_alloc(run_state *s, const llama_config *c, int n_ctx, int max_batch);
void wicas_run_state_free(run_state *s);

/* Forward pass over n tokens at ctx->pos (n <= max_batch). Writes the last
 * token's logits to s.logits and, if logits_all, all n rows. */
int wicas_model_forward(wicas_infer_ctx *ctx, const int32_t *tokens, int n, float *logits_all);

#endif

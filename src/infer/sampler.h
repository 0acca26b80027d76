/*
 * sampler.h — choosing the next token from logits, deterministically.
 *
 * Internal to src/infer. Validators must pick the same token from the same
 * logits, so: every sort is a total order (logit descending, then token id
 * ascending; NaN logits count as -inf), the softmax is computed with
 * wicas_expf in ascending candidate order, and randomness comes from a
 * counter-based generator — ChaCha20 (RFC 8439) keyed with the caller's
 * 32-byte seed — so draw number i is a pure function of (seed, i).
 *
 * Pipeline per wicas_sampler_sample, following llama.cpp's default chain
 * (penalties -> top-k -> top-p -> temperature -> draw):
 *   1. repetition penalty over the last repeat_last_n accepted tokens (each
 *      distinct token once): logit > 0 -> logit / penalty, else logit * penalty
 *      (skipped when repeat_penalty == 1 or repeat_last_n == 0);
 *   2. temperature <= 0: greedy, argmax (ties -> lowest id); done, no draw;
 *   3. top-k (0 < k < n_vocab): keep the k first in the total order, sorted;
 *      otherwise all tokens stay, in id order;
 *   4. top-p (< 1): w_i = wicas_expf(logit_i - max) (temperature 1); keep the
 *      shortest prefix of the sorted candidates whose running double sum of
 *      w reaches top_p * W, W = the sum of w over the candidates (in their
 *      order: sorted after top-k, id order otherwise). At least one is kept.
 *      (Implemented by sorting only the candidates within 8, 16 or 32 of the
 *      maximum when that suffices; the result is the same as a full sort's.)
 *   5. temperature: p_i = wicas_expf((logit_i - max) / ... ) computed as
 *      (logit_i - max) * (1/temperature), the maximum itself getting exactly
 *      1; total = double sum in candidate order;
 *   6. draw u in [0,1) (53 bits, see below) and return the first candidate,
 *      in candidate order, whose running double sum of p exceeds u * total.
 * Without top-k/top-p nothing is sorted (O(n_vocab) per token).
 *
 * Random draws: block i (i = number of draws made so far by this sampler, from
 * 0) is ChaCha20(key = seed, block counter = low 32 bits of i, nonce = high 32
 * bits of i as little-endian in bytes 0..3, zeros in 4..11); the first 8 output
 * bytes read little-endian give v, u = (v >> 11) * 2^-53.
 */
#ifndef WICAS_INFER_SAMPLER_H
#define WICAS_INFER_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "infer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WICAS_SAMPLER_EINVAL (-1) /* bad parameter */
#define WICAS_SAMPLER_ENOMEM (-2) /* allocation failed */

/* Static string naming an error code. */
const char *wicas_sampler_strerror(int err);

/* The class of an error code, as infer.h defines them (WICAS_ERRCLASS_*):
 * EINVAL (a sampling parameter of the request) is REQUEST (1), ENOMEM and
 * unknown codes NODE (2), 0 NONE (0). */
int wicas_sampler_err_class(int err);

typedef struct {
    float temperature;      /* <= 0: greedy */
    uint32_t top_k;         /* 0: disabled */
    float top_p;            /* >= 1: disabled; must be > 0 */
    float repeat_penalty;   /* 1: disabled; must be > 0 */
    uint32_t repeat_last_n; /* window of accepted tokens the penalty looks at */
    uint8_t seed[32];       /* ChaCha20 key */
} wicas_sampler_params;

typedef struct wicas_sampler wicas_sampler;

/* Checks the parameters (finite temperature, 0 < top_p, 0 < repeat_penalty,
 * both finite; n_vocab >= 1; repeat_last_n <= 1<<20) and allocates a sampler.
 * Returns NULL on a bad parameter or out of memory; wicas_sampler_check tells
 * which. */
wicas_sampler *wicas_sampler_new(const wicas_sampler_params *p, uint32_t n_vocab);

/* 0 if p/n_vocab are acceptable to wicas_sampler_new, else WICAS_SAMPLER_EINVAL. */
int wicas_sampler_check(const wicas_sampler_params *p, uint32_t n_vocab);

/* Picks a token from logits[0..n_vocab) (not modified). Deterministic: the
 * result depends only on the parameters, the accepted-token history, the
 * number of earlier draws and the logits' bits. Returns an id in [0, n_vocab),
 * or -1 if s or logits is NULL. Does not record the token: call
 * wicas_sampler_accept with the token actually used. */
int32_t wicas_sampler_sample(wicas_sampler *s, const float *logits);

/* Records token (prompt or generated) in the repetition-penalty history.
 * Out-of-range ids are ignored. */
void wicas_sampler_accept(wicas_sampler *s, int32_t token);

/* Clears the history and the draw counter (back to the state after new). */
void wicas_sampler_reset(wicas_sampler *s);

/* Frees s (NULL is a no-op). */
void wicas_sampler_free(wicas_sampler *s);

/* ChaCha20 (wicas_chacha20_block) is declared in infer.h. */

/* The sampler's draw i for seed: uniform double in [0,1) with 53 random bits. */
double wicas_sampler_uniform(const uint8_t seed[32], uint64_t i);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_INFER_SAMPLER_H */

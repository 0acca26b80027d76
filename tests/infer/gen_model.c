/*
 * gen_model.c — writes small random-weight llama GGUF models for the tests.
 *
 * Usage: gen_model OUT.gguf [--dim N] [--ff N] [--layers N] [--heads N]
 *        [--kv-heads N] [--vocab N] [--ctx N] [--type f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|
 *        q2_k|q3_k|q4_k|q5_k|q6_k|q8_k|iq4_nl|iq4_xs]
 *        [--embd-type T] [--mix T] [--untied] [--seed N] [--version 2|3]
 *        [--arch llama|qwen2|qwen3|gemma3|phi3|NAME] [--head-dim N] [--swa N] [--swa-pattern N]
 *        [--softcap X] [--rope-base-swa X] [--rope-scaling TYPE] [--extra-key NAME] [--extra-tensor NAME]
 *        [--rope-freqs]
 * (--mix: attn_v and ffn_down in type T, as llama.cpp's *_M mixes do)
 * Architectures: qwen2 adds F32 Q/K/V biases; qwen3 per-head q/k norms
 * (attn_q_norm, attn_k_norm); gemma3 those norms plus post_attention_norm and
 * post_ffw_norm, <arch>.attention.sliding_window (--swa, default 8) and, when
 * given, sliding_window_pattern, final_logit_softcapping, rope.freq_base_swa;
 * phi3 fuses attn_q/k/v into attn_qkv and ffn_gate/up into ffn_up (gate rows
 * first) and writes phi3.attention.sliding_window (which llama.cpp ignores).
 * Any other --arch NAME writes a llama-shaped file under that name (the
 * engine must refuse it); --extra-key writes "<arch>.NAME" = 1 (u32) and
 * --rope-scaling writes rope.scaling.type with factor 4, --extra-tensor an
 * F32 vector of dim floats named NAME (refusal tests). --rope-freqs writes
 * llama3-style rope_freqs.weight: divisors rising from 1 to 8 over the
 * head's frequencies (no random numbers drawn).
 *
 * Weights come from a seeded splitmix64 generator (same seed, same file),
 * uniform in [-1/sqrt(cols), 1/sqrt(cols)] so activations stay O(1) through
 * the layers; norms are 1 + small noise. Quantisation follows the reference
 * block formulas (Q8_0: d = amax/127; Q4_0: d = signed-max/-8, q = x/d + 8;
 * Q4_1: d = (max-min)/15, m = min; Q5_x likewise with 5 bits; the k-quants
 * with per-sub-block scales/mins quantised against an f16 super-block scale,
 * see quantize_k). The vocabulary is llama/SentencePiece
 * style: <unk>, <s>, </s>, the 256 byte tokens <0xXX>, then words "▁wN".
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

static uint64_t rng_state;
static uint64_t splitmix(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static float urand(void) {
    return (float)((splitmix() >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* ---- growing byte buffer ---------------------------------------------------------- */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;
static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + n)
            nc *= 2;
        b->p = realloc(b->p, nc);
        if (!b->p) {
            perror("realloc");
            exit(1);
        }
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v) {
    put(b, &v, 4);
}
static void put_u64(buf *b, uint64_t v) {
    put(b, &v, 8);
}
static void put_str(buf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void kv_u32(buf *b, const char *k, uint32_t v) {
    put_str(b, k);
    put_u32(b, 4);
    put_u32(b, v);
}
static void kv_f32(buf *b, const char *k, float v) {
    put_str(b, k);
    put_u32(b, 6);
    put(b, &v, 4);
}
static void kv_str(buf *b, const char *k, const char *v) {
    put_str(b, k);
    put_u32(b, 8);
    put_str(b, v);
}
static void kv_bool(buf *b, const char *k, int v) {
    uint8_t x = (uint8_t)v;
    put_str(b, k);
    put_u32(b, 7);
    put(b, &x, 1);
}

/* ---- quantisers ---------------------------------------------------------------------- */
static int type_of(const char *s) {
    if (!strcmp(s, "f32")) return 0;
    if (!strcmp(s, "f16")) return 1;
    if (!strcmp(s, "bf16")) return 30;
    if (!strcmp(s, "q8_0")) return 8;
    if (!strcmp(s, "q4_0")) return 2;
    if (!strcmp(s, "q4_1")) return 3;
    if (!strcmp(s, "q5_0")) return 6;
    if (!strcmp(s, "q5_1")) return 7;
    if (!strcmp(s, "q2_k")) return 10;
    if (!strcmp(s, "q3_k")) return 11;
    if (!strcmp(s, "q4_k")) return 12;
    if (!strcmp(s, "q5_k")) return 13;
    if (!strcmp(s, "q6_k")) return 14;
    if (!strcmp(s, "q8_k")) return 15;
    if (!strcmp(s, "iq4_nl")) return 20;
    if (!strcmp(s, "iq4_xs")) return 23;
    fprintf(stderr, "gen_model: unknown type '%s'\n", s);
    exit(2);
}

static int clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Rounded f16 of v and its float value (the quantisers work with the scale
 * the file will hold). */
static float f16r(float v, uint16_t *h) {
    *h = f32_to_f16(v);
    return f16_to_f32(*h);
}
static int qround(float v, float s, int lo, int hi) {
    return s != 0.0f ? clampi((int)lrintf(v / s), lo, hi) : 0;
}

/* Q5_0 (d = signed max / -16, q = x/d + 16) and Q5_1 (d = (max-min)/31, m = min). */
static void quantize_q5(buf *b, int type, const float *v) {
    uint8_t blk[24] = {0};
    uint16_t hd, hm;
    int q[32];
    if (type == 6) {
        float amax = 0, mx = 0;
        for (int i = 0; i < QK; i++)
            if (fabsf(v[i]) > amax) {
                amax = fabsf(v[i]);
                mx = v[i];
            }
        float d = f16r(mx / -16.0f, &hd);
        for (int i = 0; i < QK; i++)
            q[i] = d != 0.0f ? clampi((int)lrintf(v[i] / d) + 16, 0, 31) : 16;
        memcpy(blk, &hd, 2);
    } else {
        float mn = v[0], mx = v[0];
        for (int i = 1; i < QK; i++) {
            mn = fminf(mn, v[i]);
            mx = fmaxf(mx, v[i]);
        }
        float d = f16r((mx - mn) / 31.0f, &hd), m = f16r(mn, &hm);
        for (int i = 0; i < QK; i++)
            q[i] = qround(v[i] - m, d, 0, 31);
        memcpy(blk, &hd, 2);
        memcpy(blk + 2, &hm, 2);
    }
    uint8_t *qh = blk + (type == 6 ? 2 : 4), *qs = qh + 4;
    for (int i = 0; i < 16; i++)
        qs[i] = (uint8_t)((q[i] & 15) | (q[i + 16] & 15) << 4);
    for (int i = 0; i < 32; i++)
        qh[i / 8] |= (uint8_t)(((q[i] >> 4) & 1) << (i % 8));
    put(b, blk, type == 6 ? 22 : 24);
}

/* k-quants, one 256-element super-block: per sub-block (32 elements for
 * Q4_K/Q5_K, 16 for the others) a scale (and min), quantised against the
 * super-block's f16 d (dmin), then the elements; packed as the layout says
 * (the inverse of quant.c's wicas_kq_decode). */
static void quantize_k(buf *b, int type, const float *v) {
    int q[256];
    uint8_t blk[292] = {0};
    if (type == 15) { /* Q8_K */
        float amax = 0;
        for (int i = 0; i < QKK; i++)
            amax = fmaxf(amax, fabsf(v[i]));
        float d = amax / 127.0f;
        memcpy(blk, &d, 4);
        for (int i = 0; i < QKK; i++)
            blk[4 + i] = (uint8_t)(int8_t)qround(v[i], d, -127, 127);
        for (int g = 0; g < 16; g++) {
            int16_t s = 0;
            for (int i = 0; i < 16; i++)
                s = (int16_t)(s + (int8_t)blk[4 + 16 * g + i]);
            memcpy(blk + 260 + 2 * g, &s, 2);
        }
        put(b, blk, 292);
        return;
    }
    if (type == 12 || type == 13) { /* Q4_K / Q5_K */
        const int L = type == 12 ? 15 : 31;
        float sc[8], mn[8], smax = 0, mmax = 0;
        for (int j = 0; j < 8; j++) {
            float lo = 0, hi = v[32 * j];
            for (int i = 0; i < 32; i++) {
                lo = fminf(lo, v[32 * j + i]);
                hi = fmaxf(hi, v[32 * j + i]);
            }
            sc[j] = (hi - lo) / (float)L;
            mn[j] = -lo;
            smax = fmaxf(smax, sc[j]);
            mmax = fmaxf(mmax, mn[j]);
        }
        uint16_t hd, hm;
        float d = f16r(smax / 63.0f, &hd), dm = f16r(mmax / 63.0f, &hm);
        int isc[8], imn[8];
        for (int j = 0; j < 8; j++) {
            isc[j] = qround(sc[j], d, 0, 63);
            imn[j] = qround(mn[j], dm, 0, 63);
            for (int i = 0; i < 32; i++)
                q[32 * j + i] = qround(v[32 * j + i] + dm * (float)imn[j], d * (float)isc[j], 0, L);
        }
        memcpy(blk, &hd, 2);
        memcpy(blk + 2, &hm, 2);
        uint8_t *s = blk + 4, *qh = blk + 16, *qs = type == 12 ? blk + 16 : blk + 48;
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                s[j] |= (uint8_t)isc[j];
                s[j + 4] |= (uint8_t)imn[j];
            } else {
                s[j + 4] = (uint8_t)((isc[j] & 15) | (imn[j] & 15) << 4);
                s[j - 4] |= (uint8_t)((isc[j] >> 4) << 6);
                s[j] |= (uint8_t)((imn[j] >> 4) << 6);
            }
            for (int l = 0; l < 32; l++) {
                qs[(j / 2) * 32 + l] |= (uint8_t)((q[32 * j + l] & 15) << (4 * (j & 1)));
                if (type == 13) qh[l] |= (uint8_t)(((q[32 * j + l] >> 4) & 1) << j);
            }
        }
        put(b, blk, type == 12 ? 144 : 176);
        return;
    }
    /* 16-element sub-blocks: Q2_K (x = d sc q - dmin m, 4-bit sc/m, q 0..3),
     * Q3_K (6-bit signed sc, q -4..3), Q6_K (int8 sc, q -32..31) */
    float sc[16], mn[16], smax = 0, mmax = 0;
    for (int i = 0; i < 16; i++) {
        const float *x = v + 16 * i;
        if (type == 10) {
            float lo = 0, hi = x[0];
            for (int k = 0; k < 16; k++) {
                lo = fminf(lo, x[k]);
                hi = fmaxf(hi, x[k]);
            }
            sc[i] = (hi - lo) / 3.0f;
            mn[i] = -lo;
        } else {
            float amax = 0, mx = 0;
            for (int k = 0; k < 16; k++)
                if (fabsf(x[k]) > amax) {
                    amax = fabsf(x[k]);
                    mx = x[k];
                }
            sc[i] = mx / (type == 11 ? -4.0f : -32.0f);
            mn[i] = 0;
        }
        smax = fmaxf(smax, fabsf(sc[i]));
        mmax = fmaxf(mmax, mn[i]);
    }
    uint16_t hd, hm = 0;
    const float smaxq = type == 10 ? 15.0f : type == 11 ? 31.0f : 127.0f;
    float d = f16r(smax / smaxq, &hd), dm = type == 10 ? f16r(mmax / 15.0f, &hm) : 0.0f;
    int isc[16], imn[16];
    for (int i = 0; i < 16; i++) {
        isc[i] = type == 10   ? qround(sc[i], d, 0, 15)
                 : type == 11 ? qround(sc[i], d, -32, 31)
                              : qround(sc[i], d, -128, 127);
        imn[i] = type == 10 ? qround(mn[i], dm, 0, 15) : 0;
        for (int k = 0; k < 16; k++) {
            float x = v[16 * i + k] + dm * (float)imn[i], s = d * (float)isc[i];
            q[16 * i + k] = type == 10   ? qround(x, s, 0, 3)
                            : type == 11 ? qround(x, s, -4, 3)
                                         : qround(x, s, -32, 31);
        }
    }
    if (type == 10) {
        for (int i = 0; i < 16; i++)
            blk[i] = (uint8_t)(isc[i] | imn[i] << 4);
        for (int e = 0; e < 256; e++)
            blk[16 + (e / 128) * 32 + e % 32] |= (uint8_t)(q[e] << (2 * ((e / 32) % 4)));
        memcpy(blk + 80, &hd, 2);
        memcpy(blk + 82, &hm, 2);
        put(b, blk, 84);
    } else if (type == 11) {
        uint8_t *hmask = blk, *qs = blk + 32, *s = blk + 96;
        for (int e = 0; e < 256; e++) {
            qs[(e / 128) * 32 + e % 32] |= (uint8_t)(((q[e] + 4) & 3) << (2 * ((e / 32) % 4)));
            if (q[e] >= 0) hmask[e % 32] |= (uint8_t)(1 << (e / 32));
        }
        for (int i = 0; i < 16; i++) {
            int u = isc[i] + 32;
            if (i < 8)
                s[i] |= (uint8_t)(u & 15);
            else
                s[i - 8] |= (uint8_t)((u & 15) << 4);
            s[8 + i % 4] |= (uint8_t)((u >> 4) << (2 * (i / 4)));
        }
        memcpy(blk + 108, &hd, 2);
        put(b, blk, 110);
    } else {
        uint8_t *ql = blk, *qh = blk + 128;
        for (int e = 0; e < 256; e++) {
            const int n = e / 128, k = (e / 32) % 4, l = e % 32, u = q[e] + 32;
            ql[64 * n + 32 * (k & 1) + l] |= (uint8_t)((u & 15) << (4 * (k >> 1)));
            qh[32 * n + l] |= (uint8_t)(((u >> 4) & 3) << (2 * k));
        }
        for (int i = 0; i < 16; i++)
            blk[192 + i] = (uint8_t)(int8_t)isc[i];
        memcpy(blk + 208, &hd, 2);
        put(b, blk, 210);
    }
}

/* IQ4_NL / IQ4_XS: the nearest of the 16 fixed levels to x / scale; the
 * scale maps the block's largest |x| to level -127 (IQ4_XS: per 32
 * elements, a 6-bit signed multiple of the super-block's f16 d). */
static const int IQ4_LV[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static int iq4_nearest(float v) {
    int best = 0;
    for (int k = 1; k < 16; k++)
        if (fabsf(v - (float)IQ4_LV[k]) < fabsf(v - (float)IQ4_LV[best])) best = k;
    return best;
}
static float signed_max(const float *v, int n) {
    float amax = 0, mx = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(v[i]) > amax) {
            amax = fabsf(v[i]);
            mx = v[i];
        }
    return mx;
}
static void quantize_iq4(buf *b, int type, const float *v) {
    uint8_t blk[136] = {0};
    uint16_t hd;
    if (type == 20) {
        float d = f16r(signed_max(v, 32) / -127.0f, &hd);
        memcpy(blk, &hd, 2);
        for (int i = 0; i < 16; i++)
            blk[2 + i] = (uint8_t)(iq4_nearest(d != 0.0f ? v[i] / d : 0.0f) |
                                   iq4_nearest(d != 0.0f ? v[i + 16] / d : 0.0f) << 4);
        put(b, blk, 18);
        return;
    }
    float s[8], smax = 0;
    for (int j = 0; j < 8; j++) {
        s[j] = signed_max(v + 32 * j, 32) / -127.0f;
        smax = fmaxf(smax, fabsf(s[j]));
    }
    float d = f16r(smax / 31.0f, &hd);
    uint16_t sh = 0;
    memcpy(blk, &hd, 2);
    for (int j = 0; j < 8; j++) {
        const int ls = qround(s[j], d, -32, 31), u = ls + 32;
        sh |= (uint16_t)(((u >> 4) & 3) << (2 * j));
        blk[4 + j / 2] |= (uint8_t)((u & 15) << (4 * (j % 2)));
        const float dl = d * (float)ls;
        for (int i = 0; i < 16; i++)
            blk[8 + 16 * j + i] = (uint8_t)(iq4_nearest(dl != 0.0f ? v[32 * j + i] / dl : 0.0f) |
                                            iq4_nearest(dl != 0.0f ? v[32 * j + i + 16] / dl : 0.0f) << 4);
    }
    memcpy(blk + 2, &sh, 2);
    put(b, blk, 136);
}

static void quantize(buf *b, int type, const float *x, int n) {
    switch (type) {
    case 0:
        put(b, x, sizeof(float) * (size_t)n);
        return;
    case 1:
        for (int i = 0; i < n; i++) {
            uint16_t h = f32_to_f16(x[i]);
            put(b, &h, 2);
        }
        return;
    case 30:
        for (int i = 0; i < n; i++) {
            uint16_t h = f32_to_bf16(x[i]);
            put(b, &h, 2);
        }
        return;
    case 6:
    case 7:
        for (int o = 0; o < n; o += QK)
            quantize_q5(b, type, x + o);
        return;
    case 20:
        for (int o = 0; o < n; o += QK)
            quantize_iq4(b, type, x + o);
        return;
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 23:
        if (n % QKK) {
            fprintf(stderr, "gen_model: k-quant row length %d is not a multiple of 256\n", n);
            exit(2);
        }
        for (int o = 0; o < n; o += QKK) {
            if (type == 23)
                quantize_iq4(b, type, x + o);
            else
                quantize_k(b, type, x + o);
        }
        return;
    }
    for (int o = 0; o < n; o += QK) {
        const float *v = x + o;
        if (type == 8) {
            block_q8_0 q;
            float amax = 0;
            for (int i = 0; i < QK; i++)
                amax = fmaxf(amax, fabsf(v[i]));
            float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
            q.d = f32_to_f16(d);
            for (int i = 0; i < QK; i++)
                q.qs[i] = (int8_t)clampi((int)lrintf(v[i] * id), -127, 127);
            put(b, &q, sizeof q);
        } else if (type == 2) {
            block_q4_0 q;
            float amax = 0, mx = 0;
            for (int i = 0; i < QK; i++)
                if (fabsf(v[i]) > amax) {
                    amax = fabsf(v[i]);
                    mx = v[i];
                }
            float d = mx / -8.0f, id = d ? 1.0f / d : 0.0f;
            q.d = f32_to_f16(d);
            for (int j = 0; j < QK / 2; j++) {
                int a = clampi((int)lrintf(v[j] * id) + 8, 0, 15),
                    c = clampi((int)lrintf(v[j + QK / 2] * id) + 8, 0, 15);
                q.qs[j] = (uint8_t)(a | (c << 4));
            }
            put(b, &q, sizeof q);
        } else {
            block_q4_1 q;
            float mn = v[0], mx = v[0];
            for (int i = 1; i < QK; i++) {
                mn = fminf(mn, v[i]);
                mx = fmaxf(mx, v[i]);
            }
            float d = (mx - mn) / 15.0f, id = d ? 1.0f / d : 0.0f;
            q.d = f32_to_f16(d);
            q.m = f32_to_f16(mn);
            for (int j = 0; j < QK / 2; j++) {
                int a = clampi((int)lrintf((v[j] - mn) * id), 0, 15),
                    c = clampi((int)lrintf((v[j + QK / 2] - mn) * id), 0, 15);
                q.qs[j] = (uint8_t)(a | (c << 4));
            }
            put(b, &q, sizeof q);
        }
    }
}

/* ---- tensors ------------------------------------------------------------------------- */
typedef struct {
    char name[64];
    int type;
    uint64_t ne[2];
    int nd;
    buf data;
} tensor;
static tensor *T;
static int nT;

static void add_tensor(const char *name, int type, int cols, int rows, int nd, float scale, float base) {
    T = realloc(T, sizeof(tensor) * (size_t)(nT + 1));
    tensor *t = &T[nT++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->ne[0] = (uint64_t)cols;
    t->ne[1] = (uint64_t)rows;
    t->nd = nd;
    float *row = malloc(sizeof(float) * (size_t)cols);
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < cols; i++)
            row[i] = base + scale * urand();
        quantize(&t->data, type, row, cols);
    }
    free(row);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr,
                "usage: gen_model OUT.gguf [--dim N] [--ff N] [--layers N] [--heads N] [--kv-heads N] "
                "[--vocab N] [--ctx N] [--type T] [--embd-type T] [--mix T] [--untied] [--seed N] [--version "
                "2|3]\n");
        return 2;
    }
    int dim = 288, ff = 800, layers = 2, heads = 6, kvh = 2, vocab = 300, ctx = 256, type = 3, etype = 8,
        untied = 0, version = 3, mix = -1, head_dim = 0, swa = 8, swa_pattern = 0, rope_freqs = 0;
    const char *arch = "llama", *extra_key = NULL, *rope_scaling = NULL, *extra_tensor = NULL;
    float softcap = 0.0f, rope_base_swa = 0.0f;
    uint64_t seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--untied")) {
            untied = 1;
            continue;
        }
        if (!strcmp(a, "--rope-freqs")) {
            rope_freqs = 1;
            continue;
        }
        i++;
        if (!strcmp(a, "--dim"))
            dim = atoi(v);
        else if (!strcmp(a, "--ff"))
            ff = atoi(v);
        else if (!strcmp(a, "--layers"))
            layers = atoi(v);
        else if (!strcmp(a, "--heads"))
            heads = atoi(v);
        else if (!strcmp(a, "--kv-heads"))
            kvh = atoi(v);
        else if (!strcmp(a, "--vocab"))
            vocab = atoi(v);
        else if (!strcmp(a, "--ctx"))
            ctx = atoi(v);
        else if (!strcmp(a, "--type"))
            type = type_of(v);
        else if (!strcmp(a, "--embd-type"))
            etype = type_of(v);
        else if (!strcmp(a, "--mix"))
            mix = type_of(v);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--version"))
            version = atoi(v);
        else if (!strcmp(a, "--arch"))
            arch = v;
        else if (!strcmp(a, "--head-dim"))
            head_dim = atoi(v);
        else if (!strcmp(a, "--swa"))
            swa = atoi(v);
        else if (!strcmp(a, "--swa-pattern"))
            swa_pattern = atoi(v);
        else if (!strcmp(a, "--softcap"))
            softcap = (float)atof(v);
        else if (!strcmp(a, "--rope-base-swa"))
            rope_base_swa = (float)atof(v);
        else if (!strcmp(a, "--rope-scaling"))
            rope_scaling = v;
        else if (!strcmp(a, "--extra-key"))
            extra_key = v;
        else if (!strcmp(a, "--extra-tensor"))
            extra_tensor = v;
        else {
            fprintf(stderr, "gen_model: unknown flag %s\n", a);
            return 2;
        }
    }
    const int is_qwen2 = !strcmp(arch, "qwen2"), is_qwen3 = !strcmp(arch, "qwen3"),
              is_gemma3 = !strcmp(arch, "gemma3"), is_phi3 = !strcmp(arch, "phi3");
    if (head_dim == 0) head_dim = heads > 0 ? dim / heads : 0;
    if (vocab < 260 || dim % QK || ff % QK || heads <= 0 || kvh <= 0 || heads % kvh || dim % heads ||
        head_dim <= 0 || (heads * head_dim) % QK) {
        fprintf(stderr, "gen_model: bad shape\n");
        return 2;
    }
    rng_state = seed;
    /* tensors */
    float ws = 1.0f / sqrtf((float)dim), wf = 1.0f / sqrtf((float)ff),
          wo = 1.0f / sqrtf((float)(heads * head_dim));
    add_tensor("token_embd.weight", etype, dim, vocab, 2, 1.0f, 0.0f);
    for (int l = 0; l < layers; l++) {
        char n[64];
        const int hd = head_dim;
#define TN(s) (snprintf(n, sizeof n, "blk.%d.%s.weight", l, s), n)
        add_tensor(TN("attn_norm"), 0, dim, 1, 1, 0.1f, 1.0f);
        if (is_phi3) {
            add_tensor(TN("attn_qkv"), type, dim, (heads + 2 * kvh) * hd, 2, ws, 0.0f);
            add_tensor(TN("attn_output"), type, heads * hd, dim, 2, wo, 0.0f);
            add_tensor(TN("ffn_norm"), 0, dim, 1, 1, 0.1f, 1.0f);
            add_tensor(TN("ffn_up"), type, dim, 2 * ff, 2, ws, 0.0f);
            add_tensor(TN("ffn_down"), mix >= 0 ? mix : type, ff, dim, 2, wf, 0.0f);
            continue;
        }
        add_tensor(TN("attn_q"), type, dim, heads * hd, 2, ws, 0.0f);
        add_tensor(TN("attn_k"), type, dim, kvh * hd, 2, ws, 0.0f);
        add_tensor(TN("attn_v"), mix >= 0 ? mix : type, dim, kvh * hd, 2, ws, 0.0f);
        add_tensor(TN("attn_output"), type, heads * hd, dim, 2, heads * hd == dim ? ws : wo, 0.0f);
        add_tensor(TN("ffn_norm"), 0, dim, 1, 1, 0.1f, 1.0f);
        add_tensor(TN("ffn_gate"), type, dim, ff, 2, ws, 0.0f);
        add_tensor(TN("ffn_up"), type, dim, ff, 2, ws, 0.0f);
        add_tensor(TN("ffn_down"), mix >= 0 ? mix : type, ff, dim, 2, wf, 0.0f);
#undef TN
#define BN(s) (snprintf(n, sizeof n, "blk.%d.%s.bias", l, s), n)
        if (is_qwen2) {
            add_tensor(BN("attn_q"), 0, heads * hd, 1, 1, 0.5f, 0.0f);
            add_tensor(BN("attn_k"), 0, kvh * hd, 1, 1, 0.5f, 0.0f);
            add_tensor(BN("attn_v"), 0, kvh * hd, 1, 1, 0.5f, 0.0f);
        }
#undef BN
#define TN(s) (snprintf(n, sizeof n, "blk.%d.%s.weight", l, s), n)
        if (is_qwen3 || is_gemma3) {
            add_tensor(TN("attn_q_norm"), 0, hd, 1, 1, 0.1f, 1.0f);
            add_tensor(TN("attn_k_norm"), 0, hd, 1, 1, 0.1f, 1.0f);
        }
        if (is_gemma3) {
            add_tensor(TN("post_attention_norm"), 0, dim, 1, 1, 0.1f, 1.0f);
            add_tensor(TN("post_ffw_norm"), 0, dim, 1, 1, 0.1f, 1.0f);
        }
#undef TN
    }
    add_tensor("output_norm.weight", 0, dim, 1, 1, 0.1f, 1.0f);
    if (untied) add_tensor("output.weight", type, dim, vocab, 2, ws, 0.0f);
    if (extra_tensor) add_tensor(extra_tensor, 0, dim, 1, 1, 0.1f, 1.0f);
    if (rope_freqs) {
        T = realloc(T, sizeof(tensor) * (size_t)(nT + 1));
        tensor *t = &T[nT++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "rope_freqs.weight");
        t->ne[0] = (uint64_t)(head_dim / 2);
        t->ne[1] = 1;
        t->nd = 1;
        for (int i = 0; i < head_dim / 2; i++) {
            float v = 1.0f + 7.0f * (float)i / (float)(head_dim / 2 - 1);
            put(&t->data, &v, 4);
        }
    }

    /* metadata */
    buf kv = {0};
    int n_kv = 0;
#define KV(call) (call, n_kv++)
    char key[128];
#define AK(s) (snprintf(key, sizeof key, "%s.%s", arch, s), key)
    KV(kv_str(&kv, "general.architecture", arch));
    KV(kv_str(&kv, "general.name", "wicas-test"));
    KV(kv_u32(&kv, "general.alignment", 32));
    KV(kv_u32(&kv, AK("block_count"), (uint32_t)layers));
    KV(kv_u32(&kv, AK("context_length"), (uint32_t)ctx));
    KV(kv_u32(&kv, AK("embedding_length"), (uint32_t)dim));
    KV(kv_u32(&kv, AK("feed_forward_length"), (uint32_t)ff));
    KV(kv_u32(&kv, AK("attention.head_count"), (uint32_t)heads));
    KV(kv_u32(&kv, AK("attention.head_count_kv"), (uint32_t)kvh));
    KV(kv_f32(&kv, AK("rope.freq_base"), is_gemma3 ? 1000000.0f : 10000.0f));
    KV(kv_f32(&kv, AK("attention.layer_norm_rms_epsilon"), is_gemma3 ? 1e-6f : 1e-5f));
    KV(kv_u32(&kv, AK("vocab_size"), (uint32_t)vocab));
    KV(kv_u32(&kv, AK("rope.dimension_count"), (uint32_t)head_dim));
    if (head_dim != dim / heads || is_gemma3) {
        KV(kv_u32(&kv, AK("attention.key_length"), (uint32_t)head_dim));
        KV(kv_u32(&kv, AK("attention.value_length"), (uint32_t)head_dim));
    }
    if (is_gemma3) {
        KV(kv_u32(&kv, AK("attention.sliding_window"), (uint32_t)swa));
        if (swa_pattern) KV(kv_u32(&kv, AK("attention.sliding_window_pattern"), (uint32_t)swa_pattern));
        if (softcap != 0.0f) KV(kv_f32(&kv, AK("final_logit_softcapping"), softcap));
        if (rope_base_swa != 0.0f) KV(kv_f32(&kv, AK("rope.freq_base_swa"), rope_base_swa));
    }
    if (is_phi3) KV(kv_u32(&kv, AK("attention.sliding_window"), 2047));
    if (rope_scaling) {
        KV(kv_str(&kv, AK("rope.scaling.type"), rope_scaling));
        KV(kv_f32(&kv, AK("rope.scaling.factor"), 4.0f));
    }
    if (extra_key) KV(kv_u32(&kv, AK(extra_key), 1));
#undef AK
    KV(kv_str(&kv, "tokenizer.ggml.model", "llama"));
    KV(kv_u32(&kv, "tokenizer.ggml.bos_token_id", 1));
    KV(kv_u32(&kv, "tokenizer.ggml.eos_token_id", 2));
    KV(kv_u32(&kv, "tokenizer.ggml.unknown_token_id", 0));
    KV(kv_bool(&kv, "tokenizer.ggml.add_bos_token", 1));
    /* tokens, scores, types */
    put_str(&kv, "tokenizer.ggml.tokens");
    put_u32(&kv, 9);
    put_u32(&kv, 8);
    put_u64(&kv, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) {
        char s[32];
        if (i == 0)
            snprintf(s, sizeof s, "<unk>");
        else if (i == 1)
            snprintf(s, sizeof s, "<s>");
        else if (i == 2)
            snprintf(s, sizeof s, "</s>");
        else if (i < 259)
            snprintf(s, sizeof s, "<0x%02X>", i - 3);
        else
            snprintf(s, sizeof s, "\xe2\x96\x81w%d", i - 259);
        put_str(&kv, s);
    }
    n_kv++;
    put_str(&kv, "tokenizer.ggml.scores");
    put_u32(&kv, 9);
    put_u32(&kv, 6);
    put_u64(&kv, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) {
        float s = i < 259 ? 0.0f : -(float)(i - 259);
        put(&kv, &s, 4);
    }
    n_kv++;
    put_str(&kv, "tokenizer.ggml.token_type");
    put_u32(&kv, 9);
    put_u32(&kv, 5);
    put_u64(&kv, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) {
        int32_t t = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
        put(&kv, &t, 4);
    }
    n_kv++;
#undef KV

    /* file: header, kv, tensor infos, padding, data */
    buf f = {0};
    put_u32(&f, 0x46554747u);
    put_u32(&f, (uint32_t)version);
    put_u64(&f, (uint64_t)nT);
    put_u64(&f, (uint64_t)n_kv);
    put(&f, kv.p, kv.n);
    uint64_t off = 0;
    for (int i = 0; i < nT; i++) {
        put_str(&f, T[i].name);
        put_u32(&f, (uint32_t)T[i].nd);
        for (int d = 0; d < T[i].nd; d++)
            put_u64(&f, T[i].ne[d]);
        put_u32(&f, (uint32_t)T[i].type);
        put_u64(&f, off);
        off += (T[i].data.n + 31) / 32 * 32;
    }
    static const uint8_t zeros[32];
    put(&f, zeros, (32 - f.n % 32) % 32);
    for (int i = 0; i < nT; i++) {
        put(&f, T[i].data.p, T[i].data.n);
        put(&f, zeros, (32 - T[i].data.n % 32) % 32);
    }
    FILE *o = fopen(argv[1], "wb");
    if (!o || fwrite(f.p, 1, f.n, o) != f.n || fclose(o) != 0) {
        perror(argv[1]);
        return 1;
    }
    for (int i = 0; i < nT; i++)
        free(T[i].data.p);
    free(T);
    free(f.p);
    free(kv.p);
    return 0;
}

/*
 * sampler.c — deterministic next-token selection (see sampler.h for the
 * pipeline) and the ChaCha20 block function that supplies its randomness.
 *
 * Shaped for bit-exact agreement between validators: candidates live in an
 * array sorted by a total order (logit desc, id asc), probabilities are summed
 * in that order, and the random number for draw i depends only on (seed, i).
 * No libm: exponentials come from detmath.
 */
#include "sampler.h"
#include "detmath.h"

#include <stdlib.h>
#include <string.h>

/* ============================================================================
 * ChaCha20 block function (RFC 8439, section 2.3)
 * ============================================================================ */

static inline uint32_t rotl32(uint32_t v, int c) {
    return (v << c) | (v >> (32 - c));
}

static inline uint32_t load32_le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void store32_le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The quarter round mixes four words of the 4x4 state. */
#define QR(a, b, c, d)                                                                                       \
    do {                                                                                                     \
        a += b;                                                                                              \
        d ^= a;                                                                                              \
        d = rotl32(d, 16);                                                                                   \
        c += d;                                                                                              \
        b ^= c;                                                                                              \
        b = rotl32(b, 12);                                                                                   \
        a += b;                                                                                              \
        d ^= a;                                                                                              \
        d = rotl32(d, 8);                                                                                    \
        c += d;                                                                                              \
        b ^= c;                                                                                              \
        b = rotl32(b, 7);                                                                                    \
    } while (0)

void wicas_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]) {
    uint32_t st[16], x[16];
    /* "expand 32-byte k" */
    st[0] = 0x61707865u;
    st[1] = 0x3320646eu;
    st[2] = 0x79622d32u;
    st[3] = 0x6b206574u;
    for (int i = 0; i < 8; i++)
        st[4 + i] = load32_le(key + 4 * i);
    st[12] = counter;
    for (int i = 0; i < 3; i++)
        st[13 + i] = load32_le(nonce + 4 * i);
    memcpy(x, st, sizeof x);
    for (int round = 0; round < 10; round++) { /* 20 rounds = 10 double rounds */
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, x[i] + st[i]);
}

double wicas_sampler_uniform(const uint8_t seed[32], uint64_t i) {
    uint8_t nonce[12] = {0}, block[64];
    store32_le(nonce, (uint32_t)(i >> 32));
    wicas_chacha20_block(seed, (uint32_t)i, nonce, block);
    uint64_t v = (uint64_t)load32_le(block) | ((uint64_t)load32_le(block + 4) << 32);
    return (double)(v >> 11) * (1.0 / 9007199254740992.0); /* 2^-53, exact */
}

/* ============================================================================
 * Sampler
 * ============================================================================ */

const char *wicas_sampler_strerror(int err) {
    switch (err) {
    case 0:
        return "ok";
    case WICAS_SAMPLER_EINVAL:
        return "invalid sampler parameter";
    case WICAS_SAMPLER_ENOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

int wicas_sampler_err_class(int err) {
    return err == 0 ? 0 : err == WICAS_SAMPLER_EINVAL ? 1 : 2;
}

typedef struct {
    float logit;
    int32_t id;
} cand;

struct wicas_sampler {
    wicas_sampler_params p;
    uint32_t n_vocab;
    uint64_t draws; /* number of random draws so far */
    int32_t *hist;  /* ring buffer of the last repeat_last_n accepted tokens */
    uint32_t hist_len, hist_pos;
    uint8_t *seen; /* n_vocab flags, scratch for the penalty */
    cand *c;       /* n_vocab candidates, scratch */
    float *prob;   /* n_vocab probabilities, scratch */
};

static inline int isfinite_f(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u & 0x7f800000u) != 0x7f800000u;
}

static inline int isnan_f(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u & 0x7fffffffu) > 0x7f800000u;
}

int wicas_sampler_check(const wicas_sampler_params *p, uint32_t n_vocab) {
    if (!p || n_vocab == 0) return WICAS_SAMPLER_EINVAL;
    if (!isfinite_f(p->temperature)) return WICAS_SAMPLER_EINVAL;
    if (!isfinite_f(p->top_p) || !(p->top_p > 0.0f)) return WICAS_SAMPLER_EINVAL;
    if (!isfinite_f(p->repeat_penalty) || !(p->repeat_penalty > 0.0f)) return WICAS_SAMPLER_EINVAL;
    if (p->repeat_last_n > (1u << 20)) return WICAS_SAMPLER_EINVAL;
    return 0;
}

wicas_sampler *wicas_sampler_new(const wicas_sampler_params *p, uint32_t n_vocab) {
    if (wicas_sampler_check(p, n_vocab) != 0) return NULL;
    wicas_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->hist = calloc(p->repeat_last_n ? p->repeat_last_n : 1, sizeof *s->hist);
    s->seen = calloc(n_vocab, 1);
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
    if (!s->hist || !s->seen || !s->c || !s->prob) {
        wicas_sampler_free(s);
        return NULL;
    }
    return s;
}

void wicas_sampler_free(wicas_sampler *s) {
    if (!s) return;
    free(s->hist);
    free(s->seen);
    free(s->c);
    free(s->prob);
    free(s);
}

void wicas_sampler_reset(wicas_sampler *s) {
    if (!s) return;
    s->draws = 0;
    s->hist_len = 0;
    s->hist_pos = 0;
}

void wicas_sampler_accept(wicas_sampler *s, int32_t token) {
    if (!s || token < 0 || (uint32_t)token >= s->n_vocab || s->p.repeat_last_n == 0) return;
    s->hist[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->hist_len < s->p.repeat_last_n) s->hist_len++;
}

/* Total order: higher logit first, then lower id. NaN was mapped to -inf. */
static inline int cand_before(const cand *a, const cand *b) {
    if (a->logit != b->logit) return a->logit > b->logit;
    return a->id < b->id;
}

static int cand_cmp(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (cand_before(a, b)) return -1;
    if (cand_before(b, a)) return 1;
    return 0;
}

/* Keeps the best k of c[0..n) at the front, sorted; returns k (<= n).
 * For small k a bounded binary heap (worst candidate at the root) avoids
 * sorting the whole vocabulary. Result is independent of the method because
 * the order is total. */
static size_t select_top(cand *c, size_t n, size_t k) {
    if (k == 0 || k >= n || k > 256) {
        qsort(c, n, sizeof *c, cand_cmp);
        return (k == 0 || k >= n) ? n : k;
    }
    /* heap in c[0..k): root is the candidate that comes last in the order */
    size_t h = 0;
    for (size_t i = 0; i < n; i++) {
        cand x = c[i];
        if (h < k) {
            size_t j = h++;
            while (j > 0) { /* sift up: parent must come after child */
                size_t pj = (j - 1) / 2;
                if (!cand_before(&c[pj], &x)) break;
                c[j] = c[pj];
                j = pj;
            }
            c[j] = x;
        } else if (cand_before(&x, &c[0])) {
            size_t j = 0;
            for (;;) { /* sift down */
                size_t l = 2 * j + 1, r = l + 1, m = j;
                const cand *mv = &x;
                if (l < k && cand_before(mv, &c[l])) {
                    m = l;
                    mv = &c[l];
                }
                if (r < k && cand_before(mv, &c[r])) {
                    m = r;
                    mv = &c[r];
                }
                if (m == j) break;
                c[j] = c[m];
                j = m;
            }
            c[j] = x;
        }
    }
    qsort(c, k, sizeof *c, cand_cmp);
    return k;
}

/* Largest logit of c[0..n) (NaN was mapped to -inf before). */
static float max_logit(const cand *c, size_t n) {
    float m = c[0].logit;
    for (size_t i = 1; i < n; i++)
        if (c[i].logit > m) m = c[i].logit;
    return m;
}

/* prob[i] = exp((c[i].logit - mx) * inv_t) for i < n, summed in index order;
 * returns the sum. The maximum itself gets exactly 1 (z = 0 even when inv_t
 * is inf, where 0 * inf would be NaN); -inf logits get 0. */
static double softmax_unnorm(const cand *c, size_t n, float mx, float inv_t, float *prob) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float e;
        if (c[i].logit == mx)
            e = 1.0f;
        else if (c[i].logit == -__builtin_inff())
            e = 0.0f;
        else
            e = wicas_expf((c[i].logit - mx) * inv_t);
        prob[i] = e;
        sum += (double)e;
    }
    return sum;
}

/* Top-p over all n candidates (in id order in c) without sorting all of
 * them when it is not needed. The cut is defined on the full order (logit
 * desc, id asc): keep the shortest prefix whose running sum of
 * exp(logit - max), accumulated in that order, reaches top_p * Z, where Z is
 * the same quantity summed over all candidates in id order. Only the
 * candidates with logit >= max - 8 (then 16, then 32) are sorted first; they
 * are an exact prefix of the full order, so if the cut falls inside them the
 * result is the one a full sort would give. Otherwise everything is sorted.
 * Leaves the kept candidates sorted at the front of c; returns their count. */
static size_t top_p_all(wicas_sampler *s, size_t n, float top_p) {
    cand *c = s->c;
    float mx = max_logit(c, n);
    double z = softmax_unnorm(c, n, mx, 1.0f, s->prob);
    double target = (double)top_p * z;
    /* try heads of growing width: logits within 8, 16, 32 of the maximum */
    static const float WIDTH[3] = {8.0f, 16.0f, 32.0f};
    for (int w = 0; w < 3 && mx != -__builtin_inff(); w++) {
        float thr = mx - WIDTH[w];
        size_t h = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].logit >= thr) {
                cand t = c[h];
                c[h] = c[i];
                c[i] = t;
                h++;
            }
        if (h == n) break; /* the head is everything: sort it all below */
        qsort(c, h, sizeof *c, cand_cmp);
        double acc = 0.0;
        for (size_t i = 0; i < h; i++) {
            float e = c[i].logit == mx ? 1.0f : wicas_expf(c[i].logit - mx);
            acc += (double)e;
            if (acc >= target) return i + 1;
        }
    }
    qsort(c, n, sizeof *c, cand_cmp);
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        float e =
            c[i].logit == mx ? 1.0f : (c[i].logit == -__builtin_inff() ? 0.0f : wicas_expf(c[i].logit - mx));
        acc += (double)e;
        if (acc >= target) return i + 1;
    }
    return n;
}

/* Top-p over an already sorted prefix c[0..n) (after top-k). */
static size_t top_p_sorted(wicas_sampler *s, size_t n, float top_p) {
    double sum = softmax_unnorm(s->c, n, s->c[0].logit, 1.0f, s->prob);
    double target = (double)top_p * sum, acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += (double)s->prob[i];
        if (acc >= target) return i + 1;
    }
    return n;
}

int32_t wicas_sampler_sample(wicas_sampler *s, const float *logits) {
    if (!s || !logits) return -1;
    const uint32_t nv = s->n_vocab;
    cand *c = s->c;
    for (uint32_t i = 0; i < nv; i++) {
        float l = logits[i];
        c[i].logit = isnan_f(l) ? -__builtin_inff() : l;
        c[i].id = (int32_t)i;
    }

    /* 1. repetition penalty, each distinct token in the window once */
    if (s->p.repeat_penalty != 1.0f && s->hist_len > 0) {
        const float pen = s->p.repeat_penalty;
        for (uint32_t j = 0; j < s->hist_len; j++) {
            int32_t t = s->hist[j];
            if (s->seen[t]) continue;
            s->seen[t] = 1;
            float l = c[t].logit;
            c[t].logit = l > 0.0f ? l / pen : l * pen;
        }
        for (uint32_t j = 0; j < s->hist_len; j++)
            s->seen[s->hist[j]] = 0;
    }

    /* 2. greedy */
    if (!(s->p.temperature > 0.0f)) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < nv; i++)
            if (c[i].logit > c[best].logit) best = i; /* strict: ties keep the lower id */
        return (int32_t)best;
    }

    /* 3. top-k (sorted prefix), 4. top-p */
    size_t n = nv;
    bool sorted = false;
    if (s->p.top_k > 0 && s->p.top_k < nv) {
        n = select_top(c, nv, s->p.top_k);
        sorted = true;
    }
    if (s->p.top_p < 1.0f && n > 1) {
        n = sorted ? top_p_sorted(s, n, s->p.top_p) : top_p_all(s, n, s->p.top_p);
        sorted = true;
    }

    /* 5. temperature and final distribution, in the candidates' order */
    float mx = sorted ? c[0].logit : max_logit(c, n);
    double total = softmax_unnorm(c, n, mx, 1.0f / s->p.temperature, s->prob);

    /* 6. draw */
    double u = wicas_sampler_uniform(s->p.seed, s->draws++);
    if (!(total > 0.0)) return c[0].id; /* every logit -inf: the first candidate */
    double r = u * total, acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += (double)s->prob[i];
        if (acc > r) return c[i].id;
    }
    return c[n - 1].id; /* rounding left r at the very end: the last candidate */
}

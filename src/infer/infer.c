/*
 * infer.c — the public API of infer.h: model loading (validate + hash),
 * reference counting, the SHA-256-keyed model cache, contexts, tokenizer
 * wrappers and the generation loop.
 *
 * The generation loop is deliberately plain: tokenize, prefill in batches of
 * up to MAX_BATCH tokens, then sample / accept / evaluate one token at a time
 * into buffers allocated before the loop (no allocation per token except
 * growing the output text, which doubles).
 */
#include "infer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"
#include "model.h"
#include "sampler.h"

#define MAX_BATCH 64

const char *wicas_infer_strerror(int err) {
    switch (err) {
    case WICAS_INFER_OK:
        return "ok";
    case WICAS_INFER_EIO:
        return "cannot read the model file";
    case WICAS_INFER_EFORMAT:
        return "malformed model file";
    case WICAS_INFER_EUNSUPPORTED:
        return "unsupported model feature";
    case WICAS_INFER_ENOMEM:
        return "out of memory";
    case WICAS_INFER_EARG:
        return "invalid argument";
    case WICAS_INFER_ECTX:
        return "context window full";
    case WICAS_INFER_EHASH:
        return "model file hash mismatch";
    case WICAS_INFER_ETOKEN:
        return "tokenizer error";
    case WICAS_INFER_ECANCEL:
        return "cancelled";
    default:
        return "unknown error";
    }
}

int wicas_infer_err_class(int err) {
    switch (err) {
    case WICAS_INFER_OK:
        return WICAS_ERRCLASS_NONE;
    case WICAS_INFER_EARG:   /* bad sampling parameters, token ids, empty prompt */
    case WICAS_INFER_ECTX:   /* prompt (+ generation) longer than the context */
    case WICAS_INFER_ETOKEN: /* text or chat message the model's tokenizer cannot encode */
        return WICAS_ERRCLASS_REQUEST;
    default: /* EIO, EFORMAT, EUNSUPPORTED, EHASH, ENOMEM, ECANCEL and unknown codes */
        return WICAS_ERRCLASS_NODE;
    }
}

/* ---- models ------------------------------------------------------------------------ */

static int hash_mapping(const uint8_t *p, size_t n, uint8_t out[32], wicas_infer_progress_fn progress,
                        void *user) {
    wicas_sha256_ctx *h = wicas_sha256_begin();
    if (!h) return WICAS_INFER_ENOMEM;
    const size_t chunk = (size_t)16 << 20;
    for (size_t off = 0; off < n; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk;
        wicas_sha256_update(h, p + off, len);
        /* Drop the hashed pages from this process (clean file pages, read
         * again on demand) so that loading never holds the whole file and
         * the packed copy at once. */
        madvise((void *)(p + off), len, MADV_DONTNEED);
        if (progress && !progress(off + len, n, user)) {
            wicas_sha256_final(h, out);
            return WICAS_INFER_ECANCEL;
        }
    }
    wicas_sha256_final(h, out);
    return 0;
}

int wicas_infer_model_load(const char *path, wicas_infer_progress_fn progress, void *user,
                           wicas_infer_model **out, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!path || !out) {
        wicas_errf(err, errlen, "wicas_infer_model_load: path and out must not be NULL");
        return WICAS_INFER_EARG;
    }
    *out = NULL;
    wicas_infer_model *m = calloc(1, sizeof *m);
    if (!m) return WICAS_INFER_ENOMEM;
    atomic_init(&m->refs, 1);
    int rc = wicas_gguf_open(path, &m->gf, err, errlen);
    if (rc) {
        free(m);
        return rc;
    }
    char sub[400];
    sub[0] = 0;
    rc = wicas_model_build(m, sub, sizeof sub);
    if (rc == 0) {
        rc = hash_mapping(m->gf.map, m->gf.size, m->info.sha256, progress, user);
        if (rc == WICAS_INFER_ECANCEL)
            snprintf(sub, sizeof sub, "loading cancelled by the progress callback");
    }
    if (rc == 0) {
        rc = wicas_model_pack(m);
        if (rc) snprintf(sub, sizeof sub, "out of memory packing the weights (%zu bytes)", m->pack_bytes);
        /* Packing read the packed tensors' pages; give them back (clean file
         * pages: read again on demand, e.g. embedding rows), so resident
         * memory is the packed copy plus what is actually used. */
        if (rc == 0 && m->pack_mem) madvise((void *)m->gf.map, m->gf.size, MADV_DONTNEED);
    }
    if (rc) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, sub[0] ? sub : wicas_infer_strerror(rc));
        wicas_model_free_parts(m);
        wicas_gguf_close(&m->gf);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void wicas_infer_model_retain(wicas_infer_model *m) {
    if (m) atomic_fetch_add(&m->refs, 1);
}

void wicas_infer_model_release(wicas_infer_model *m) {
    if (!m) return;
    if (atomic_fetch_sub(&m->refs, 1) != 1) return;
    wicas_model_free_parts(m);
    wicas_gguf_close(&m->gf);
    free(m);
}

void wicas_infer_model_get_info(const wicas_infer_model *m, wicas_infer_model_info *info) {
    *info = m->info;
}

/* ---- cache ---------------------------------------------------------------------------
 * Entries are keyed by SHA-256. To avoid re-hashing a 100 MB file on every
 * request, each entry also remembers the (device, inode, size, mtime) of the
 * path it was loaded from: a path whose stat matches is taken to have the
 * same bytes (files are replaced, not edited in place, by the set-up). */
typedef struct {
    uint8_t sha[32];
    wicas_infer_model *m;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} cache_entry;

struct wicas_infer_cache {
    pthread_mutex_t mu;
    cache_entry *e;
    size_t n, cap;
};

wicas_infer_cache *wicas_infer_cache_new(void) {
    wicas_infer_cache *c = calloc(1, sizeof *c);
    if (c) pthread_mutex_init(&c->mu, NULL);
    return c;
}

void wicas_infer_cache_free(wicas_infer_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++)
        wicas_infer_model_release(c->e[i].m);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t wicas_infer_cache_size(wicas_infer_cache *c) {
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

wicas_infer_model *wicas_infer_cache_find(wicas_infer_cache *c, const uint8_t sha[32]) {
    wicas_infer_model *m = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->e[i].sha, sha, 32) == 0) {
            m = c->e[i].m;
            wicas_infer_model_retain(m);
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return m;
}

int wicas_infer_cache_get(wicas_infer_cache *c, const char *path, const uint8_t expected[32],
                          wicas_infer_model **out, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!c || !path || !out) {
        wicas_errf(err, errlen, "wicas_infer_cache_get: cache, path and out must not be NULL");
        return WICAS_INFER_EARG;
    }
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (err && errlen) snprintf(err, errlen, "cannot stat model file %s: %s", path, strerror(errno));
        return WICAS_INFER_EIO;
    }
    /* Hold the lock for the whole call: concurrent first loads of one model
     * then load it once. */
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    for (size_t i = 0; i < c->n; i++) {
        cache_entry *e = &c->e[i];
        if (e->dev == st.st_dev && e->ino == st.st_ino && e->size == st.st_size &&
            e->mtime.tv_sec == st.st_mtim.tv_sec && e->mtime.tv_nsec == st.st_mtim.tv_nsec) {
            if (expected && memcmp(expected, e->sha, 32) != 0) {
                char want[65], got[65];
                wicas_hex_encode(expected, 32, want);
                wicas_hex_encode(e->sha, 32, got);
                if (err && errlen)
                    snprintf(err, errlen, "model file %s has SHA-256 %s, expected %s", path, got, want);
                rc = WICAS_INFER_EHASH;
                goto out;
            }
            wicas_infer_model_retain(e->m);
            *out = e->m;
            goto out;
        }
    }
    if (expected)
        for (size_t i = 0; i < c->n; i++)
            if (memcmp(c->e[i].sha, expected, 32) == 0) {
                /* Same bytes already resident under another path: check this
                 * file really has them before handing the resident model out. */
                uint8_t h[32];
                if (wicas_sha256_file(path, h) != 0) {
                    if (err && errlen)
                        snprintf(err, errlen, "cannot read model file %s: %s", path, strerror(errno));
                    rc = WICAS_INFER_EIO;
                    goto out;
                }
                if (memcmp(h, expected, 32) != 0) break;
                wicas_infer_model_retain(c->e[i].m);
                *out = c->e[i].m;
                goto out;
            }
    wicas_infer_model *m;
    rc = wicas_infer_model_load(path, NULL, NULL, &m, err, errlen);
    if (rc) goto out;
    if (expected && memcmp(expected, m->info.sha256, 32) != 0) {
        char want[65], got[65];
        wicas_hex_encode(expected, 32, want);
        wicas_hex_encode(m->info.sha256, 32, got);
        if (err && errlen)
            snprintf(err, errlen, "model file %s has SHA-256 %s, expected %s", path, got, want);
        wicas_infer_model_release(m);
        rc = WICAS_INFER_EHASH;
        goto out;
    }
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->e[i].sha, m->info.sha256, 32) == 0) {
            /* Same content, new path: keep the resident copy. */
            wicas_infer_model_release(m);
            m = c->e[i].m;
            wicas_infer_model_retain(m);
            *out = m;
            goto out;
        }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 4;
        cache_entry *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne) {
            wicas_infer_model_release(m);
            rc = WICAS_INFER_ENOMEM;
            goto out;
        }
        c->e = ne;
        c->cap = nc;
    }
    cache_entry *e = &c->e[c->n++];
    memcpy(e->sha, m->info.sha256, 32);
    e->m = m;
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->size = st.st_size;
    e->mtime = st.st_mtim;
    wicas_infer_model_retain(m);
    *out = m;
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- tokens ----------------------------------------------------------------------------- */
static int tok_rc(int rc) {
    return rc == 0 ? 0 : rc == WICAS_TOK_ENOMEM ? WICAS_INFER_ENOMEM : WICAS_INFER_ETOKEN;
}

int wicas_infer_tokenize(const wicas_infer_model *m, const char *text, size_t len, bool add_bos,
                         bool parse_special, int32_t *out, size_t cap, size_t *n_out) {
    if (!m || (!text && len) || !n_out) return WICAS_INFER_EARG;
    return tok_rc(wicas_tok_encode(m->tok, text, len, add_bos, parse_special, out, cap, n_out));
}

int wicas_infer_token_piece(const wicas_infer_model *m, int32_t id, char *buf, size_t cap, size_t *n) {
    if (!m || !n) return WICAS_INFER_EARG;
    return tok_rc(wicas_tok_piece(m->tok, id, buf, cap, n));
}

bool wicas_infer_token_is_eog(const wicas_infer_model *m, int32_t id) {
    return m && wicas_tok_is_eog(m->tok, id);
}

uint32_t wicas_infer_model_default_ctx(const wicas_infer_model *m) {
    if (!m) return 0;
    return m->cfg.ctx_train < 2048 ? (uint32_t)m->cfg.ctx_train : 2048;
}

/* ---- contexts --------------------------------------------------------------------------- */
int wicas_infer_ctx_new(wicas_infer_model *m, const wicas_infer_ctx_params *p, wicas_infer_ctx **out) {
    if (!m || !out) return WICAS_INFER_EARG;
    *out = NULL;
    uint32_t n_ctx = p ? p->n_ctx : 0, nt = p ? p->n_threads : 0;
    if (n_ctx == 0) n_ctx = wicas_infer_model_default_ctx(m);
    if (n_ctx > (1u << 20) || nt > 256) return WICAS_INFER_EARG;
    if (nt == 0) nt = 1;
    wicas_infer_ctx *c = calloc(1, sizeof *c);
    if (!c) return WICAS_INFER_ENOMEM;
    int batch = MAX_BATCH < (int)n_ctx ? MAX_BATCH : (int)n_ctx;
    if (wicas_run_state_alloc(&c->s, &m->cfg, (int)n_ctx, batch) != 0) {
        free(c);
        return WICAS_INFER_ENOMEM;
    }
    c->pool = wicas_pool_new((int)nt);
    if (!c->pool) {
        wicas_run_state_free(&c->s);
        free(c);
        return WICAS_INFER_ENOMEM;
    }
    wicas_infer_model_retain(m);
    c->m = m;
    *out = c;
    return 0;
}

void wicas_infer_ctx_free(wicas_infer_ctx *c) {
    if (!c) return;
    wicas_pool_free(c->pool);
    wicas_run_state_free(&c->s);
    wicas_infer_model_release(c->m);
    free(c);
}

void wicas_infer_ctx_reset(wicas_infer_ctx *c) {
    if (c) c->pos = 0;
}

uint32_t wicas_infer_ctx_pos(const wicas_infer_ctx *c) {
    return c ? (uint32_t)c->pos : 0;
}

int wicas_infer_ctx_set_threads(wicas_infer_ctx *c, uint32_t nt) {
    if (!c || nt > 256) return WICAS_INFER_EARG;
    if (nt == 0) nt = 1;
    if ((int)nt == wicas_pool_size(c->pool)) return 0;
    pool *p = wicas_pool_new((int)nt);
    if (!p) return WICAS_INFER_ENOMEM;
    wicas_pool_free(c->pool);
    c->pool = p;
    return 0;
}

int wicas_infer_eval(wicas_infer_ctx *c, const int32_t *tokens, size_t n, float *logits_all) {
    if (!c || (!tokens && n)) return WICAS_INFER_EARG;
    if (n == 0) return 0;
    if ((size_t)c->pos + n > (size_t)c->s.n_ctx) return WICAS_INFER_ECTX;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->m->cfg.vocab) return WICAS_INFER_EARG;
    for (size_t off = 0; off < n; off += (size_t)c->s.max_batch) {
        int k = (int)(n - off < (size_t)c->s.max_batch ? n - off : (size_t)c->s.max_batch);
        int rc = wicas_model_forward(c, tokens + off, k,
                                     logits_all ? logits_all + off * (size_t)c->m->cfg.vocab : NULL);
        if (rc) return rc;
    }
    return 0;
}

const float *wicas_infer_logits(const wicas_infer_ctx *c) {
    return c->s.logits;
}

int wicas_infer_logits_hash(wicas_infer_ctx *c, const int32_t *tokens, size_t n, uint8_t out[32]) {
    if (!c || !tokens || n == 0 || !out) return WICAS_INFER_EARG;
    wicas_infer_ctx_reset(c);
    const size_t V = (size_t)c->m->cfg.vocab;
    float *all = malloc(sizeof(float) * V * n);
    if (!all) return WICAS_INFER_ENOMEM;
    int rc = wicas_infer_eval(c, tokens, n, all);
    if (rc == 0)
        wicas_sha256(all, sizeof(float) * V * n, out); /* little-endian hosts only (x86-64, aarch64) */
    free(all);
    return rc;
}

/* ---- generation --------------------------------------------------------------------------- */
void wicas_infer_gen_params_default(wicas_infer_gen_params *p) {
    memset(p, 0, sizeof *p);
    p->max_tokens = 128;
    p->temperature = 0.0f;
    p->top_p = 1.0f;
    p->repeat_penalty = 1.0f;
    p->repeat_last_n = 64;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* timing report only; never feeds a result */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) return WICAS_INFER_ENOMEM;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* The parameters of a generation with defaults filled in, checked, and the
 * context's thread count set: 0 or EARG/ENOMEM. */
static int gen_setup(wicas_infer_ctx *c, const wicas_infer_gen_params *gp, wicas_infer_gen_params *p,
                     wicas_sampler_params *sp) {
    if (gp)
        *p = *gp;
    else
        wicas_infer_gen_params_default(p);
    if (p->max_tokens == 0) p->max_tokens = 128;
    if (p->repeat_last_n == 0) p->repeat_last_n = 64;
    *sp = (wicas_sampler_params){.temperature = p->temperature,
                                 .top_k = p->top_k,
                                 .top_p = p->top_p,
                                 .repeat_penalty = p->repeat_penalty,
                                 .repeat_last_n = p->repeat_last_n};
    memcpy(sp->seed, p->seed, 32);
    if (wicas_sampler_check(sp, (uint32_t)c->m->cfg.vocab) != 0) return WICAS_INFER_EARG;
    if (p->n_threads) return wicas_infer_ctx_set_threads(c, p->n_threads);
    return 0;
}

static int gen_run(wicas_infer_ctx *c, const int32_t *toks, size_t n_tok, const wicas_infer_gen_params *gp,
                   const wicas_sampler_params *sp, wicas_infer_token_fn on_token, void *user,
                   wicas_infer_result *res);

int wicas_infer_generate(wicas_infer_ctx *c, const char *prompt, const wicas_infer_gen_params *gp,
                         wicas_infer_token_fn on_token, void *user, wicas_infer_result *res) {
    if (!c || !prompt || !res) return WICAS_INFER_EARG;
    memset(res, 0, sizeof *res);
    wicas_infer_gen_params p;
    wicas_sampler_params sp;
    int rc = gen_setup(c, gp, &p, &sp);
    if (rc) return rc;
    /* the same tokens a caller priced with wicas_infer_prompt_tokens(_ex) */
    size_t n_tok = 0;
    int32_t *toks = NULL;
    int trc = wicas_infer_prompt_tokens_ex(c->m, prompt, p.chat, p.parse_special, &toks, &n_tok);
    if (trc != WICAS_INFER_OK) return trc;
    rc = gen_run(c, toks, n_tok, &p, &sp, on_token, user, res);
    free(toks);
    return rc;
}

int wicas_infer_generate_tokens(wicas_infer_ctx *c, const int32_t *tokens, size_t n,
                                const wicas_infer_gen_params *gp, wicas_infer_token_fn on_token, void *user,
                                wicas_infer_result *res) {
    if (!c || (!tokens && n) || !res) return WICAS_INFER_EARG;
    memset(res, 0, sizeof *res);
    wicas_infer_gen_params p;
    wicas_sampler_params sp;
    int rc = gen_setup(c, gp, &p, &sp);
    if (rc) return rc;
    /* ids the tokenizer did not make: refused before the sampler sees them */
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->m->cfg.vocab) return WICAS_INFER_EARG;
    return gen_run(c, tokens, n, &p, &sp, on_token, user, res);
}

/* The generation loop on prompt tokens toks[0..n_tok) (borrowed). */
static int gen_run(wicas_infer_ctx *c, const int32_t *toks, size_t n_tok, const wicas_infer_gen_params *gp,
                   const wicas_sampler_params *sp, wicas_infer_token_fn on_token, void *user,
                   wicas_infer_result *res) {
    const wicas_infer_gen_params p = *gp;
    const wicas_infer_model *m = c->m;
    int rc = 0;
    if (n_tok == 0 || n_tok >= (size_t)c->s.n_ctx) return n_tok == 0 ? WICAS_INFER_EARG : WICAS_INFER_ECTX;
    wicas_sampler *smp = wicas_sampler_new(sp, (uint32_t)m->cfg.vocab);
    if (!smp) return WICAS_INFER_ENOMEM;
    for (size_t i = 0; i < n_tok; i++)
        wicas_sampler_accept(smp, toks[i]);
    sbuf out = {0};
    sbuf_add(&out, "", 0);
    wicas_infer_ctx_reset(c);
    double t0 = now_s();
    rc = wicas_infer_eval(c, toks, n_tok, NULL);
    double t1 = now_s();
    res->n_prompt_tokens = (uint32_t)n_tok;
    res->prefill_seconds = t1 - t0;
    res->stop = WICAS_INFER_STOP_LENGTH;
    char piece[256];
    for (uint32_t i = 0; rc == 0 && i < p.max_tokens; i++) {
        int32_t tok = wicas_sampler_sample(smp, c->s.logits);
        if (tok < 0 || tok >= m->cfg.vocab) {
            rc = WICAS_INFER_EARG;
            break;
        }
        if (wicas_tok_is_eog(m->tok, tok)) {
            res->stop = WICAS_INFER_STOP_EOG;
            break;
        }
        wicas_sampler_accept(smp, tok);
        res->n_generated_tokens++;
        size_t pn = 0;
        if (wicas_tok_piece(m->tok, tok, piece, sizeof piece, &pn) != 0) pn = 0;
        if (sbuf_add(&out, piece, pn) != 0) {
            rc = WICAS_INFER_ENOMEM;
            break;
        }
        if (on_token && !on_token(tok, piece, pn, user)) {
            res->stop = WICAS_INFER_STOP_CALLBACK;
            break;
        }
        if (i + 1 == p.max_tokens) break;
        if (c->pos >= c->s.n_ctx) {
            res->stop = WICAS_INFER_STOP_CTX;
            break;
        }
        rc = wicas_infer_eval(c, &tok, 1, NULL);
    }
    res->decode_seconds = now_s() - t1;
    wicas_sampler_free(smp);
    if (rc) {
        free(out.p);
        memset(res, 0, sizeof *res);
        return rc;
    }
    res->text = out.p;
    res->text_len = out.n;
    return 0;
}

void wicas_infer_result_free(wicas_infer_result *r) {
    if (!r) return;
    free(r->text);
    r->text = NULL;
    r->text_len = 0;
}

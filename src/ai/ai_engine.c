/*
 * ai_engine.c — the AI module's engine host: finds registered models on disk
 * by SHA-256, keeps them resident in the engine's cache, prices and runs
 * requests.
 *
 * Why it is shaped so: the price check must happen before any inference (a
 * request that cannot pay must cost validators nothing), so the prompt is
 * tokenised here first, with the same chat formatting the engine will use;
 * pricing keeps those tokens (wicas_ai_priced) and the run hands them to
 * wicas_infer_generate_tokens, so a request is tokenised once, not once to
 * price and again to run.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ai.h"
#include "ai_internal.h"
#include "common.h"
#include "infer.h"

typedef struct {
    char *path;
    uint8_t sha256[32];
    uint64_t size;
} model_file;

struct wicas_ai_host {
    wicas_infer_cache *cache;
    model_file *files; /* sorted by path: deterministic look-up order */
    size_t n_files;
    uint32_t n_threads;
    wicas_infer_ctx *ctx; /* reused while the same model is asked */
    wicas_infer_model *ctx_model;
    /* One request at a time: the block thread (synchronous queries) and the
     * asynchronous worker (wicas_aimod_worker.c) share the engine context. */
    pthread_mutex_t mu;
};

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const model_file *)a)->path, ((const model_file *)b)->path);
}

int wicas_ai_host_new(const wicas_ai_host_config *cfg, wicas_ai_host **out, char *err, size_t errlen) {
    *out = NULL;
    wicas_ai_host *h = calloc(1, sizeof *h);
    if (!h) return WICAS_AI_ENOMEM;
    h->n_threads = cfg->n_threads ? cfg->n_threads : 1;
    pthread_mutex_init(&h->mu, NULL);
    h->cache = wicas_infer_cache_new();
    if (!h->cache) {
        free(h);
        return WICAS_AI_ENOMEM;
    }
    DIR *d = cfg->models_dir ? opendir(cfg->models_dir) : NULL;
    if (!d) {
        wicas_ai_host_free(h);
        return wicas_ai_fail(err, errlen, WICAS_AI_EMODELFILE, "ai: cannot read models directory '%s'",
                             cfg->models_dir ? cfg->models_dir : "(none)");
    }
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".gguf") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", cfg->models_dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (h->n_files == cap) {
            cap = cap ? cap * 2 : 8;
            model_file *nf = realloc(h->files, cap * sizeof *nf);
            if (!nf) {
                closedir(d);
                wicas_ai_host_free(h);
                return WICAS_AI_ENOMEM;
            }
            h->files = nf;
        }
        model_file *f = &h->files[h->n_files];
        if (wicas_sha256_file(path, f->sha256) != 0) continue;
        f->path = strdup(path);
        f->size = (uint64_t)st.st_size;
        h->n_files++;
        WICAS_DEBUG("ai", "indexed model file %s (%llu bytes)", path, (unsigned long long)f->size);
    }
    closedir(d);
    if (h->n_files > 1) qsort(h->files, h->n_files, sizeof *h->files, cmp_file);
    *out = h;
    return WICAS_AI_OK;
}

void wicas_ai_host_free(wicas_ai_host *h) {
    if (!h) return;
    wicas_infer_ctx_free(h->ctx);
    wicas_infer_model_release(h->ctx_model);
    wicas_infer_cache_free(h->cache);
    for (size_t i = 0; i < h->n_files; i++)
        free(h->files[i].path);
    free(h->files);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static const model_file *find_file(const wicas_ai_host *h, const uint8_t sha[32]) {
    for (size_t i = 0; i < h->n_files; i++)
        if (memcmp(h->files[i].sha256, sha, 32) == 0) return &h->files[i];
    return NULL;
}

/* Loads (or finds resident) the model for m; a new reference in *out. */
static int get_model(wicas_ai_host *h, const wicas_ai_model *m, wicas_infer_model **out, const char **path,
                     char *err, size_t errlen) {
    char hex[65];
    wicas_hex_encode(m->sha256, 32, hex);
    const model_file *f = find_file(h, m->sha256);
    if (!f)
        return wicas_ai_fail(err, errlen, WICAS_AI_EMODELFILE,
                             "ai: model '%s' (sha256 %s) is registered but no local file has that hash",
                             m->name, hex);
    if (f->size != m->size_bytes)
        return wicas_ai_fail(err, errlen, WICAS_AI_EMODELFILE,
                             "ai: model '%s': file %s has %llu bytes, registry says %llu", m->name, f->path,
                             (unsigned long long)f->size, (unsigned long long)m->size_bytes);
    char ierr[256] = "";
    int rc = wicas_infer_cache_get(h->cache, f->path, m->sha256, out, ierr, sizeof ierr);
    if (rc != WICAS_INFER_OK)
        return wicas_ai_fail(err, errlen, WICAS_AI_EMODELFILE, "ai: model '%s' (%s) cannot be used: %s",
                             m->name, f->path, ierr[0] ? ierr : wicas_infer_strerror(rc));
    if (path) *path = f->path;
    return WICAS_AI_OK;
}

static int check_model(wicas_ai_host *h, const wicas_ai_model *m, char *path_out, size_t path_cap, char *err,
                       size_t errlen) {
    wicas_infer_model *model = NULL;
    const char *path = NULL;
    int rc = get_model(h, m, &model, &path, err, errlen);
    if (rc != WICAS_AI_OK) return rc;
    wicas_infer_model_info info;
    wicas_infer_model_get_info(model, &info);
    wicas_infer_model_release(model);
    if (strcmp(info.arch, m->arch) != 0)
        return wicas_ai_fail(err, errlen, WICAS_AI_EMODELFILE,
                             "ai: model '%s' is registered as '%s' but the file is '%s'", m->name, m->arch,
                             info.arch);
    if (path_out && path_cap) snprintf(path_out, path_cap, "%s", path);
    return WICAS_AI_OK;
}

static int ensure_ctx(wicas_ai_host *h, wicas_infer_model *model) {
    if (h->ctx && h->ctx_model == model) return WICAS_INFER_OK;
    wicas_infer_ctx_free(h->ctx);
    wicas_infer_model_release(h->ctx_model);
    h->ctx = NULL;
    h->ctx_model = NULL;
    wicas_infer_ctx_params p = {.n_ctx = 0, .n_threads = h->n_threads};
    int rc = wicas_infer_ctx_new(model, &p, &h->ctx);
    if (rc != WICAS_INFER_OK) return rc;
    wicas_infer_model_retain(model);
    h->ctx_model = model;
    return WICAS_INFER_OK;
}

/* An engine error as the AI module's code, keeping its class: a request's
 * error stays a request error, anything else is this node's fault. */
static int engine_err(int irc) {
    if (wicas_infer_err_class(irc) == WICAS_ERRCLASS_REQUEST)
        return irc == WICAS_INFER_ECTX     ? WICAS_AI_ECONTEXT
               : irc == WICAS_INFER_ETOKEN ? WICAS_AI_EPROMPT
                                           : WICAS_AI_EINVAL;
    return irc == WICAS_INFER_ENOMEM ? WICAS_AI_ENOMEM : WICAS_AI_EENGINE;
}

/* Prices req on m: the prompt is tokenised once, here, and the tokens kept
 * in *pr for the run (freed on error). */
static int price(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req, wicas_ai_priced *pr,
                 char *err, size_t errlen) {
    memset(pr, 0, sizeof *pr);
    wicas_infer_model *model = NULL;
    int rc = get_model(h, m, &model, NULL, err, errlen);
    if (rc != WICAS_AI_OK) return rc;
    int32_t *toks = NULL;
    size_t n_tok = 0;
    int irc = wicas_infer_prompt_tokens(model, req->prompt, req->chat, &toks, &n_tok);
    uint32_t n_ctx = wicas_infer_model_default_ctx(model);
    wicas_infer_model_release(model);
    if (irc != WICAS_INFER_OK) {
        free(toks);
        rc = engine_err(irc);
        if (rc == WICAS_AI_EINVAL) rc = WICAS_AI_EPROMPT;
        return wicas_ai_fail(err, errlen, rc, "ai: model '%s' cannot tokenise the prompt: %s", m->name,
                             wicas_infer_strerror(irc));
    }
    pr->prompt_tokens = n_tok > UINT32_MAX ? UINT32_MAX : (uint32_t)n_tok;
    pr->worst = wicas_ai_gas_cost(m, n_tok, req->max_tokens);
    /* the whole generation must fit the context the engine runs with: a
     * request that cannot is refused here, before any inference, the same
     * way on every node (the context is a function of the model's bytes) */
    if ((uint64_t)n_tok + req->max_tokens > n_ctx) {
        free(toks);
        return wicas_ai_fail(
            err, errlen, WICAS_AI_ECONTEXT,
            "ai: prompt of %zu tokens + max_tokens %u exceeds the context of model '%s' (%u tokens)", n_tok,
            req->max_tokens, m->name, n_ctx);
    }
    pr->tokens = toks;
    pr->n_tokens = n_tok;
    memcpy(pr->model_sha256, m->sha256, 32);
    return WICAS_AI_OK;
}

/* Runs a priced request: the tokens of pr are what the engine evaluates. */
static int run_priced(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                      const wicas_ai_priced *pr, const uint8_t seed[32], uint64_t gas_available,
                      wicas_ai_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    if (!pr->tokens || memcmp(pr->model_sha256, m->sha256, 32) != 0)
        return wicas_ai_fail(err, errlen, WICAS_AI_EINVAL, "ai: the request was not priced on model '%s'",
                             m->name);
    /* 1. the worst case, priced before running anything */
    if (pr->worst > gas_available)
        return wicas_ai_fail(
            err, errlen, WICAS_AI_EOUTOFGAS,
            "ai: out of gas: %u prompt tokens + max_tokens %u cost up to %llu gas, %llu available",
            pr->prompt_tokens, req->max_tokens, (unsigned long long)pr->worst,
            (unsigned long long)gas_available);
    wicas_infer_model *model = NULL;
    int rc = get_model(h, m, &model, NULL, err, errlen);
    if (rc != WICAS_AI_OK) return rc;

    /* 2. run */
    int irc = ensure_ctx(h, model);
    wicas_infer_model_release(model);
    if (irc != WICAS_INFER_OK)
        return wicas_ai_fail(err, errlen, irc == WICAS_INFER_ENOMEM ? WICAS_AI_ENOMEM : WICAS_AI_EENGINE,
                             "ai: engine context for model '%s': %s", m->name, wicas_infer_strerror(irc));
    wicas_infer_gen_params p;
    wicas_infer_gen_params_default(&p);
    p.max_tokens = req->max_tokens;
    p.temperature = req->temperature;
    p.top_k = req->top_k;
    p.top_p = req->top_p;
    p.repeat_penalty = req->repeat_penalty;
    memcpy(p.seed, seed, 32);
    p.chat = req->chat; /* already applied: the tokens carry the chat template */
    wicas_infer_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    irc = wicas_infer_generate_tokens(h->ctx, pr->tokens, pr->n_tokens, &p, NULL, NULL, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (irc != WICAS_INFER_OK) /* not expected after pricing; the class still decides */
        return wicas_ai_fail(err, errlen, engine_err(irc), "ai: inference on model '%s' failed: %s", m->name,
                             wicas_infer_strerror(irc));
    res->text = wicas_ai_utf8_repair(r.text, r.text_len, NULL);
    if (!res->text) {
        wicas_infer_result_free(&r);
        return wicas_ai_fail(err, errlen, WICAS_AI_ENOMEM, "ai: out of memory for the answer");
    }
    res->prompt_tokens = r.n_prompt_tokens;
    res->generated_tokens = r.n_generated_tokens;
    res->gas_used = wicas_ai_gas_cost(m, r.n_prompt_tokens, r.n_generated_tokens);
    memcpy(res->model_sha256, m->sha256, 32);
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    res->kernels = wicas_infer_kernels_name();
    res->threads = h->n_threads;
    wicas_infer_result_free(&r);
    return WICAS_AI_OK;
}

/* ---- the public, serialised entry points ---------------------------------------- */

int wicas_ai_host_check_model(wicas_ai_host *h, const wicas_ai_model *m, char *path_out, size_t path_cap,
                              char *err, size_t errlen) {
    pthread_mutex_lock(&h->mu);
    int rc = check_model(h, m, path_out, path_cap, err, errlen);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int wicas_ai_host_price(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                        uint32_t *prompt_tokens, uint64_t *worst, char *err, size_t errlen) {
    wicas_ai_priced pr;
    int rc = wicas_ai_host_price_request(h, m, req, &pr, err, errlen);
    if (rc == WICAS_AI_OK || rc == WICAS_AI_ECONTEXT) { /* what pricing got to (as documented) */
        *prompt_tokens = pr.prompt_tokens;
        *worst = pr.worst;
    }
    wicas_ai_priced_free(&pr);
    return rc;
}

int wicas_ai_host_price_request(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                                wicas_ai_priced *out, char *err, size_t errlen) {
    pthread_mutex_lock(&h->mu);
    int rc = price(h, m, req, out, err, errlen);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void wicas_ai_priced_free(wicas_ai_priced *p) {
    if (!p) return;
    free(p->tokens);
    p->tokens = NULL;
    p->n_tokens = 0;
}

int wicas_ai_host_run_priced(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                             const wicas_ai_priced *pr, const uint8_t seed[32], uint64_t gas_available,
                             wicas_ai_result *res, char *err, size_t errlen) {
    pthread_mutex_lock(&h->mu);
    int rc = run_priced(h, m, req, pr, seed, gas_available, res, err, errlen);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* price then run under one lock: the prompt is tokenised once */
int wicas_ai_host_infer(wicas_ai_host *h, const wicas_ai_model *m, const wicas_ai_request *req,
                        const uint8_t seed[32], uint64_t gas_available, wicas_ai_result *res, char *err,
                        size_t errlen) {
    memset(res, 0, sizeof *res);
    wicas_ai_priced pr;
    pthread_mutex_lock(&h->mu);
    int rc = price(h, m, req, &pr, err, errlen);
    if (rc == WICAS_AI_OK) rc = run_priced(h, m, req, &pr, seed, gas_available, res, err, errlen);
    pthread_mutex_unlock(&h->mu);
    wicas_ai_priced_free(&pr);
    return rc;
}

char *wicas_ai_result_json(const wicas_ai_result *res) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char hex[65], gas[24];
    wicas_hex_encode(res->model_sha256, 32, hex);
    snprintf(gas, sizeof gas, "%llu", (unsigned long long)res->gas_used);
    cJSON_AddStringToObject(o, "text", res->text ? res->text : "");
    cJSON_AddNumberToObject(o, "prompt_tokens", res->prompt_tokens);
    cJSON_AddNumberToObject(o, "generated_tokens", res->generated_tokens);
    cJSON_AddStringToObject(o, "gas_used", gas);
    cJSON_AddStringToObject(o, "model_sha256", hex);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

void wicas_ai_result_free(wicas_ai_result *res) {
    free(res->text);
    res->text = NULL;
}

struct wicas_infer_cache *wicas_ai_host_cache(wicas_ai_host *h) {
    return h ? h->cache : NULL;
}

uint32_t wicas_ai_host_threads(const wicas_ai_host *h) {
    return h ? h->n_threads : 1;
}

/*
 * wicas_aimod_worker.c — the background inference worker of the asynchronous path.
 *
 * Asynchronous requests ({"ai":{"request":...}} messages of contracts) are
 * answered through vote extensions: every validator computes the answer on
 * its own time, between blocks, and reports it when it votes. This file is
 * that "own time": one thread that takes jobs in the order the chain
 * submitted them (the chain submits in request-id order, so every node works
 * through the queue the same way) and keeps each answer until the chain says
 * the request is resolved.
 *
 * Why one thread and a plain list: there are few jobs at a time (the chain
 * bounds pending requests), the engine already parallelises each inference
 * over its own thread pool, and the host allows one inference at a time.
 * Nothing here is consensus state; a node that restarts simply recomputes
 * the answers of the requests still pending on chain.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "common.h"

typedef struct job {
    uint64_t id;
    int state; /* WICAS_AI_WORKER_PENDING / DONE / FAILED */
    bool dropped;
    wicas_ai_model model;
    char *request_json;
    uint8_t seed[32];
    wicas_ai_result res;
    char err[256];
    struct job *next;
} job;

struct wicas_ai_worker {
    wicas_ai_host *host;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    job *head, *tail; /* submission order */
    job *running;     /* being computed outside the lock: never freed meanwhile */
};

static void job_free(job *j) {
    if (!j) return;
    free(j->request_json);
    wicas_ai_result_free(&j->res);
    free(j);
}

static job *find(wicas_ai_worker *w, uint64_t id) {
    for (job *j = w->head; j; j = j->next)
        if (j->id == id && !j->dropped) return j;
    return NULL;
}

static job *next_pending(wicas_ai_worker *w) {
    for (job *j = w->head; j; j = j->next)
        if (j->state == WICAS_AI_WORKER_PENDING && !j->dropped) return j;
    return NULL;
}

static void unlink_dropped(wicas_ai_worker *w, const job *running) {
    job **pp = &w->head, *prev = NULL;
    while (*pp) {
        job *j = *pp;
        if (j->dropped && j != running) {
            *pp = j->next;
            if (w->tail == j) w->tail = prev;
            job_free(j);
        } else {
            prev = j;
            pp = &j->next;
        }
    }
}

static void *worker_main(void *arg) {
    wicas_ai_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        job *j;
        while (!w->stop && !(j = next_pending(w)))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) break;
        /* run outside the lock: polls and submits go on meanwhile; the job
         * stays linked (dropped jobs are unlinked only when not running) */
        w->running = j;
        wicas_ai_model m = j->model;
        char *rj = j->request_json;
        uint8_t seed[32];
        memcpy(seed, j->seed, 32);
        pthread_mutex_unlock(&w->mu);

        wicas_ai_request req;
        wicas_ai_result res;
        memset(&res, 0, sizeof res);
        char err[256] = "";
        int rc = wicas_ai_request_parse(rj, strlen(rj), &req, err, sizeof err);
        if (rc == WICAS_AI_OK) {
            rc = wicas_ai_host_infer(w->host, &m, &req, seed, UINT64_MAX, &res, err, sizeof err);
            wicas_ai_request_free(&req);
        }
        if (rc == WICAS_AI_OK)
            WICAS_INFO("ai",
                       "async request %llu: %s answered %u+%u tokens in %.2f s (kernels %s, %u threads)",
                       (unsigned long long)j->id, m.name, res.prompt_tokens, res.generated_tokens,
                       res.seconds, res.kernels ? res.kernels : "?", res.threads);
        else
            WICAS_WARN("ai", "async request %llu: %s", (unsigned long long)j->id,
                       err[0] ? err : wicas_ai_strerror(rc));

        pthread_mutex_lock(&w->mu);
        if (rc == WICAS_AI_OK) {
            j->res = res;
            j->state = WICAS_AI_WORKER_DONE;
        } else {
            snprintf(j->err, sizeof j->err, "%s", err[0] ? err : wicas_ai_strerror(rc));
            j->state = WICAS_AI_WORKER_FAILED;
        }
        w->running = NULL;
        unlink_dropped(w, NULL);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int wicas_ai_worker_new(wicas_ai_host *h, wicas_ai_worker **out) {
    *out = NULL;
    wicas_ai_worker *w = calloc(1, sizeof *w);
    if (!w) return WICAS_AI_ENOMEM;
    w->host = h;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return WICAS_AI_ENOMEM;
    }
    *out = w;
    return WICAS_AI_OK;
}

void wicas_ai_worker_free(wicas_ai_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (job *j = w->head, *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

int wicas_ai_worker_submit(wicas_ai_worker *w, uint64_t id, const wicas_ai_model *m, const char *request_json,
                           const uint8_t seed[32]) {
    pthread_mutex_lock(&w->mu);
    job *j = find(w, id);
    if (j) {
        pthread_mutex_unlock(&w->mu);
        return WICAS_AI_OK;
    }
    j = calloc(1, sizeof *j);
    char *rj = j ? strdup(request_json ? request_json : "") : NULL;
    if (!j || !rj) {
        free(j);
        pthread_mutex_unlock(&w->mu);
        return WICAS_AI_ENOMEM;
    }
    j->id = id;
    j->model = *m;
    j->request_json = rj;
    memcpy(j->seed, seed, 32);
    j->state = WICAS_AI_WORKER_PENDING;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return WICAS_AI_OK;
}

int wicas_ai_worker_poll(wicas_ai_worker *w, uint64_t id, wicas_ai_result *res, char *err, size_t errlen) {
    if (res) memset(res, 0, sizeof *res);
    pthread_mutex_lock(&w->mu);
    job *j = find(w, id);
    int st = j ? j->state : WICAS_AI_WORKER_NONE;
    if (st == WICAS_AI_WORKER_DONE && res) {
        *res = j->res;
        res->text = strdup(j->res.text ? j->res.text : "");
        if (!res->text) st = WICAS_AI_WORKER_PENDING; /* out of memory: ask again later */
    } else if (st == WICAS_AI_WORKER_FAILED && err && errlen) {
        snprintf(err, errlen, "%s", j->err);
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

static bool in_sorted(const uint64_t *a, size_t n, uint64_t v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] == v) return true;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void wicas_ai_worker_retain(wicas_ai_worker *w, const uint64_t *keep, size_t n) {
    pthread_mutex_lock(&w->mu);
    for (job *j = w->head; j; j = j->next)
        if (!in_sorted(keep, n, j->id)) j->dropped = true;
    /* the job being computed stays linked; the worker unlinks it when done */
    unlink_dropped(w, w->running);
    pthread_mutex_unlock(&w->mu);
}

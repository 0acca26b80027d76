/*
 * pool.c — persistent thread pool with spin-then-sleep hand-off.
 *
 * A job is published by bumping an atomic generation counter; workers poll it
 * (with a pause instruction) for a bounded number of rounds, then wait on a
 * condition variable. Completion is an atomic count of finished workers that
 * the caller polls the same way. No allocation after wicas_pool_new.
 */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Waiting: SPIN_ROUNDS pause-instruction polls (tens of microseconds: the
 * next job of a forward pass usually comes sooner), then YIELD_ROUNDS polls
 * that give the CPU away (on a machine with more runnable threads than cores
 * the thread we wait for may need it), then sleep on the condition variable. */
#define SPIN_ROUNDS 4000
#define YIELD_ROUNDS 64

struct pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_done;
    atomic_uint gen; /* incremented per job */
    atomic_int done; /* workers finished with the current job */
    atomic_bool quit;
    pool_fn fn;
    void *arg;
};

typedef struct {
    pool *p;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void *worker(void *v) {
    pool *p = ((worker_arg *)v)->p;
    int ith = ((worker_arg *)v)->ith;
    free(v);
    unsigned seen = 0; /* gen at creation: a job published before this thread ran is not missed */
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->quit)) {
            if (++spins < SPIN_ROUNDS) {
                cpu_relax();
                continue;
            }
            if (spins < SPIN_ROUNDS + YIELD_ROUNDS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv_job, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->arg, ith, p->n);
        if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == p->n - 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

pool *wicas_pool_new(int n) {
    if (n < 1) n = 1;
    pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_job, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    p->threads = calloc((size_t)n, sizeof(pthread_t));
    if (!p->threads) {
        free(p);
        return NULL;
    }
    for (int i = 1; i < n; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) {
            p->n = i;
            wicas_pool_free(p);
            return NULL;
        }
        a->p = p;
        a->ith = i;
        if (pthread_create(&p->threads[i], NULL, worker, a) != 0) {
            free(a);
            p->n = i;
            wicas_pool_free(p);
            return NULL;
        }
    }
    return p;
}

void wicas_pool_free(pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->cv_job);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_job);
    pthread_cond_destroy(&p->cv_done);
    free(p->threads);
    free(p);
}

int wicas_pool_size(const pool *p) {
    return p->n;
}

void wicas_pool_run(pool *p, pool_fn fn, void *arg) {
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv_job);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->n - 1) {
        if (++spins < SPIN_ROUNDS) {
            cpu_relax();
            continue;
        }
        if (spins < SPIN_ROUNDS + YIELD_ROUNDS) {
            sched_yield();
            continue;
        }
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->done) != p->n - 1)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

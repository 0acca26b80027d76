/*
 * pool.h — internal: a persistent thread pool for the forward pass.
 *
 * The pool is created once per context. wicas_pool_run(fn, arg) calls fn(arg, i, n)
 * on n threads (the caller is thread 0) and returns when all are done. The
 * work split is the job's business; in this engine each job splits output
 * rows, never a reduction, so results do not depend on n. Workers spin a
 * short while for the next job (jobs come every few microseconds during a
 * forward pass) and then sleep on a condition variable, so an idle context
 * costs no CPU.
 */
#ifndef WICAS_POOL_H
#define WICAS_POOL_H

typedef void (*pool_fn)(void *arg, int ith, int nth);
typedef struct pool pool;

/* n_threads >= 1 (1 = no workers). Returns NULL on failure. */
pool *wicas_pool_new(int n_threads);
void wicas_pool_free(pool *p);
int wicas_pool_size(const pool *p);
void wicas_pool_run(pool *p, pool_fn fn, void *arg);

#endif

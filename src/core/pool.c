/*
 * The worker pool and the thread-safe resolver: the two ways a promise is settled from
 * another thread. Both hop onto the loop with evl_loop_submit; both leave the promise's
 * reference count (loop thread only) to the loop thread.
 *
 * Pool job life: submit (loop thread) puts the job on the pool queue and on the loop's job
 * list, and counts it in flight on the loop. A worker runs it and, under the pool lock,
 * submits the completion to the loop (then ends the in-flight count). Loop teardown takes
 * the pool lock too, so for every job exactly one of these holds:
 *   QUEUED    teardown removes it and rejects with EVL_ECANCELED; the work never runs;
 *   RUNNING   teardown marks it DETACHED and rejects; the worker frees it afterwards
 *             without touching the loop;
 *   ORPHAN    the completion submit was refused (loop closing): teardown cleans it up
 *             and ends the in-flight count;
 *   DONE      the completion task owns it (it runs, or its discard callback runs on close).
 */
#include "core/promise_internal.h"

#include "core/loop_internal.h"
#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/task.h"

#include <stdatomic.h>
#include <string.h>

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_ORPHAN, JOB_DETACHED };

struct evl_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct evl__pool_job *head; /* FIFO of queued jobs */
    struct evl__pool_job *tail;
    unsigned idle; /* workers waiting on cond */
    bool stopping;
    _Atomic uint32_t refs; /* evl_pool_new's + one per live job */
    unsigned nthreads;
    pthread_t *threads;
};

struct evl__pool_job {
    struct evl__pool_job *next;  /* pool queue (pool lock) */
    struct evl__pool_job *lprev; /* loop's job list (loop thread) */
    struct evl__pool_job *lnext;
    struct evl_pool *pool; /* +1 */
    struct evl_loop *loop;
    struct evl__pstate *ps;
    struct evl_promise *p; /* +1; loop thread */
    evl_work_cb work;
    void *arg;
    int state; /* enum job_state, pool lock */
    int rc;
    void *value;
    evl_dtor_cb dtor;
};

static void pool_unref(struct evl_pool *pool)
{
    if (atomic_fetch_sub(&pool->refs, 1) == 1) {
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        evl_free(pool->threads);
        evl_free(pool);
    }
}

static void job_free(struct evl__pool_job *job)
{
    struct evl_pool *pool = job->pool;
    evl_free(job);
    pool_unref(pool);
}

static void job_unlink(struct evl__pool_job *job)
{
    struct evl__pstate *ps = job->ps;
    if (job->lprev) {
        job->lprev->lnext = job->lnext;
    } else {
        ps->jobs = job->lnext;
    }
    if (job->lnext) {
        job->lnext->lprev = job->lprev;
    }
    job->lprev = job->lnext = NULL;
}

/* Settles a job's promise as its own resolving functions would (first settle wins) and drops
 * the job's reference to it. */
static void settle_job_promise(struct evl__pstate *ps, struct evl_promise *p, int rc, void *value,
                               evl_dtor_cb dtor)
{
    struct evl__val v = {value, dtor, NULL};
    if (p->flags & EVL__P_RESOLVED) {
        evl__val_drop(ps, v);
    } else {
        p->flags |= EVL__P_RESOLVED;
        if (rc == 0) {
            evl__promise_do_resolve(p, v);
        } else if (value || dtor) {
            evl__promise_do_reject(p, v);
        } else {
            evl__promise_do_reject(p, evl__error_val(rc, NULL));
        }
    }
    evl__promise_release(p);
}

static void job_settle(struct evl__pool_job *job, int rc, void *value, evl_dtor_cb dtor)
{
    struct evl_promise *p = job->p;
    job->p = NULL;
    settle_job_promise(job->ps, p, rc, value, dtor);
}

static void job_complete(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl__pool_job *job = arg;
    job_unlink(job);
    job_settle(job, job->rc, job->value, job->dtor);
    job_free(job);
}

static void job_discard(struct evl_loop *loop, void *arg)
{
    struct evl__pool_job *job = arg;
    job_unlink(job);
    if (job->dtor) {
        job->dtor(loop, job->value);
    }
    job_settle(job, EVL_ECANCELED, NULL, NULL);
    job_free(job);
}

static void *worker_main(void *arg)
{
    struct evl_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->lock);
            pool->idle--;
        }
        struct evl__pool_job *job = pool->head;
        if (!job) {
            break;
        }
        pool->head = job->next;
        if (!pool->head) {
            pool->tail = NULL;
        }
        job->state = JOB_RUNNING;
        pthread_mutex_unlock(&pool->lock);

        void *value = NULL;
        evl_dtor_cb dtor = NULL;
        int rc = job->work(job->arg, &value, &dtor);

        pthread_mutex_lock(&pool->lock);
        if (job->state == JOB_DETACHED) {
            /* The loop is gone (teardown already settled the promise and ended the
             * in-flight count): the result has nowhere to go. */
            pthread_mutex_unlock(&pool->lock);
            if (dtor) {
                dtor(NULL, value);
            }
            job_free(job);
            pthread_mutex_lock(&pool->lock);
            continue;
        }
        job->rc = rc;
        job->value = value;
        job->dtor = dtor;
        struct evl_loop *loop = job->loop;
        /* Submitting under the pool lock orders this against loop teardown. The state is
         * set first: once submitted, the loop thread may complete and free the job. */
        job->state = JOB_DONE;
        if (evl_loop_submit_ex(loop, job_complete, job_discard, job) == 0) {
            pthread_mutex_unlock(&pool->lock);
            evl__loop_inflight_done(loop);
        } else {
            job->state = JOB_ORPHAN;
            pthread_mutex_unlock(&pool->lock);
        }
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int evl_pool_new(struct evl_pool **out, unsigned threads)
{
    if (!out) {
        return EVL_EINVAL;
    }
    if (threads == 0) {
        threads = 4;
    }
    if (threads > 256) {
        return EVL_ERANGE;
    }
    struct evl_pool *pool = evl_calloc(1, sizeof(*pool));
    if (!pool) {
        return EVL_ENOMEM;
    }
    pool->threads = evl_calloc(threads, sizeof(*pool->threads));
    if (!pool->threads) {
        goto fail_free_pool;
    }
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        goto fail_free_threads;
    }
    if (pthread_cond_init(&pool->cond, NULL) != 0) {
        goto fail_destroy_lock;
    }
    atomic_init(&pool->refs, 1);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) {
            pool->nthreads = i;
            evl_pool_free(pool);
            return EVL_EIO;
        }
    }
    pool->nthreads = threads;
    *out = pool;
    return 0;

fail_destroy_lock:
    pthread_mutex_destroy(&pool->lock);
fail_free_threads:
    evl_free(pool->threads);
fail_free_pool:
    evl_free(pool);
    return EVL_ENOMEM;
}

int evl_pool_free(struct evl_pool *pool)
{
    if (!pool) {
        return EVL_EINVAL;
    }
    pthread_t self = pthread_self();
    for (unsigned i = 0; i < pool->nthreads; i++) {
        if (pthread_equal(pool->threads[i], self)) {
            return EVL_EPERM;
        }
    }
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++) {
        pthread_join(pool->threads[i], NULL);
    }
    pool_unref(pool);
    return 0;
}

unsigned evl_pool_threads(const struct evl_pool *pool)
{
    return pool ? pool->nthreads : 0;
}

int evl_pool_submit(struct evl_pool *pool, struct evl_loop *loop, evl_work_cb work, void *arg,
                    struct evl_promise **out)
{
    if (!pool || !loop || !work || !out) {
        return EVL_EINVAL;
    }
    if (!evl__on_loop(loop)) {
        return EVL_EPERM;
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop)) {
        return EVL_ECLOSED;
    }
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return EVL_ENOMEM;
    }
    struct evl__pool_job *job = evl_calloc(1, sizeof(*job));
    if (!job) {
        return EVL_ENOMEM;
    }
    struct evl_promise *p = evl__promise_alloc(ps, 1);
    if (!p) {
        evl_free(job);
        return EVL_ENOMEM;
    }
    job->pool = pool;
    job->loop = loop;
    job->ps = ps;
    job->p = p;
    job->work = work;
    job->arg = arg;
    job->state = JOB_QUEUED;

    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->lock);
        evl__promise_release(p);
        evl_free(job);
        return EVL_ECLOSED;
    }
    atomic_fetch_add(&pool->refs, 1);
    p->refs++;
    evl__loop_inflight_add(loop);
    job->lnext = ps->jobs;
    if (ps->jobs) {
        ps->jobs->lprev = job;
    }
    ps->jobs = job;
    if (pool->tail) {
        pool->tail->next = job;
    } else {
        pool->head = job;
    }
    pool->tail = job;
    if (pool->idle > 0) {
        pthread_cond_signal(&pool->cond);
    }
    pthread_mutex_unlock(&pool->lock);
    *out = p;
    return 0;
}

void evl__pool_loop_teardown(struct evl__pstate *ps)
{
    struct evl__pool_job *job = ps->jobs;
    while (job) {
        struct evl__pool_job *next = job->lnext;
        struct evl_pool *pool = job->pool;
        struct evl_promise *p = NULL;
        void *value = NULL;
        evl_dtor_cb dtor = NULL;
        pthread_mutex_lock(&pool->lock);
        int state = job->state;
        if (state == JOB_QUEUED) {
            /* Unlink from the pool queue: the work must never run. */
            struct evl__pool_job **pp = &pool->head;
            struct evl__pool_job *prev = NULL;
            while (*pp && *pp != job) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            *pp = job->next;
            if (pool->tail == job) {
                pool->tail = prev;
            }
        }
        bool ours = state == JOB_QUEUED || state == JOB_RUNNING || state == JOB_ORPHAN;
        if (ours) {
            /* Everything the loop needs from the job is taken under the lock: once a
             * running job is marked detached its worker may free it at any moment. */
            job_unlink(job);
            p = job->p;
            job->p = NULL;
            value = job->value;
            dtor = job->dtor;
            if (state == JOB_RUNNING) {
                job->state = JOB_DETACHED;
            }
        }
        pthread_mutex_unlock(&pool->lock);
        if (ours) {
            settle_job_promise(ps, p, EVL_ECANCELED, NULL, NULL);
            /* Only a worker whose completion was accepted ends the count itself. */
            evl__loop_inflight_done(ps->loop);
            if (state != JOB_RUNNING) {
                if (dtor) {
                    dtor(ps->loop, value);
                }
                job_free(job);
            }
        }
        job = next;
    }
}

/* ---- Thread-safe resolver --------------------------------------------------------------- */

struct evl_resolver {
    _Atomic uint32_t refs; /* the caller's handle, the loop's list entry, hops in flight */
    _Atomic int used;
    struct evl_loop *loop;
    struct evl__pstate *ps;
    struct evl_promise *p;     /* +1, loop thread; NULL once dropped */
    struct evl_resolver *prev; /* ps->resolvers, loop thread */
    struct evl_resolver *next;
    void *value;
    evl_dtor_cb dtor;
    int reject;
};

static void resolver_unref(struct evl_resolver *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1) {
        evl_free(r);
    }
}

/* Loop thread: drops the promise and the list entry (once). */
static void resolver_detach(struct evl_resolver *r)
{
    if (!r->p) {
        return;
    }
    struct evl__pstate *ps = r->ps;
    if (r->prev) {
        r->prev->next = r->next;
    } else {
        ps->resolvers = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    }
    evl__promise_release(r->p);
    r->p = NULL;
    resolver_unref(r);
}

int evl_resolver_new(struct evl_promise *p, struct evl_resolver **out)
{
    if (!p || !out) {
        return EVL_EINVAL;
    }
    struct evl__pstate *ps = p->ps;
    if (!evl__on_loop(ps->loop)) {
        return EVL_EPERM;
    }
    struct evl_resolver *r = evl_calloc(1, sizeof(*r));
    if (!r) {
        return EVL_ENOMEM;
    }
    atomic_init(&r->refs, 2);
    atomic_init(&r->used, 0);
    r->loop = ps->loop;
    r->ps = ps;
    r->p = p;
    p->refs++;
    r->next = ps->resolvers;
    if (ps->resolvers) {
        ps->resolvers->prev = r;
    }
    ps->resolvers = r;
    *out = r;
    return 0;
}

static void resolver_hop(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_resolver *r = arg;
    struct evl_promise *p = r->p;
    struct evl__val v = {r->value, r->dtor, NULL};
    if (p && !(p->flags & EVL__P_RESOLVED)) {
        p->flags |= EVL__P_RESOLVED;
        if (r->reject) {
            evl__promise_do_reject(p, v);
        } else {
            evl__promise_do_resolve(p, v);
        }
    } else {
        evl__val_drop(r->ps, v);
    }
    resolver_detach(r);
    resolver_unref(r);
}

static void resolver_hop_discard(struct evl_loop *loop, void *arg)
{
    struct evl_resolver *r = arg;
    if (r->dtor) {
        r->dtor(loop, r->value);
    }
    resolver_unref(r);
}

static int resolver_settle(struct evl_resolver *r, void *value, evl_dtor_cb dtor, int reject)
{
    if (!r) {
        return EVL_EINVAL;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&r->used, &expected, 1)) {
        return EVL_EALREADY;
    }
    r->value = value;
    r->dtor = dtor;
    r->reject = reject;
    atomic_fetch_add(&r->refs, 1);
    int rc = evl_loop_submit_ex(r->loop, resolver_hop, resolver_hop_discard, r);
    if (rc != 0) {
        atomic_fetch_sub(&r->refs, 1);
        r->value = NULL;
        r->dtor = NULL;
        atomic_store(&r->used, 0);
    }
    return rc;
}

int evl_resolver_resolve(struct evl_resolver *r, void *value, evl_dtor_cb dtor)
{
    return resolver_settle(r, value, dtor, 0);
}

int evl_resolver_reject(struct evl_resolver *r, void *reason, evl_dtor_cb dtor)
{
    return resolver_settle(r, reason, dtor, 1);
}

static void resolver_release_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_resolver *r = arg;
    resolver_detach(r);
    resolver_unref(r);
}

static void resolver_release_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    /* Loop teardown detaches every resolver still listed. */
    resolver_unref(arg);
}

void evl_resolver_release(struct evl_resolver *r)
{
    if (!r) {
        return;
    }
    if (!atomic_load(&r->used)) {
        /* Never used: the promise reference must be dropped on the loop thread. */
        if (evl__loop_on_thread(r->loop) && evl_loop_state(r->loop) != EVL_LOOP_TERMINATED) {
            resolver_detach(r);
        } else {
            atomic_fetch_add(&r->refs, 1);
            if (evl_loop_submit_ex(r->loop, resolver_release_task, resolver_release_discard, r) !=
                0) {
                atomic_fetch_sub(&r->refs, 1);
            }
        }
    }
    resolver_unref(r);
}

void evl__resolvers_loop_teardown(struct evl__pstate *ps)
{
    while (ps->resolvers) {
        resolver_detach(ps->resolvers);
    }
}

/*
 * The worker pool and the thread-safe resolver: the two ways a promise is settled from
 * another thread. Both hop onto the loop with evl_loop_submit; both leave the promise's
 * reference count (loop thread only) to the loop thread.
 *
 * Pool job life: submit (loop thread) links the job on the loop's job list and counts it
 * among the loop's pool jobs (the loop is in flight while there are any; the count is the
 * loop thread's own). Inside a callback the job is collected with the loop's other new jobs
 * and the batch is pushed onto the pool's lock-free incoming stack when the callback ends (a
 * microtask) or once POOL_PUBLISH_MAX are collected; outside callbacks it is pushed at once.
 * A worker moves the stack to the FIFO and takes a batch under one lock (TAKEN), runs the jobs
 * one by one (TAKEN -> RUNNING by compare-and-swap, the only change made without the lock)
 * and, under the pool lock again, hands each loop's finished jobs to it with one
 * evl_loop_submit (DONE), pinning the loop's memory until that call returned. Loop teardown
 * takes the pool lock too, so for every job exactly one of these holds:
 *   collected teardown rejects it with EVL_ECANCELED; it never reached the pool;
 *   QUEUED    teardown removes it and rejects with EVL_ECANCELED; the work never runs;
 *   TAKEN     teardown marks it CANCELED and rejects; the worker skips and frees it;
 *   RUNNING   teardown marks it DETACHED and rejects; the worker frees it afterwards
 *             (destroying its result) without touching the loop;
 *   ORPHAN    the completion submit was refused (loop closing): teardown cleans it up;
 *   DONE      the completion task owns it (it runs, or its discard callback runs on close).
 *
 * Costs are per batch where they can be: one compare-and-swap to hand over a loop's batch,
 * one lock to take many jobs, one submit (one loop wake-up at most) per finished run, at most
 * one outstanding worker wake-up (a woken worker wakes the next only if work is left), pool
 * references taken 64 at a time. Job records are recycled per loop, so steady-state
 * submission does not allocate.
 */
#include "core/promise_internal.h"

#include "core/loop_internal.h"
#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/task.h"

#include <stdatomic.h>
#include <string.h>

enum job_state {
    JOB_QUEUED,
    JOB_TAKEN,
    JOB_RUNNING,
    JOB_DONE,
    JOB_ORPHAN,
    JOB_DETACHED,
    JOB_CANCELED
};

/* The most jobs a worker takes at once. */
#define POOL_BATCH_MAX   64
#define POOL_PUBLISH_MAX 256

/* The incoming stack's value once evl_pool_free closed it. */
#define INCOMING_CLOSED ((struct evl__pool_job *)(uintptr_t)1)

/* Pool references a loop takes at once for its jobs (see take_ref). */
#define POOL_CREDITS     64
#define POOL_CREDITS_MAX 65536

struct evl_pool {
    /* What a submitting loop thread touches on every submit, on a cache line of its own
     * (the padding keeps the workers' lock and queue off it). */
    struct evl__pool_job *_Atomic incoming; /* newest first; workers move it to the FIFO */
    _Atomic unsigned idle;                  /* workers waiting (or about to wait) on cond */
    _Atomic bool wake_posted;               /* a signal is on its way to an idle worker */
    char pad_[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct evl__pool_job *head; /* FIFO of queued jobs (lock) */
    struct evl__pool_job *tail;
    size_t queued;
    bool stopping;
    /* evl_pool_new's + one per live job + the credits loops hold (see take_ref). */
    _Atomic uint32_t refs;
    unsigned nthreads;
    pthread_t *threads;
};

struct evl__pool_job {
    struct evl__pool_job *next;  /* pool queue, worker batch, completion run */
    struct evl__pool_job *lprev; /* loop's job list (loop thread) */
    struct evl__pool_job *lnext;
    struct evl_pool *pool; /* +1 */
    struct evl__pstate *ps;
    struct evl_promise *p; /* +1; loop thread */
    evl_work_cb work;
    void *arg;
    _Atomic int state; /* enum job_state: pool lock, except TAKEN -> RUNNING */
    int rc;
    void *value;
    evl_dtor_cb dtor;
};

static void pool_unref(struct evl_pool *pool, uint32_t n)
{
    if (atomic_fetch_sub(&pool->refs, n) == n) {
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        evl_free(pool->threads);
        evl_free(pool);
    }
}

/* Any thread: the record goes back to the allocator. */
static void job_free(struct evl__pool_job *job)
{
    struct evl_pool *pool = job->pool;
    evl_free(job);
    pool_unref(pool, 1);
}

/*
 * Loop thread: a pool reference for a new job. A loop takes references POOL_CREDITS at a
 * time and keeps those its finished jobs give back, so the shared counter is touched once
 * per many jobs instead of twice per job. Credits keep the pool's memory (not its threads)
 * until the loop's teardown returns them.
 */
static void take_ref(struct evl__pstate *ps, struct evl_pool *pool)
{
    if (ps->credit_pool != pool) {
        if (ps->credit_pool && ps->credits > 0) {
            pool_unref(ps->credit_pool, ps->credits);
        }
        ps->credit_pool = pool;
        ps->credits = 0;
    }
    if (ps->credits == 0) {
        atomic_fetch_add_explicit(&pool->refs, POOL_CREDITS, memory_order_relaxed);
        ps->credits = POOL_CREDITS;
    }
    ps->credits--;
}

/* Loop thread: gives a job's pool reference back. */
static void give_ref(struct evl__pstate *ps, struct evl_pool *pool)
{
    if (ps->credit_pool == pool && ps->credits < POOL_CREDITS_MAX) {
        ps->credits++;
    } else {
        pool_unref(pool, 1);
    }
}

/* Loop thread: the record is kept for the loop's next submit (like promise records, the
 * loop keeps its high-water mark until teardown). */
static void job_recycle(struct evl__pstate *ps, struct evl__pool_job *job)
{
    struct evl_pool *pool = job->pool;
    job->next = ps->free_jobs;
    ps->free_jobs = job;
    give_ref(ps, pool);
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

/* Loop thread: the loop is in flight (kept alive, waited for by shutdown) while it has pool
 * jobs not yet completed; the count is the loop's own, so workers never touch it. */
static void jobs_started(struct evl__pstate *ps)
{
    if (ps->pool_jobs++ == 0) {
        evl__loop_inflight_add(ps->loop);
    }
}

static void jobs_ended(struct evl__pstate *ps, size_t n)
{
    ps->pool_jobs -= n;
    if (ps->pool_jobs == 0) {
        evl__loop_inflight_done(ps->loop);
    }
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

/* The completion task of one run of finished jobs (linked by next), in completion order. */
static void jobs_complete(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl__pool_job *job = arg;
    struct evl__pstate *ps = job->ps;
    size_t n = 0;
    /* The promises were last touched at submit time, often long ago: fetch them all at
     * once (the misses overlap) before settling them one by one. */
    for (struct evl__pool_job *j = job; j; j = j->next) {
        __builtin_prefetch(j->p, 1);
    }
    while (job) {
        struct evl__pool_job *next = job->next;
        if (next) {
            /* The next promise's reaction list (known once the promise is in). */
            __builtin_prefetch(next->p->value, 1);
        }
        job_unlink(job);
        job_settle(job, job->rc, job->value, job->dtor);
        job_recycle(ps, job);
        job = next;
        n++;
    }
    jobs_ended(ps, n);
}

static void jobs_discard(struct evl_loop *loop, void *arg)
{
    struct evl__pool_job *job = arg;
    struct evl__pstate *ps = job->ps;
    size_t n = 0;
    while (job) {
        struct evl__pool_job *next = job->next;
        job_unlink(job);
        if (job->dtor) {
            job->dtor(loop, job->value);
        }
        job_settle(job, EVL_ECANCELED, NULL, NULL);
        job_recycle(ps, job);
        job = next;
        n++;
    }
    jobs_ended(ps, n);
}

/* Wakes one idle worker unless a wake-up is already on its way. Pool lock held. */
static void wake_one(struct evl_pool *pool)
{
    if (atomic_load(&pool->idle) > 0 && !atomic_load(&pool->wake_posted)) {
        atomic_store(&pool->wake_posted, true);
        pthread_cond_signal(&pool->cond);
    }
}

/* Moves the incoming stack to the FIFO's tail, oldest first. Pool lock held. */
static void take_incoming(struct evl_pool *pool)
{
    struct evl__pool_job *in = atomic_load(&pool->incoming);
    do {
        if (!in || in == INCOMING_CLOSED) {
            return;
        }
    } while (!atomic_compare_exchange_weak(&pool->incoming, &in, NULL));
    struct evl__pool_job *rev = NULL;
    struct evl__pool_job *last = in;
    size_t n = 0;
    while (in) {
        struct evl__pool_job *next = in->next;
        in->next = rev;
        rev = in;
        in = next;
        n++;
    }
    if (pool->tail) {
        pool->tail->next = rev;
    } else {
        pool->head = rev;
    }
    pool->tail = last;
    pool->queued += n;
}

/*
 * Hands the finished jobs of done (in order) to their loops: one submit per run of jobs of
 * the same loop. Pool lock held (teardown takes it too, so a loop not yet torn down stays).
 * Each loop handed a run is retained (its memory, not its life) until the caller, after
 * unlocking, releases the loops returned in runs: the loop thread may complete the run
 * before the submit call has returned. Detached jobs are moved to *dead. Returns the number
 * of loops in runs.
 */
static size_t hand_off(struct evl__pool_job *done, struct evl__pool_job **dead,
                       struct evl_loop **runs)
{
    size_t nruns = 0;
    while (done) {
        struct evl__pstate *ps = done->ps;
        struct evl__pool_job *first = NULL;
        struct evl__pool_job **link = &first;
        /* The run: the jobs of this loop up to the first job of another loop. */
        while (done && done->ps == ps) {
            struct evl__pool_job *job = done;
            done = job->next;
            if (atomic_load_explicit(&job->state, memory_order_relaxed) == JOB_DETACHED) {
                job->next = *dead;
                *dead = job;
                continue;
            }
            /* Set first: once submitted, the loop thread may complete and free the job. */
            atomic_store_explicit(&job->state, JOB_DONE, memory_order_relaxed);
            *link = job;
            link = &job->next;
        }
        *link = NULL;
        if (!first) {
            continue;
        }
        struct evl_loop *loop = ps->loop;
        evl__loop_mem_retain(loop);
        runs[nruns++] = loop;
        if (evl__loop_submit_internal(loop, jobs_complete, jobs_discard, first) != 0) {
            for (struct evl__pool_job *job = first; job; job = job->next) {
                atomic_store_explicit(&job->state, JOB_ORPHAN, memory_order_relaxed);
            }
        }
    }
    return nruns;
}

static void *worker_main(void *arg)
{
    struct evl_pool *pool = arg;
    struct evl_loop *runs[POOL_BATCH_MAX];
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        take_incoming(pool);
        if (!pool->head) {
            if (pool->stopping) {
                break;
            }
            /* Announce idleness, then look once more: a submitter either sees idle > 0 (and
             * wakes someone) or pushed before this load (and the job is seen here). */
            atomic_fetch_add(&pool->idle, 1);
            if (!atomic_load(&pool->incoming)) {
                pthread_cond_wait(&pool->cond, &pool->lock);
                atomic_store(&pool->wake_posted, false);
            }
            atomic_fetch_sub(&pool->idle, 1);
            continue;
        }
        /* A fair share of the queue, so the other workers get some too. */
        size_t want = pool->queued / pool->nthreads + 1;
        if (want > POOL_BATCH_MAX) {
            want = POOL_BATCH_MAX;
        }
        struct evl__pool_job *batch = pool->head;
        struct evl__pool_job *last = batch;
        atomic_store_explicit(&last->state, JOB_TAKEN, memory_order_relaxed);
        size_t taken = 1;
        while (taken < want && last->next) {
            last = last->next;
            atomic_store_explicit(&last->state, JOB_TAKEN, memory_order_relaxed);
            taken++;
        }
        pool->head = last->next;
        if (!pool->head) {
            pool->tail = NULL;
        }
        last->next = NULL;
        pool->queued -= taken;
        if (pool->head) {
            wake_one(pool);
        }
        pthread_mutex_unlock(&pool->lock);

        struct evl__pool_job *done = NULL;
        struct evl__pool_job **done_link = &done;
        while (batch) {
            struct evl__pool_job *job = batch;
            batch = job->next;
            int expected = JOB_TAKEN;
            if (!atomic_compare_exchange_strong(&job->state, &expected, JOB_RUNNING)) {
                /* Canceled by loop teardown, which settled the promise and ended the
                 * in-flight count: the work must not run. */
                job_free(job);
                continue;
            }
            void *value = NULL;
            evl_dtor_cb dtor = NULL;
            job->rc = job->work(job->arg, &value, &dtor);
            job->value = value;
            job->dtor = dtor;
            *done_link = job;
            done_link = &job->next;
        }
        *done_link = NULL;

        pthread_mutex_lock(&pool->lock);
        if (!done) {
            continue;
        }
        struct evl__pool_job *dead = NULL;
        /* Submitting under the pool lock orders the hand-off against loop teardown. */
        size_t nruns = hand_off(done, &dead, runs);
        pthread_mutex_unlock(&pool->lock);
        for (size_t i = 0; i < nruns; i++) {
            evl__loop_mem_release(runs[i]);
        }
        while (dead) {
            /* The loop is gone (teardown already settled the promise and ended the in-flight
             * count): the result has nowhere to go. */
            struct evl__pool_job *job = dead;
            dead = job->next;
            if (job->dtor) {
                job->dtor(NULL, job->value);
            }
            job_free(job);
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
    /* Workers read nthreads (batch sizing) under the lock. */
    pthread_mutex_lock(&pool->lock);
    pool->nthreads = threads;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) {
            pool->nthreads = i;
            pthread_mutex_unlock(&pool->lock);
            evl_pool_free(pool);
            return EVL_EIO;
        }
    }
    pthread_mutex_unlock(&pool->lock);
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
    /* Close the incoming stack (later submits fail with EVL_ECLOSED); what is on it is
     * queued and finished like the rest. */
    take_incoming(pool);
    atomic_store(&pool->incoming, INCOMING_CLOSED);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++) {
        pthread_join(pool->threads[i], NULL);
    }
    pool_unref(pool, 1);
    return 0;
}

unsigned evl_pool_threads(const struct evl_pool *pool)
{
    return pool ? pool->nthreads : 0;
}

/* Loop thread: rejects jobs whose pool was closed before they were handed to it. */
static void cancel_unpublished(struct evl__pstate *ps, struct evl__pool_job *list)
{
    while (list) {
        struct evl__pool_job *next = list->next;
        job_unlink(list);
        job_settle(list, EVL_ECANCELED, NULL, NULL);
        job_recycle(ps, list);
        jobs_ended(ps, 1);
        list = next;
    }
}

/* Pushes the newest-first chain first..last onto the pool's incoming stack with one
 * compare-and-swap, then wakes a worker if one is idle and no wake-up is on its way.
 * Returns false (nothing pushed) when the pool is closed. */
static bool push_chain(struct evl_pool *pool, struct evl__pool_job *first,
                       struct evl__pool_job *last)
{
    struct evl__pool_job *top = atomic_load_explicit(&pool->incoming, memory_order_relaxed);
    do {
        if (top == INCOMING_CLOSED) {
            last->next = NULL;
            return false;
        }
        last->next = top;
    } while (!atomic_compare_exchange_weak(&pool->incoming, &top, first));
    if (atomic_load(&pool->idle) > 0 && !atomic_load(&pool->wake_posted)) {
        pthread_mutex_lock(&pool->lock);
        wake_one(pool);
        pthread_mutex_unlock(&pool->lock);
    }
    return true;
}

/* Loop thread: hands the loop's batch of submitted jobs to its pool. */
static void publish(struct evl__pstate *ps)
{
    struct evl__pool_job *first = ps->local;
    struct evl__pool_job *last = ps->local_tail;
    struct evl_pool *pool = ps->local_pool;
    ps->local = NULL;
    ps->local_tail = NULL;
    ps->local_pool = NULL;
    ps->local_n = 0;
    if (first && !push_chain(pool, first, last)) {
        cancel_unpublished(ps, first);
    }
}

/* The end of the callback that submitted: its batch goes to the pool (this microtask does
 * nothing a program can observe, so no ordering moves). */
static void flush_job(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl__pstate *ps = arg;
    ps->flush_queued = false;
    publish(ps);
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
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop) ||
        atomic_load_explicit(&pool->incoming, memory_order_relaxed) == INCOMING_CLOSED) {
        return EVL_ECLOSED;
    }
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return EVL_ENOMEM;
    }
    if (loop->budgets.limit[EVL__LIMIT_POOL_JOBS] &&
        ps->pool_jobs >= loop->budgets.limit[EVL__LIMIT_POOL_JOBS]) {
        return evl__loop_limit_hit(loop, EVL__LIMIT_POOL_JOBS); /* sandbox limit */
    }
    struct evl__pool_job *job = ps->free_jobs;
    if (job) {
        ps->free_jobs = job->next;
        __builtin_prefetch(job->next, 1); /* the next submit's record */
    } else {
        job = evl_malloc(sizeof(*job));
        if (!job) {
            return EVL_ENOMEM;
        }
    }
    struct evl_promise *p = evl__promise_alloc(ps, 1);
    if (!p) {
        evl_free(job);
        return EVL_ENOMEM;
    }
    job->lprev = NULL;
    job->pool = pool;
    job->ps = ps;
    job->p = p;
    job->work = work;
    job->arg = arg;
    atomic_init(&job->state, JOB_QUEUED);
    job->rc = 0;
    job->value = NULL;
    job->dtor = NULL;
    /* The loop's job list is loop thread only. */
    job->lnext = ps->jobs;
    if (ps->jobs) {
        ps->jobs->lprev = job;
    }
    ps->jobs = job;
    take_ref(ps, pool);
    jobs_started(ps);
    p->refs++;
    *out = p;

    /*
     * Inside a callback, jobs are collected and handed to the pool in one push when the
     * callback is done (a microtask queued with the first) or once a batch's worth is
     * collected: a burst of submits costs one compare-and-swap and at most one wake-up per
     * batch. Outside any callback nothing would run that microtask before the loop blocks,
     * so the job goes at once (after any collected ones, keeping submission order).
     */
    if (loop->cb_depth == 0 && !loop->in_checkpoint) {
        publish(ps);
        if (!push_chain(pool, job, job)) {
            cancel_unpublished(ps, job);
        }
        return 0;
    }
    if (ps->local && ps->local_pool != pool) {
        publish(ps);
    }
    job->next = ps->local;
    ps->local = job;
    if (!ps->local_tail) {
        ps->local_tail = job;
    }
    ps->local_pool = pool;
    if (++ps->local_n >= POOL_PUBLISH_MAX) {
        publish(ps);
    } else if (!ps->flush_queued) {
        if (evl__queue_job(loop, flush_job, ps) == 0) {
            ps->flush_queued = true;
        } else {
            publish(ps);
        }
    }
    return 0;
}

void evl__pool_loop_teardown(struct evl__pstate *ps)
{
    /* Collected jobs never reached a worker: they are rejected here and never run. */
    struct evl__pool_job *local = ps->local;
    ps->local = NULL;
    ps->local_tail = NULL;
    ps->local_pool = NULL;
    ps->local_n = 0;
    ps->flush_queued = false;
    cancel_unpublished(ps, local);
    struct evl__pool_job *job = ps->jobs;
    while (job) {
        struct evl__pool_job *next = job->lnext;
        struct evl_pool *pool = job->pool;
        struct evl_promise *p = NULL;
        void *value = NULL;
        evl_dtor_cb dtor = NULL;
        pthread_mutex_lock(&pool->lock);
        take_incoming(pool);
        int state = atomic_load(&job->state);
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
            pool->queued--;
        }
        bool ours = state == JOB_QUEUED || state == JOB_TAKEN || state == JOB_RUNNING ||
                    state == JOB_ORPHAN;
        if (ours) {
            /* Everything the loop needs from the job is taken under the lock and before the
             * job is let go: once a running or taken job is marked, its worker may free it at
             * any moment. */
            job_unlink(job);
            p = job->p;
            job->p = NULL;
            if (state == JOB_ORPHAN) {
                value = job->value;
                dtor = job->dtor;
            }
            if (state == JOB_TAKEN) {
                /* In a worker's batch: canceled if not started yet (the worker skips and
                 * frees it), else it just started running. */
                int expected = JOB_TAKEN;
                if (atomic_compare_exchange_strong(&job->state, &expected, JOB_CANCELED)) {
                    state = JOB_CANCELED;
                } else {
                    state = JOB_RUNNING;
                }
            }
            if (state == JOB_RUNNING) {
                atomic_store(&job->state, JOB_DETACHED);
            }
        }
        pthread_mutex_unlock(&pool->lock);
        if (ours) {
            settle_job_promise(ps, p, EVL_ECANCELED, NULL, NULL);
            jobs_ended(ps, 1);
            if (state == JOB_QUEUED || state == JOB_ORPHAN) {
                if (dtor) {
                    dtor(ps->loop, value);
                }
                job_free(job);
            }
        }
        job = next;
    }
    if (ps->credit_pool && ps->credits > 0) {
        pool_unref(ps->credit_pool, ps->credits);
    }
    ps->credit_pool = NULL;
    ps->credits = 0;
    while (ps->free_jobs) {
        struct evl__pool_job *spare = ps->free_jobs;
        ps->free_jobs = spare->next;
        evl_free(spare);
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
    int rc = evl__loop_submit_internal(r->loop, resolver_hop, resolver_hop_discard, r);
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
            if (evl__loop_submit_internal(r->loop, resolver_release_task, resolver_release_discard,
                                          r) != 0) {
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

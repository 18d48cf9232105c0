/*
 * A loop's side of the pool (loop thread): the per-loop state, created by the loop's first
 * pool submit with its own teardown hook; submission and the batching of a callback's
 * submits; completion, which settles the jobs' promises; and the teardown that cancels or
 * waits for the jobs still out (the protocol is described in pool.h).
 */
#include "core/pool/pool.h"

#include "core/context/context_internal.h"
#include "core/loop_state.h"
#include "core/promise/promise_internal.h"
#include "evl/alloc.h"
#include "evl/errno.h"

#include <stddef.h>

/* Jobs a callback collects before they are handed to the pool at once. */
#define POOL_PUBLISH_MAX 256

/* Pool references a loop takes at once for its jobs (see take_ref). */
#define POOL_CREDITS     64
#define POOL_CREDITS_MAX 65536

/* ---- Per-loop state ------------------------------------------------------------------- */

static void pool_loop_teardown(struct evl_loop *loop, void *arg);

/* The loop's pool state, created on first use with its teardown hook (NULL on allocation
 * failure or once the loop's teardown began). */
static struct evl__pool_loop *pool_loop_get(struct evl_loop *loop)
{
    struct evl__pool_loop *pl = loop->pool_state;
    if (pl) {
        return pl;
    }
    if (evl__loop_admission_closed(loop) || evl__loop_tearing_down(loop)) {
        return NULL;
    }
    pl = evl_calloc(1, sizeof(*pl));
    if (!pl) {
        return NULL;
    }
    pl->loop = loop;
    if (evl__loop_at_teardown(loop, pool_loop_teardown, pl) != 0) {
        evl_free(pl);
        return NULL;
    }
    loop->pool_state = pl;
    return pl;
}

/* ---- Pool references and job records ---------------------------------------------------- */

/*
 * Loop thread: a pool reference for a new job. A loop takes references POOL_CREDITS at a
 * time and keeps those its finished jobs give back, so the shared counter is touched once
 * per many jobs instead of twice per job. Credits keep the pool's memory (not its threads)
 * until the loop's teardown returns them.
 */
static void take_ref(struct evl__pool_loop *pl, struct evl_pool *pool)
{
    if (pl->credit_pool != pool) {
        if (pl->credit_pool && pl->credits > 0) {
            evl__pool_unref(pl->credit_pool, pl->credits);
        }
        pl->credit_pool = pool;
        pl->credits = 0;
    }
    if (pl->credits == 0) {
        atomic_fetch_add_explicit(&pool->refs, POOL_CREDITS, memory_order_relaxed);
        pl->credits = POOL_CREDITS;
    }
    pl->credits--;
}

/* Loop thread: gives a job's pool reference back. */
static void give_ref(struct evl__pool_loop *pl, struct evl_pool *pool)
{
    if (pl->credit_pool == pool && pl->credits < POOL_CREDITS_MAX) {
        pl->credits++;
    } else {
        evl__pool_unref(pool, 1);
    }
}

/* Loop thread: the record is kept for the loop's next submit (like promise records, the
 * loop keeps its high-water mark until teardown). */
static void job_recycle(struct evl__pool_loop *pl, struct evl__pool_job *job)
{
    struct evl_pool *pool = job->pool;
    evl_context_release(pl->loop, job->frame);
    job->frame = NULL;
    job->next = pl->free_jobs;
    pl->free_jobs = job;
    give_ref(pl, pool);
}

static void job_unlink(struct evl__pool_job *job)
{
    struct evl__pool_loop *pl = job->pl;
    if (job->lprev) {
        job->lprev->lnext = job->lnext;
    } else {
        pl->jobs = job->lnext;
    }
    if (job->lnext) {
        job->lnext->lprev = job->lprev;
    }
    job->lprev = job->lnext = NULL;
}

/* Loop thread: the loop is in flight (kept alive, waited for by shutdown) while it has pool
 * jobs not yet completed; the count is the loop's own, so workers never touch it. */
static void jobs_started(struct evl__pool_loop *pl)
{
    if (pl->pool_jobs++ == 0) {
        evl__loop_inflight_add(pl->loop);
    }
}

static void jobs_ended(struct evl__pool_loop *pl, size_t n)
{
    pl->pool_jobs -= n;
    if (pl->pool_jobs == 0) {
        evl__loop_inflight_done(pl->loop);
    }
}

/* Settles a job's promise as its own resolving functions would (first settle wins) and drops
 * the job's reference to it. */
static void settle_job_promise(struct evl_promise *p, int rc, void *value, evl_dtor_cb dtor)
{
    struct evl__val v = {value, dtor, NULL};
    if (p->flags & EVL__P_RESOLVED) {
        evl__val_drop(p->ps, v);
    } else {
        p->flags |= EVL__P_RESOLVED;
        if (rc == 0) {
            evl__promise_do_resolve(p, v);
        } else if (value || dtor) {
            evl__promise_do_reject(p, v);
        } else {
            evl__promise_do_reject(p, evl__promise_error_val(rc, NULL));
        }
    }
    evl__promise_release(p);
}

static void job_settle(struct evl__pool_job *job, int rc, void *value, evl_dtor_cb dtor)
{
    struct evl_promise *p = job->p;
    job->p = NULL;
    settle_job_promise(p, rc, value, dtor);
}

/* The completion task of one run of finished jobs (linked by next), in completion order. */
void evl__pool_jobs_complete(struct evl_loop *loop, void *arg)
{
    struct evl__pool_job *job = arg;
    struct evl__pool_loop *pl = job->pl;
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
        /* One pool completion per job (the run of them also counts as one submitted task). */
        uint64_t mt = evl__loop_cb_enter(loop, EVL_METRICS_POOL);
        struct evl__context_bracket cx;
        evl__context_bracket_enter(loop, job->frame, &cx);
        job_settle(job, job->rc, job->value, job->dtor);
        evl__context_bracket_leave(loop, &cx);
        evl__loop_cb_leave(loop, EVL_METRICS_POOL, mt);
        job_recycle(pl, job);
        job = next;
        n++;
    }
    jobs_ended(pl, n);
}

void evl__pool_jobs_discard(struct evl_loop *loop, void *arg)
{
    struct evl__pool_job *job = arg;
    struct evl__pool_loop *pl = job->pl;
    size_t n = 0;
    while (job) {
        struct evl__pool_job *next = job->next;
        job_unlink(job);
        if (job->dtor) {
            job->dtor(loop, job->value);
        }
        job_settle(job, EVL_ECANCELED, NULL, NULL);
        job_recycle(pl, job);
        job = next;
        n++;
    }
    jobs_ended(pl, n);
}

static struct evl__pool_job *job_of_note(void *arg)
{
    return (struct evl__pool_job *)(void *)((char *)arg - offsetof(struct evl__pool_job, note));
}

void evl__pool_jobs_complete_note(struct evl_loop *loop, void *arg)
{
    evl__pool_jobs_complete(loop, job_of_note(arg));
}

void evl__pool_jobs_discard_note(struct evl_loop *loop, void *arg)
{
    evl__pool_jobs_discard(loop, job_of_note(arg));
}

/* Loop thread: rejects jobs whose pool was closed before they were handed to it. */
static void cancel_unpublished(struct evl__pool_loop *pl, struct evl__pool_job *list)
{
    while (list) {
        struct evl__pool_job *next = list->next;
        job_unlink(list);
        job_settle(list, EVL_ECANCELED, NULL, NULL);
        job_recycle(pl, list);
        jobs_ended(pl, 1);
        list = next;
    }
}

/* Loop thread: hands the loop's batch of submitted jobs to its pool. */
static void publish(struct evl__pool_loop *pl)
{
    struct evl__pool_job *first = pl->local;
    struct evl__pool_job *last = pl->local_tail;
    struct evl_pool *pool = pl->local_pool;
    pl->local = NULL;
    pl->local_tail = NULL;
    pl->local_pool = NULL;
    pl->local_n = 0;
    if (first && !evl__pool_push(pool, first, last)) {
        cancel_unpublished(pl, first);
    }
}

/* The end of the callback that submitted: its batch goes to the pool (this microtask does
 * nothing a program can observe, so no ordering moves). */
static void flush_job(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl__pool_loop *pl = arg;
    pl->flush_queued = false;
    publish(pl);
}

int evl_pool_submit(struct evl_pool *pool, struct evl_loop *loop, evl_work_cb work, void *arg,
                    struct evl_promise **out)
{
    if (!pool || !loop || !work || !out) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop) ||
        atomic_load_explicit(&pool->incoming, memory_order_relaxed) == EVL__POOL_CLOSED) {
        return EVL_ECLOSED;
    }
    /* The promise state first: its teardown hook is then registered before the pool
     * state's, so the pool's teardown (hooks run newest first) settles the jobs' promises
     * while the promise state is still there. */
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return EVL_ENOMEM;
    }
    struct evl__pool_loop *pl = pool_loop_get(loop);
    if (!pl) {
        return EVL_ENOMEM;
    }
    uint32_t cap = evl__budget_limit(&loop->budgets, EVL__LIMIT_POOL_JOBS);
    if (cap != 0 && pl->pool_jobs >= cap) {
        return evl__loop_limit_hit(loop, EVL__LIMIT_POOL_JOBS); /* sandbox limit */
    }
    struct evl_context_frame *frame = NULL;
    int rc = evl__context_capture_hot(loop, &frame);
    if (rc != 0) {
        return rc;
    }
    struct evl__pool_job *job = pl->free_jobs;
    if (job) {
        pl->free_jobs = job->next;
        __builtin_prefetch(job->next, 1); /* the next submit's record */
    } else {
        job = evl_malloc(sizeof(*job));
        if (!job) {
            evl_context_release(loop, frame);
            return EVL_ENOMEM;
        }
    }
    struct evl_promise *p = evl__promise_alloc(ps, 1);
    if (!p) {
        evl_free(job);
        evl_context_release(loop, frame);
        return EVL_ENOMEM;
    }
    job->lprev = NULL;
    job->pool = pool;
    job->pl = pl;
    job->p = p;
    job->frame = frame;
    job->work = work;
    job->arg = arg;
    atomic_init(&job->state, EVL__JOB_QUEUED);
    job->rc = 0;
    job->value = NULL;
    job->dtor = NULL;
    /* The loop's job list is loop thread only. */
    job->lnext = pl->jobs;
    if (pl->jobs) {
        pl->jobs->lprev = job;
    }
    pl->jobs = job;
    take_ref(pl, pool);
    jobs_started(pl);
    p->refs++;
    *out = p;

    /*
     * Inside a callback, jobs are collected and handed to the pool in one push when the
     * callback is done (a microtask queued with the first) or once a batch's worth is
     * collected: a burst of submits costs one compare-and-swap and at most one wake-up per
     * batch. Outside any callback nothing would run that microtask before the loop blocks,
     * so the job goes at once (after any collected ones, keeping submission order).
     */
    if (!evl__loop_in_callback(loop) && !evl__checkpoint_running(&loop->cp)) {
        publish(pl);
        if (!evl__pool_push(pool, job, job)) {
            cancel_unpublished(pl, job);
        }
        return 0;
    }
    if (pl->local && pl->local_pool != pool) {
        publish(pl);
    }
    job->next = pl->local;
    pl->local = job;
    if (!pl->local_tail) {
        pl->local_tail = job;
    }
    pl->local_pool = pool;
    if (++pl->local_n >= POOL_PUBLISH_MAX) {
        publish(pl);
    } else if (!pl->flush_queued) {
        if (evl__queue_job(loop, flush_job, pl) == 0) {
            pl->flush_queued = true;
        } else {
            publish(pl);
        }
    }
    return 0;
}

/*
 * Loop teardown of one job. Without wait, a job whose work is running is left for later (the
 * function returns false); with wait, it blocks until that work has returned, so the
 * argument the work uses is never released under it (the caller first cancels every job not
 * started, so it only waits for work already running).
 */
static bool teardown_job(struct evl__pool_loop *pl, struct evl__pool_job *job, bool wait)
{
    struct evl_pool *pool = job->pool;
    pthread_mutex_lock(&pool->lock);
    evl__pool_take_incoming(pool);
    int state = atomic_load(&job->state);
    if (state == EVL__JOB_QUEUED) {
        evl__pool_unqueue(pool, job); /* the work must never run */
    } else if (state == EVL__JOB_TAKEN) {
        /* In a worker's range: canceled if not started yet (the worker skips and frees it),
         * else it just started running. */
        int expected = EVL__JOB_TAKEN;
        state = atomic_compare_exchange_strong(&job->state, &expected, EVL__JOB_CANCELED)
                    ? EVL__JOB_CANCELED
                    : EVL__JOB_RUNNING;
    }
    if (state == EVL__JOB_RUNNING) {
        if (!wait) {
            pthread_mutex_unlock(&pool->lock);
            return false;
        }
        pool->teardown_waiters++;
        while ((state = atomic_load(&job->state)) == EVL__JOB_RUNNING) {
            pthread_cond_wait(&pool->returned, &pool->lock);
        }
        pool->teardown_waiters--;
    }
    /* The submit queue closed before teardown, so a finished job can only be ORPHAN here:
     * everything the loop needs is taken under the lock, before a canceled job is let go
     * (its worker may free it at any moment). */
    EVL__ASSERT(state == EVL__JOB_QUEUED || state == EVL__JOB_CANCELED || state == EVL__JOB_ORPHAN);
    job_unlink(job);
    struct evl_promise *p = job->p;
    job->p = NULL;
    struct evl_context_frame *frame = job->frame; /* a canceled job is the worker's to free */
    job->frame = NULL;
    void *value = state == EVL__JOB_ORPHAN ? job->value : NULL;
    evl_dtor_cb dtor = state == EVL__JOB_ORPHAN ? job->dtor : NULL;
    pthread_mutex_unlock(&pool->lock);
    settle_job_promise(p, EVL_ECANCELED, NULL, NULL);
    evl_context_release(pl->loop, frame);
    jobs_ended(pl, 1);
    if (state != EVL__JOB_CANCELED) {
        if (dtor) {
            dtor(pl->loop, value);
        }
        evl__pool_job_free(job);
    }
    return true;
}

/* The loop's teardown hook: every job still out is canceled (or waited for), then the
 * state goes. */
static void pool_loop_teardown(struct evl_loop *loop, void *arg)
{
    struct evl__pool_loop *pl = arg;
    /* Collected jobs never reached a worker: they are rejected here and never run. */
    struct evl__pool_job *local = pl->local;
    pl->local = NULL;
    pl->local_tail = NULL;
    pl->local_pool = NULL;
    pl->local_n = 0;
    pl->flush_queued = false;
    cancel_unpublished(pl, local);
    /* First every job not started (so that no worker starts one while teardown waits), then
     * the ones running, once their work has returned. */
    for (struct evl__pool_job *job = pl->jobs, *next; job; job = next) {
        next = job->lnext;
        teardown_job(pl, job, false);
    }
    while (pl->jobs) {
        teardown_job(pl, pl->jobs, true);
    }
    if (pl->credit_pool && pl->credits > 0) {
        evl__pool_unref(pl->credit_pool, pl->credits);
    }
    pl->credit_pool = NULL;
    pl->credits = 0;
    while (pl->free_jobs) {
        struct evl__pool_job *spare = pl->free_jobs;
        pl->free_jobs = spare->next;
        evl_free(spare);
    }
    loop->pool_state = NULL;
    evl_free(pl);
}

size_t evl__pool_jobs_pending(const struct evl_loop *loop)
{
    const struct evl__pool_loop *pl = loop->pool_state;
    return pl ? pl->pool_jobs : 0;
}

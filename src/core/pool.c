/*
 * The worker pool and the thread-safe resolver: the two ways a promise is settled from
 * another thread. Both hop onto the loop with evl_loop_submit; both leave the promise's
 * reference count (loop thread only) to the loop thread.
 *
 * Kept in one file because the pool and the resolver share the job-state protocol with loop
 * teardown described below; the split into pool/ belongs to the architecture restructuring.
 *
 * Pool job life: submit (loop thread) links the job on the loop's job list and counts it
 * among the loop's pool jobs (the loop is in flight while there are any; the count is the
 * loop thread's own). Inside a callback the job is collected with the loop's other new jobs
 * and the batch is pushed onto the pool's lock-free incoming stack when the callback ends (a
 * microtask) or once POOL_PUBLISH_MAX are collected; outside callbacks it is pushed at once.
 * A worker moves the stack to the FIFO and takes a batch under one lock (TAKEN) into its own
 * range, runs the jobs one by one (TAKEN -> RUNNING by compare-and-swap, the only change made
 * without the lock) and, under the pool lock again, hands each loop's finished jobs to it
 * with one evl_loop_submit (DONE), pinning the loop's memory until that call returned. Loop
 * teardown takes the pool lock too, so for every job exactly one of these holds:
 *   collected teardown rejects it with EVL_ECANCELED; it never reached the pool;
 *   QUEUED    teardown removes it and rejects with EVL_ECANCELED; the work never runs;
 *   TAKEN     teardown marks it CANCELED and rejects; the worker skips and frees it;
 *   RUNNING   teardown waits until the work function has returned (the job is then ORPHAN):
 *             the argument belongs to the work until then, and the promise's reactions may
 *             free it (their argument destructors run when close drops them);
 *   ORPHAN    the completion submit was refused (loop closing): teardown destroys the result
 *             and rejects with EVL_ECANCELED;
 *   DONE      the completion task owns it (it runs, or its discard callback runs on close).
 *
 * Fairness: a batch is taken for speed when the queue is deep, but no job waits behind a
 * long one while another worker is idle. The jobs of a batch not yet started stay in the
 * taker's range. A worker that finds the queue empty watches the ranges instead of sleeping
 * for good, and splits one (it takes the later half) that has not moved for STEAL_AFTER_NS:
 * its owner is stuck in a long job. A worker that takes more than one job wakes an idle one
 * to watch when none does.
 *
 * Costs are per batch where they can be: one compare-and-swap to hand over a loop's batch,
 * one lock to take many jobs, one submit (one loop wake-up at most) per finished run, at most
 * one outstanding worker wake-up (a woken worker wakes the next only if work is left), pool
 * references taken 64 at a time. Job records are recycled per loop, so steady-state
 * submission does not allocate.
 */
#include "core/promise_internal.h"

#include "core/loop_state.h"
#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/task.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

enum job_state { JOB_QUEUED, JOB_TAKEN, JOB_RUNNING, JOB_DONE, JOB_ORPHAN, JOB_CANCELED };

/* The most jobs a worker takes at once. */
#define POOL_BATCH_MAX   64
#define POOL_PUBLISH_MAX 256

/* How long a worker may start no job of its batch before an idle worker splits the batch. */
#define STEAL_AFTER_NS 50000u

/* The incoming stack's value once evl_pool_free closed it. */
#define INCOMING_CLOSED ((struct evl__pool_job *)(uintptr_t)1)

/* Pool references a loop takes at once for its jobs (see take_ref). */
#define POOL_CREDITS     64
#define POOL_CREDITS_MAX 65536

/*
 * One worker's batch: jobs[next..end) are taken but not started. next (low half) and end
 * (high half) share one word, so the owner's take of its next job and another worker's split
 * of the rest are each one compare-and-swap. The array is written only under the pool lock
 * while the range is empty, and a split copies out under the pool lock, so the slots a thief
 * reads are never rewritten meanwhile.
 */
struct worker {
    _Atomic uint64_t range;
    /* Finished jobs not handed back yet, newest first: the owner pushes, and the owner or a
     * watcher (when the owner is stuck in a long job) takes them all with one exchange. */
    struct evl__pool_job *_Atomic done;
    struct evl_pool *pool;
    pthread_t thread;
    struct worker *watched; /* the worker this one watches for progress, and what it saw */
    uint64_t watched_range;
    struct evl__pool_job *watched_done;
    struct evl__pool_job *jobs[POOL_BATCH_MAX];
};

struct evl_pool {
    /* What a submitting loop thread touches on every submit, on a cache line of its own
     * (the padding keeps the workers' lock and queue off it). */
    struct evl__pool_job *_Atomic incoming; /* newest first; workers move it to the FIFO */
    _Atomic unsigned idle;                  /* workers waiting (or about to wait) on cond */
    _Atomic bool wake_posted;               /* a signal is on its way to an idle worker */
    char pad_[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_cond_t returned;    /* a running job's work returned (loop teardown waits) */
    unsigned teardown_waiters;  /* loop teardowns waiting on returned (lock) */
    unsigned watchers;          /* idle workers watching a batch for progress (lock) */
    struct evl__pool_job *head; /* FIFO of queued jobs (lock) */
    struct evl__pool_job *tail;
    _Atomic size_t queued; /* written under the lock; read without by run_range */
    bool stopping;
    /* evl_pool_new's + one per live job + the credits loops hold (see take_ref). */
    _Atomic uint32_t refs;
    unsigned nthreads;
    struct worker *workers;
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
        pthread_cond_destroy(&pool->returned);
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        evl_free(pool->workers);
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

/* Appends a newest-first chain to the FIFO's tail, oldest first. Pool lock held. */
static void queue_chain(struct evl_pool *pool, struct evl__pool_job *in)
{
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
    if (!rev) {
        return;
    }
    if (pool->tail) {
        pool->tail->next = rev;
    } else {
        pool->head = rev;
    }
    pool->tail = last;
    atomic_store_explicit(&pool->queued, pool->queued + n, memory_order_relaxed);
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
    queue_chain(pool, in);
}

/*
 * Hands the finished jobs of done (in order) to their loops: one submit per run of jobs of
 * the same loop. Pool lock held (teardown takes it too, so a loop not yet torn down stays).
 * Each loop handed a run is retained (its memory, not its life) until the caller, after
 * unlocking, releases the loops returned in runs: the loop thread may complete the run
 * before the submit call has returned. A run its loop refuses (closing) is left ORPHAN for
 * the loop's teardown, which may be waiting for it. Returns the number of loops in runs.
 */
static size_t hand_off(struct evl_pool *pool, struct evl__pool_job *done, struct evl_loop **runs)
{
    size_t nruns = 0;
    bool orphaned = false;
    while (done) {
        struct evl__pstate *ps = done->ps;
        struct evl__pool_job *first = done;
        struct evl__pool_job *last = done;
        /* The run: the jobs of this loop up to the first job of another loop. Set DONE
         * first: once submitted, the loop thread may complete and free the jobs. */
        atomic_store_explicit(&last->state, JOB_DONE, memory_order_relaxed);
        while (last->next && last->next->ps == ps) {
            last = last->next;
            atomic_store_explicit(&last->state, JOB_DONE, memory_order_relaxed);
        }
        done = last->next;
        last->next = NULL;
        struct evl_loop *loop = ps->loop;
        evl__loop_mem_retain(loop);
        runs[nruns++] = loop;
        if (evl__loop_submit_internal(loop, jobs_complete, jobs_discard, first) != 0) {
            for (struct evl__pool_job *job = first; job; job = job->next) {
                atomic_store_explicit(&job->state, JOB_ORPHAN, memory_order_relaxed);
            }
            orphaned = true;
        }
    }
    if (orphaned && pool->teardown_waiters > 0) {
        pthread_cond_broadcast(&pool->returned);
    }
    return nruns;
}

static uint64_t range_make(uint32_t next, uint32_t end)
{
    return (uint64_t)end << 32 | next;
}

/* The owner's next job of its batch, or NULL once the range is empty. */
static struct evl__pool_job *range_pop(struct worker *w)
{
    uint64_t r = atomic_load_explicit(&w->range, memory_order_acquire);
    for (;;) {
        uint32_t next = (uint32_t)r;
        uint32_t end = (uint32_t)(r >> 32);
        if (next >= end) {
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&w->range, &r, range_make(next + 1, end),
                                                  memory_order_acq_rel, memory_order_acquire)) {
            return w->jobs[next];
        }
    }
}

/*
 * Pool lock held, own range empty: takes the later half (rounded up) of the largest range of
 * jobs another worker took but has not started, once that worker has started no job for
 * STEAL_AFTER_NS: a worker that is popping its batch quickly is left alone (stealing from it
 * would only move cache lines and wake threads), one stuck in a long job is not. Returns the
 * number of jobs taken into self's range; 0 with *watch set when a range is being watched
 * (the caller waits STEAL_AFTER_NS and looks again), 0 without when there is none.
 */
static uint32_t steal(struct evl_pool *pool, struct worker *self, bool *watch,
                      struct evl__pool_job **stuck_done)
{
    *watch = false;
    *stuck_done = NULL;
    struct worker *victim = NULL;
    uint32_t most = 0;
    for (unsigned i = 0; i < pool->nthreads; i++) {
        struct worker *w = &pool->workers[i];
        if (w == self) {
            continue;
        }
        uint64_t r = atomic_load_explicit(&w->range, memory_order_relaxed);
        uint32_t left = (uint32_t)(r >> 32) - (uint32_t)r;
        /* A worker with finished results waiting counts as one job: they must not wait. */
        if ((uint32_t)r >= (uint32_t)(r >> 32)) {
            left = atomic_load_explicit(&w->done, memory_order_relaxed) ? 1 : 0;
        }
        if (left > most) {
            most = left;
            victim = w;
        }
    }
    if (!victim) {
        self->watched = NULL;
        return 0;
    }
    uint64_t r = atomic_load_explicit(&victim->range, memory_order_acquire);
    struct evl__pool_job *d = atomic_load_explicit(&victim->done, memory_order_acquire);
    if (self->watched != victim || self->watched_range != r || self->watched_done != d) {
        /* A first look, or the owner started or finished a job since: it makes progress. */
        self->watched = victim;
        self->watched_range = r;
        self->watched_done = d;
        *watch = true;
        return 0;
    }
    self->watched = NULL;
    /* The owner is stuck in a long job: its finished results go back now... */
    *stuck_done = atomic_exchange_explicit(&victim->done, NULL, memory_order_acq_rel);
    /* ... and the later half of what it has not started moves here. */
    uint32_t next;
    uint32_t end;
    uint32_t k;
    do {
        next = (uint32_t)r;
        end = (uint32_t)(r >> 32);
        if (next >= end) {
            return 0; /* the owner took the rest meanwhile */
        }
        k = (end - next + 1) / 2;
    } while (!atomic_compare_exchange_weak_explicit(&victim->range, &r, range_make(next, end - k),
                                                    memory_order_acq_rel, memory_order_acquire));
    for (uint32_t i = 0; i < k; i++) {
        self->jobs[i] = victim->jobs[end - k + i];
    }
    atomic_store_explicit(&self->range, range_make(0, k), memory_order_release);
    return k;
}

/* Pool lock held: waits on the pool's condition, at most ns when ns > 0. */
static void idle_wait(struct evl_pool *pool, uint64_t ns)
{
    if (ns == 0) {
        pthread_cond_wait(&pool->cond, &pool->lock);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    pthread_cond_timedwait(&pool->cond, &pool->lock, &ts);
}

/* Pool lock held, after a take of n jobs: the rest of the queue needs a worker, and the rest
 * of the batch a watcher (one is enough: it splits whichever range stops moving). */
static void wake_for_rest(struct evl_pool *pool, uint32_t n)
{
    if (pool->head || (n > 1 && pool->watchers == 0)) {
        wake_one(pool);
    }
}

/* Pool lock held: moves a fair share of the FIFO into self's range. Returns the count. */
static uint32_t take_batch(struct evl_pool *pool, struct worker *self)
{
    /* A fair share of the queue, so the other workers get some too. */
    size_t want = pool->queued / pool->nthreads + 1;
    if (want > POOL_BATCH_MAX) {
        want = POOL_BATCH_MAX;
    }
    uint32_t n = 0;
    struct evl__pool_job *job = pool->head;
    while (n < want && job) {
        atomic_store_explicit(&job->state, JOB_TAKEN, memory_order_relaxed);
        self->jobs[n++] = job;
        job = job->next;
    }
    pool->head = job;
    if (!job) {
        pool->tail = NULL;
    }
    atomic_store_explicit(&pool->queued, pool->queued - n, memory_order_relaxed);
    atomic_store_explicit(&self->range, range_make(0, n), memory_order_release);
    return n;
}

/* Reverses a newest-first chain. */
static struct evl__pool_job *oldest_first(struct evl__pool_job *j)
{
    struct evl__pool_job *rev = NULL;
    while (j) {
        struct evl__pool_job *next = j->next;
        j->next = rev;
        rev = j;
        j = next;
    }
    return rev;
}

/* Hands a newest-first chain of finished jobs to their loops. Pool lock held; the loops in
 * runs[] are released by the caller once it unlocked. Returns their number. */
static size_t hand_off_chain(struct evl_pool *pool, struct evl__pool_job *chain,
                             struct evl_loop **runs)
{
    return chain ? hand_off(pool, oldest_first(chain), runs) : 0;
}

static void release_runs(struct evl_loop **runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        evl__loop_mem_release(runs[i]);
    }
}

/* The owner hands back what its done stack holds (a watcher may have taken it already). */
static void flush_done(struct evl_pool *pool, struct worker *self)
{
    struct evl__pool_job *chain = atomic_exchange_explicit(&self->done, NULL, memory_order_acq_rel);
    if (!chain) {
        return;
    }
    struct evl_loop *runs[POOL_BATCH_MAX];
    pthread_mutex_lock(&pool->lock);
    /* Submitting under the pool lock orders the hand-off against loop teardown. */
    size_t nruns = hand_off_chain(pool, chain, runs);
    pthread_mutex_unlock(&pool->lock);
    release_runs(runs, nruns);
}

/*
 * Runs the jobs of self's range (what a thief splits off meanwhile it runs). Finished jobs go
 * on the done stack and back to their loops together at the end of the range, one submit per
 * loop, or earlier: before a job of another loop (so a loop's results, and its close, never
 * wait for another loop's work), and by a watching worker when this one is stuck in a long
 * job (so they never wait for one while a worker is idle).
 */
static void run_range(struct evl_pool *pool, struct worker *self)
{
    struct evl__pool_job *job;
    struct evl__pstate *last_ps = NULL;
    while ((job = range_pop(self)) != NULL) {
        int expected = JOB_TAKEN;
        if (!atomic_compare_exchange_strong(&job->state, &expected, JOB_RUNNING)) {
            /* Canceled by loop teardown, which settled the promise and ended the in-flight
             * count: the work must not run. Teardown still holds the pool lock while it
             * reads the record it just canceled; the free waits for it. */
            pthread_mutex_lock(&pool->lock);
            pthread_mutex_unlock(&pool->lock);
            job_free(job);
            continue;
        }
        if (last_ps && job->ps != last_ps) {
            flush_done(pool, self);
        }
        void *value = NULL;
        evl_dtor_cb dtor = NULL;
        job->rc = job->work(job->arg, &value, &dtor);
        job->value = value;
        job->dtor = dtor;
        last_ps = job->ps;
        struct evl__pool_job *top = atomic_load_explicit(&self->done, memory_order_relaxed);
        do {
            job->next = top;
        } while (!atomic_compare_exchange_weak_explicit(
            &self->done, &top, job, memory_order_release, memory_order_relaxed));
    }
    flush_done(pool, self);
}

static void *worker_main(void *arg)
{
    struct worker *self = arg;
    struct evl_pool *pool = self->pool;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        take_incoming(pool);
        uint32_t taken;
        if (pool->head) {
            taken = take_batch(pool, self);
            wake_for_rest(pool, taken);
        } else {
            bool watch = false;
            struct evl__pool_job *stuck_done = NULL;
            taken = steal(pool, self, &watch, &stuck_done);
            if (stuck_done) {
                struct evl_loop *runs[POOL_BATCH_MAX];
                size_t nruns = hand_off_chain(pool, stuck_done, runs);
                pthread_mutex_unlock(&pool->lock);
                release_runs(runs, nruns);
                pthread_mutex_lock(&pool->lock);
            }
            if (taken == 0) {
                if (pool->stopping && !watch) {
                    break;
                }
                /* Announce idleness, then look once more: a submitter either sees idle > 0
                 * (and wakes someone) or pushed before this load (and the job is seen here). */
                atomic_fetch_add(&pool->idle, 1);
                pool->watchers += watch;
                if (!atomic_load(&pool->incoming)) {
                    idle_wait(pool, watch ? STEAL_AFTER_NS : 0);
                    atomic_store(&pool->wake_posted, false);
                }
                pool->watchers -= watch;
                atomic_fetch_sub(&pool->idle, 1);
                continue;
            }
            wake_for_rest(pool, taken);
        }
        pthread_mutex_unlock(&pool->lock);
        run_range(pool, self);
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
    pool->workers = evl_calloc(threads, sizeof(*pool->workers));
    if (!pool->workers) {
        goto fail_free_pool;
    }
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        goto fail_free_workers;
    }
    pthread_condattr_t monotonic;
    if (pthread_condattr_init(&monotonic) != 0) {
        goto fail_destroy_lock;
    }
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    int cond_rc = pthread_cond_init(&pool->cond, &monotonic);
    pthread_condattr_destroy(&monotonic);
    if (cond_rc != 0) {
        goto fail_destroy_lock;
    }
    if (pthread_cond_init(&pool->returned, NULL) != 0) {
        goto fail_destroy_cond;
    }
    atomic_init(&pool->refs, 1);
    /* Workers read nthreads (batch sizing, stealing) under the lock. */
    pthread_mutex_lock(&pool->lock);
    pool->nthreads = threads;
    for (unsigned i = 0; i < threads; i++) {
        struct worker *w = &pool->workers[i];
        w->pool = pool;
        atomic_init(&w->range, 0);
        atomic_init(&w->done, NULL);
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        if (err != 0) {
            pool->nthreads = i;
            pthread_mutex_unlock(&pool->lock);
            evl_pool_free(pool);
            return evl_err_from_errno(err); /* EAGAIN: out of threads or memory */
        }
    }
    pthread_mutex_unlock(&pool->lock);
    *out = pool;
    return 0;

fail_destroy_cond:
    pthread_cond_destroy(&pool->cond);
fail_destroy_lock:
    pthread_mutex_destroy(&pool->lock);
fail_free_workers:
    evl_free(pool->workers);
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
        if (pthread_equal(pool->workers[i].thread, self)) {
            return EVL_EPERM;
        }
    }
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    /* Close the incoming stack (later submits fail with EVL_ECLOSED) in the same atomic step
     * that takes what is on it, so a push racing the close is either taken here or refused;
     * what is taken is queued and finished like the rest. */
    queue_chain(pool, atomic_exchange(&pool->incoming, INCOMING_CLOSED));
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++) {
        pthread_join(pool->workers[i].thread, NULL);
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

/* Pool lock held: unlinks a QUEUED job from the pool's FIFO. */
static void unqueue(struct evl_pool *pool, struct evl__pool_job *job)
{
    struct evl__pool_job **pp = &pool->head;
    struct evl__pool_job *prev = NULL;
    while (*pp && *pp != job) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    EVL__ASSERT(*pp == job);
    if (!*pp) {
        return;
    }
    *pp = job->next;
    if (pool->tail == job) {
        pool->tail = prev;
    }
    atomic_store_explicit(&pool->queued, pool->queued - 1, memory_order_relaxed);
}

/*
 * Loop teardown of one job. Without wait, a job whose work is running is left for later (the
 * function returns false); with wait, it blocks until that work has returned, so the
 * argument the work uses is never released under it (the caller first cancels every job not
 * started, so it only waits for work already running).
 */
static bool teardown_job(struct evl__pstate *ps, struct evl__pool_job *job, bool wait)
{
    struct evl_pool *pool = job->pool;
    pthread_mutex_lock(&pool->lock);
    take_incoming(pool);
    int state = atomic_load(&job->state);
    if (state == JOB_QUEUED) {
        unqueue(pool, job); /* the work must never run */
    } else if (state == JOB_TAKEN) {
        /* In a worker's range: canceled if not started yet (the worker skips and frees it),
         * else it just started running. */
        int expected = JOB_TAKEN;
        state = atomic_compare_exchange_strong(&job->state, &expected, JOB_CANCELED) ? JOB_CANCELED
                                                                                     : JOB_RUNNING;
    }
    if (state == JOB_RUNNING) {
        if (!wait) {
            pthread_mutex_unlock(&pool->lock);
            return false;
        }
        pool->teardown_waiters++;
        while ((state = atomic_load(&job->state)) == JOB_RUNNING) {
            pthread_cond_wait(&pool->returned, &pool->lock);
        }
        pool->teardown_waiters--;
    }
    /* The submit queue closed before teardown, so a finished job can only be ORPHAN here:
     * everything the loop needs is taken under the lock, before a canceled job is let go
     * (its worker may free it at any moment). */
    EVL__ASSERT(state == JOB_QUEUED || state == JOB_CANCELED || state == JOB_ORPHAN);
    job_unlink(job);
    struct evl_promise *p = job->p;
    job->p = NULL;
    void *value = state == JOB_ORPHAN ? job->value : NULL;
    evl_dtor_cb dtor = state == JOB_ORPHAN ? job->dtor : NULL;
    pthread_mutex_unlock(&pool->lock);
    settle_job_promise(ps, p, EVL_ECANCELED, NULL, NULL);
    jobs_ended(ps, 1);
    if (state != JOB_CANCELED) {
        if (dtor) {
            dtor(ps->loop, value);
        }
        job_free(job);
    }
    return true;
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
    /* First every job not started (so that no worker starts one while teardown waits), then
     * the ones running, once their work has returned. */
    for (struct evl__pool_job *job = ps->jobs, *next; job; job = next) {
        next = job->lnext;
        teardown_job(ps, job, false);
    }
    while (ps->jobs) {
        teardown_job(ps, ps->jobs, true);
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

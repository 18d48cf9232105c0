/*
 * The pool: worker threads, the FIFO and the lock-free incoming stack, batches taken into a
 * worker's range, stealing from a stuck worker, and the hand-off of finished jobs to their
 * loops. Any thread; the job protocol shared with jobs.c is described in pool.h.
 *
 * Fairness: a batch is taken for speed when the queue is deep, but no job waits behind a
 * long one while another worker is idle. The jobs of a batch not yet started stay in the
 * taker's range. A worker that finds the queue empty watches the ranges instead of sleeping
 * for good, and splits one (it takes the later half) that has not moved for STEAL_AFTER_NS:
 * its owner is stuck in a long job. A worker that takes more than one job wakes an idle one
 * to watch when none does.
 */
#include "core/pool/pool.h"

#include "core/loop_state.h"
#include "evl/alloc.h"
#include "evl/errno.h"

#include <string.h>
#include <time.h>

/* The most jobs a worker takes at once. */
#define POOL_BATCH_MAX 64

/* How long a worker may start no job of its batch before an idle worker splits the batch. */
#define STEAL_AFTER_NS 50000u

/*
 * One worker's batch: jobs[next..end) are taken but not started. next (low half) and end
 * (high half) share one word, so the owner's take of its next job and another worker's split
 * of the rest are each one compare-and-swap. The array is written only under the pool lock
 * while the range is empty, and a split copies out under the pool lock, so the slots a thief
 * reads are never rewritten meanwhile.
 */
struct evl__pool_worker {
    _Atomic uint64_t range;
    /* Finished jobs not handed back yet, newest first: the owner pushes, and the owner or a
     * watcher (when the owner is stuck in a long job) takes them all with one exchange. */
    struct evl__pool_job *_Atomic done;
    struct evl_pool *pool;
    pthread_t thread;
    struct evl__pool_worker
        *watched; /* the worker this one watches for progress, and what it saw */
    uint64_t watched_range;
    struct evl__pool_job *watched_done;
    struct evl__pool_job *jobs[POOL_BATCH_MAX];
};

void evl__pool_unref(struct evl_pool *pool, uint32_t n)
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
void evl__pool_job_free(struct evl__pool_job *job)
{
    struct evl_pool *pool = job->pool;
    evl_free(job);
    evl__pool_unref(pool, 1);
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
void evl__pool_take_incoming(struct evl_pool *pool)
{
    struct evl__pool_job *in = atomic_load(&pool->incoming);
    do {
        if (!in || in == EVL__POOL_CLOSED) {
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
 * the loop's teardown, which may be waiting for it; one it cannot take for want of memory
 * goes as a note, which needs none. Returns the number of loops in runs.
 */
static size_t hand_off(struct evl_pool *pool, struct evl__pool_job *done, struct evl_loop **runs)
{
    size_t nruns = 0;
    bool orphaned = false;
    while (done) {
        struct evl__pool_loop *pl = done->pl;
        struct evl__pool_job *first = done;
        struct evl__pool_job *last = done;
        /* The run: the jobs of this loop up to the first job of another loop. Set DONE
         * first: once submitted, the loop thread may complete and free the jobs. */
        atomic_store_explicit(&last->state, EVL__JOB_DONE, memory_order_relaxed);
        while (last->next && last->next->pl == pl) {
            last = last->next;
            atomic_store_explicit(&last->state, EVL__JOB_DONE, memory_order_relaxed);
        }
        done = last->next;
        last->next = NULL;
        struct evl_loop *loop = pl->loop;
        evl__loop_mem_retain(loop);
        runs[nruns++] = loop;
        int rc =
            evl__loop_submit_internal(loop, evl__pool_jobs_complete, evl__pool_jobs_discard, first);
        if (rc != 0 && rc != EVL_ECLOSED) {
            /* Out of memory for the task: the run goes as a note embedded in its first job,
             * so the promises still settle and the loop is not kept waiting for them. */
            first->note.fn = evl__pool_jobs_complete_note;
            first->note.discard = evl__pool_jobs_discard_note;
            rc = evl__loop_post_note(loop, &first->note);
        }
        if (rc != 0) {
            for (struct evl__pool_job *job = first; job; job = job->next) {
                atomic_store_explicit(&job->state, EVL__JOB_ORPHAN, memory_order_relaxed);
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
static struct evl__pool_job *range_pop(struct evl__pool_worker *w)
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
static uint32_t steal(struct evl_pool *pool, struct evl__pool_worker *self, bool *watch,
                      struct evl__pool_job **stuck_done)
{
    *watch = false;
    *stuck_done = NULL;
    struct evl__pool_worker *victim = NULL;
    uint32_t most = 0;
    for (unsigned i = 0; i < pool->nthreads; i++) {
        struct evl__pool_worker *w = &pool->workers[i];
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
static uint32_t take_batch(struct evl_pool *pool, struct evl__pool_worker *self)
{
    /* A fair share of the queue, so the other workers get some too. */
    size_t want = pool->queued / pool->nthreads + 1;
    if (want > POOL_BATCH_MAX) {
        want = POOL_BATCH_MAX;
    }
    uint32_t n = 0;
    struct evl__pool_job *job = pool->head;
    while (n < want && job) {
        atomic_store_explicit(&job->state, EVL__JOB_TAKEN, memory_order_relaxed);
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
static void flush_done(struct evl_pool *pool, struct evl__pool_worker *self)
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
static void run_range(struct evl_pool *pool, struct evl__pool_worker *self)
{
    struct evl__pool_job *job;
    struct evl__pool_loop *last_pl = NULL;
    while ((job = range_pop(self)) != NULL) {
        int expected = EVL__JOB_TAKEN;
        if (!atomic_compare_exchange_strong(&job->state, &expected, EVL__JOB_RUNNING)) {
            /* Canceled by loop teardown, which settled the promise and ended the in-flight
             * count: the work must not run. Teardown still holds the pool lock while it
             * reads the record it just canceled; the free waits for it. */
            pthread_mutex_lock(&pool->lock);
            pthread_mutex_unlock(&pool->lock);
            evl__pool_job_free(job);
            continue;
        }
        if (last_pl && job->pl != last_pl) {
            flush_done(pool, self);
        }
        void *value = NULL;
        evl_dtor_cb dtor = NULL;
        job->rc = job->work(job->arg, &value, &dtor);
        job->value = value;
        job->dtor = dtor;
        last_pl = job->pl;
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
    struct evl__pool_worker *self = arg;
    struct evl_pool *pool = self->pool;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        evl__pool_take_incoming(pool);
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
        struct evl__pool_worker *w = &pool->workers[i];
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
    queue_chain(pool, atomic_exchange(&pool->incoming, EVL__POOL_CLOSED));
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++) {
        pthread_join(pool->workers[i].thread, NULL);
    }
    evl__pool_unref(pool, 1);
    return 0;
}

unsigned evl_pool_threads(const struct evl_pool *pool)
{
    return pool ? pool->nthreads : 0;
}

/* Pushes the newest-first chain first..last onto the pool's incoming stack with one
 * compare-and-swap, then wakes a worker if one is idle and no wake-up is on its way.
 * Returns false (nothing pushed) when the pool is closed. */
bool evl__pool_push(struct evl_pool *pool, struct evl__pool_job *first, struct evl__pool_job *last)
{
    struct evl__pool_job *top = atomic_load_explicit(&pool->incoming, memory_order_relaxed);
    do {
        if (top == EVL__POOL_CLOSED) {
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

/* Pool lock held: unlinks a QUEUED job from the pool's FIFO. */
void evl__pool_unqueue(struct evl_pool *pool, struct evl__pool_job *job)
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

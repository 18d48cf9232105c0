/*
 * The worker pool's private header (src/core/pool/): the pool, its job records, and the
 * per-loop state a loop keeps for its pool jobs. The pool settles promises (it depends on
 * promise/), never the other way round.
 *
 *   pool.c   the pool: worker threads, the FIFO and the incoming stack, batches, stealing,
 *            and the hand-off of finished jobs to their loops (any thread)
 *   jobs.c   a loop's side: the per-loop state and its teardown hook, submission, batching
 *            of a callback's submits, completion (loop thread)
 *
 * Pool job life: submit (loop thread) links the job on the loop's job list and counts it
 * among the loop's pool jobs (the loop is in flight while there are any; the count is the
 * loop thread's own). Inside a callback the job is collected with the loop's other new jobs
 * and the batch is pushed onto the pool's lock-free incoming stack when the callback ends (a
 * microtask) or once POOL_PUBLISH_MAX (jobs.c) are collected; outside callbacks it is pushed
 * at once. A worker moves the stack to the FIFO and takes a batch under one lock (TAKEN) into
 * its own range, runs the jobs one by one (TAKEN -> RUNNING by compare-and-swap, the only
 * change made without the lock) and, under the pool lock again, hands each loop's finished
 * jobs to it with one evl_loop_submit (DONE), pinning the loop's memory until that call
 * returned. Loop teardown takes the pool lock too, so for every job exactly one of these
 * holds:
 *   collected teardown rejects it with EVL_ECANCELED; it never reached the pool;
 *   QUEUED    teardown removes it and rejects with EVL_ECANCELED; the work never runs;
 *   TAKEN     teardown marks it CANCELED and rejects; the worker skips and frees it;
 *   RUNNING   teardown waits until the work function has returned (the job is then ORPHAN):
 *             the argument belongs to the work until then, and the promise's reactions may
 *             free it (their argument destructors run when close drops them);
 *   ORPHAN    the completion submit was refused (loop closing): teardown destroys the result
 *             and rejects with EVL_ECANCELED;
 *             (a submit that fails for memory is not refused: the run then goes as a note,
 *             evl__loop_post_note, embedded in its first job, which needs no allocation);
 *   DONE      the completion task owns it (it runs, or its discard callback runs on close).
 *
 * Fairness among workers (batches, stealing) is described in pool.c.
 *
 * Costs are per batch where they can be: one compare-and-swap to hand over a loop's batch,
 * one lock to take many jobs, one submit (one loop wake-up at most) per finished run, at most
 * one outstanding worker wake-up (a woken worker wakes the next only if work is left), pool
 * references taken 64 at a time. Job records are recycled per loop, so steady-state
 * submission does not allocate.
 */
#ifndef EVL_CORE_POOL_POOL_H
#define EVL_CORE_POOL_POOL_H

#include "core/submit/submit.h"
#include "evl/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evl_loop;
struct evl_promise;
struct evl__pool_worker;

enum evl__job_state {
    EVL__JOB_QUEUED,
    EVL__JOB_TAKEN,
    EVL__JOB_RUNNING,
    EVL__JOB_DONE,
    EVL__JOB_ORPHAN,
    EVL__JOB_CANCELED
};

/* The incoming stack's value once evl_pool_free closed it. */
#define EVL__POOL_CLOSED ((struct evl__pool_job *)(uintptr_t)1)

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
    /* evl_pool_new's + one per live job + the credits loops hold (see jobs.c, take_ref). */
    _Atomic uint32_t refs;
    unsigned nthreads;
    struct evl__pool_worker *workers;
};

struct evl__pool_job {
    struct evl__pool_job *next;  /* pool queue, worker batch, completion run */
    struct evl__pool_job *lprev; /* loop's job list (loop thread) */
    struct evl__pool_job *lnext;
    struct evl_pool *pool; /* +1 */
    struct evl__pool_loop *pl;
    struct evl_promise *p;           /* +1; loop thread */
    struct evl_context_frame *frame; /* captured at submit (+1); loop thread */
    evl_work_cb work;
    void *arg;
    _Atomic int state; /* enum evl__job_state: pool lock, except TAKEN -> RUNNING */
    int rc;
    void *value;
    evl_dtor_cb dtor;
    struct evl__note note; /* the run's completion when a submit fails for memory */
};

/* A loop's pool state (loop thread only), created by its first pool submit. */
struct evl__pool_loop {
    struct evl_loop *loop;
    struct evl__pool_job *jobs;      /* this loop's pool jobs not yet completed */
    struct evl__pool_job *free_jobs; /* recycled job records */
    struct evl__pool_job *local;     /* submitted in this callback, not yet handed over */
    struct evl__pool_job *local_tail;
    struct evl_pool *local_pool;
    unsigned local_n;
    bool flush_queued;            /* the microtask that hands them over is queued */
    struct evl_pool *credit_pool; /* pool references held for future jobs */
    uint32_t credits;
    size_t pool_jobs; /* pool jobs submitted and not yet completed */
};

/* pool.c: drops n references; the last frees the pool's memory. Any thread. */
void evl__pool_unref(struct evl_pool *pool, uint32_t n);
/* pool.c: the record goes back to the allocator with its pool reference. Any thread. */
void evl__pool_job_free(struct evl__pool_job *job);
/* pool.c: pushes the newest-first chain first..last onto the incoming stack and wakes a
 * worker if needed. Returns false (nothing pushed) when the pool is closed. */
bool evl__pool_push(struct evl_pool *pool, struct evl__pool_job *first, struct evl__pool_job *last);
/* pool.c, pool lock held: moves the incoming stack to the FIFO. */
void evl__pool_take_incoming(struct evl_pool *pool);
/* pool.c, pool lock held: unlinks a QUEUED job from the FIFO. */
void evl__pool_unqueue(struct evl_pool *pool, struct evl__pool_job *job);

/* jobs.c: the completion task of a run of one loop's finished jobs (linked by next) and its
 * discard callback (the loop closed before it ran). */
void evl__pool_jobs_complete(struct evl_loop *loop, void *arg);
/* Pool jobs submitted on this loop and not yet completed (metrics). Loop thread. */
size_t evl__pool_jobs_pending(const struct evl_loop *loop);
void evl__pool_jobs_discard(struct evl_loop *loop, void *arg);
/* The same two for a run that went as a note (arg: the first job's note). */
void evl__pool_jobs_complete_note(struct evl_loop *loop, void *arg);
void evl__pool_jobs_discard_note(struct evl_loop *loop, void *arg);

#endif

/*
 * A worker pool: blocking work runs on worker threads and its result settles a promise on
 * the loop thread. One pool can serve several loops. Pool work keeps its loop alive until
 * the promise is settled; evl_loop_shutdown waits for it; evl_loop_close rejects work that
 * has not started with EVL_ECANCELED and never runs it, and for work already running waits
 * until the work function has returned, then rejects its promise with EVL_ECANCELED and
 * destroys its result. A work function must therefore not wait for its own loop's thread.
 *
 * Fairness: no job waits in the queue, or behind a long job that a worker took in the same
 * batch, while another worker is idle.
 */
#ifndef EVL_POOL_H
#define EVL_POOL_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evl_pool;
struct evl_promise;

/*
 * The work, run on a worker thread. Return 0 to fulfil the promise with *value_out (with
 * destructor *dtor_out; both start NULL), or a negative code to reject it: with *value_out
 * as the reason if the work set one, else with an evl_error carrying that code. The
 * destructor runs on the loop thread, also when a close destroys the result.
 */
typedef int (*evl_work_cb)(void *arg, void **value_out, evl_dtor_cb *dtor_out);

/*
 * Starts a pool with threads workers (1..256; 0 = 4) (+1, freed with evl_pool_free).
 * Thread-safe. Errors: EVL_EINVAL, EVL_ERANGE, EVL_ENOMEM, a system code with
 * pthread_create's reason (usually EVL_ESYS(EAGAIN): out of threads; nothing is left running).
 */
EVL_API int evl_pool_new(struct evl_pool **out, unsigned threads);

/*
 * Stops accepting work, lets the workers finish every queued item (their results still
 * settle on their loops) and joins them. Not from a worker thread. Thread-safe otherwise.
 * Errors: EVL_EINVAL (NULL), EVL_EPERM (called from one of its workers).
 */
EVL_API int evl_pool_free(struct evl_pool *pool);

/*
 * Queues work(arg) on a worker; *out (+1) is settled on loop's thread with the outcome.
 * arg is borrowed: it must stay valid until the work function has returned (or was
 * cancelled). The promise settles, and a close drops its reactions, only after that, so
 * releasing arg from a reaction of the promise or from that reaction's argument destructor
 * is always safe, whatever the loop does meanwhile. Loop thread only (of loop).
 * Inside a callback the work is handed to the workers when the callback returns (or once 256
 * jobs are collected), so bursts are batched; outside any callback at once. If the pool is
 * freed before the hand-off, the promise is rejected with EVL_ECANCELED (work not run).
 * A call that fails queues nothing.
 * Errors: EVL_EINVAL, EVL_EPERM (wrong thread), EVL_ECLOSED (loop closing or pool freed),
 * EVL_ELIMIT (options.max_pool_jobs of the loop reached), EVL_ENOMEM.
 */
EVL_API int evl_pool_submit(struct evl_pool *pool, struct evl_loop *loop, evl_work_cb work,
                            void *arg, struct evl_promise **out);

/* Number of worker threads. Thread-safe. */
EVL_API unsigned evl_pool_threads(const struct evl_pool *pool);

#ifdef __cplusplus
}
#endif

#endif

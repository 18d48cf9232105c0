/*
 * Timers and immediates. Timeouts, intervals and immediates share one id space: ids are
 * uint64 from 1, never reused during the loop's life, at most 2^53-1 (so they are exact in
 * a JavaScript number); after that every new timer fails with EVL_ERANGE. Any clear works
 * on any id; clearing an unknown or already fired id is harmless and reports EVL_ENOENT.
 *
 * Delays are integer milliseconds measured on the loop's monotonic clock from the moment
 * of scheduling (a fresh clock read, never a cached tick). Internally deadlines are kept in
 * nanoseconds. Equal deadlines fire in scheduling order.
 */
#ifndef EVL_TIMER_H
#define EVL_TIMER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EVL_TIMER_ID_MAX    ((uint64_t)9007199254740991) /* 2^53 - 1 */
#define EVL_TIMER_DELAY_MAX ((uint64_t)1 << 42)          /* ~139 years in ms */

/* Called on the loop thread when a timer or immediate fires. */
typedef void (*evl_timer_cb)(struct evl_loop *loop, uint64_t id, void *arg);

/*
 * Schedules cb after delay_ms, then (repeat_ms > 0) every repeat_ms measured from the start
 * of each run. Thread-safe: from the loop thread it acts at once; from another thread it is
 * queued to the loop and the id is valid at once. id_out may be NULL.
 * Errors: EVL_EINVAL (NULL loop or cb), EVL_ERANGE (delay > EVL_TIMER_DELAY_MAX or ids
 * exhausted), EVL_ECLOSED, EVL_ELIMIT (options.max_timers live timers, counting the sets
 * from other threads not yet applied; checked at call time on every thread), EVL_ENOMEM.
 */
EVL_API int evl_timer_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                          uint64_t repeat_ms, uint64_t *id_out);

/*
 * Cancels a timer, interval or immediate. Thread-safe: from another thread the clear is
 * queued and a callback not yet started when the loop processes it never runs. Clearing
 * an interval from its own callback stops further runs.
 * Errors: EVL_EINVAL, EVL_ENOENT (unknown, fired or already cleared id; from another thread
 * EVL_ENOENT cannot be known and 0 is returned), EVL_ECLOSED.
 */
EVL_API int evl_timer_clear(struct evl_loop *loop, uint64_t id);

/* Restarts a pending timer's countdown from now with its original delay (Node's refresh).
 * Loop thread only. Errors: EVL_EINVAL, EVL_ENOENT, EVL_EPERM. */
EVL_API int evl_timer_refresh(struct evl_loop *loop, uint64_t id);

/* Whether a pending timer or immediate keeps the loop alive (default: it does).
 * Loop thread only. Errors: EVL_EINVAL, EVL_ENOENT, EVL_EPERM. */
EVL_API int evl_timer_ref(struct evl_loop *loop, uint64_t id);
EVL_API int evl_timer_unref(struct evl_loop *loop, uint64_t id);
/* 1 if ref'd, 0 if unref'd, EVL_ENOENT if not pending. Loop thread only. */
EVL_API int evl_timer_has_ref(const struct evl_loop *loop, uint64_t id);

/*
 * Schedules cb for the check phase (after I/O polling). Immediates added during the check
 * phase run in the next iteration. Same id space as timers; cleared with evl_timer_clear or
 * evl_immediate_clear. Thread-safe like evl_timer_set. Errors as evl_timer_set
 * (EVL_ELIMIT: options.max_immediates pending immediates).
 */
EVL_API int evl_immediate_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t *id_out);

/* Same as evl_timer_clear (one id space); provided for symmetry. Thread-safe. */
EVL_API int evl_immediate_clear(struct evl_loop *loop, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif

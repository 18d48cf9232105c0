/*
 * Overload controls (docs/overload.md): what a loop refused and why, and named producer
 * groups with a token bucket each. The queue bound, the loop-wide rate, the batch budgets
 * and the sandbox limits are loop options (loop.h); evl_loop_submit_wait is in task.h.
 */
#ifndef EVL_OVERLOAD_H
#define EVL_OVERLOAD_H

#include "common.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Counters of one loop, each only ever growing (except the two queue gauges). */
struct evl_overload_stats {
    uint64_t refused_full;      /* EVL_EAGAIN/EVL_ETIMEDOUT: the queue bound was reached */
    uint64_t refused_rate;      /* EVL_EAGAIN: the loop-wide token bucket was empty */
    uint64_t refused_closed;    /* EVL_ECLOSED from a gated loop (shutdown or close began) */
    uint64_t waits;             /* evl_loop_submit_wait calls that had to wait */
    uint64_t wait_timeouts;     /* ... and of them, those that timed out */
    uint64_t discarded;         /* tasks dropped by close or an expired shutdown deadline */
    uint64_t limit_timers;      /* EVL_ELIMIT: options.max_timers */
    uint64_t limit_immediates;  /* EVL_ELIMIT: options.max_immediates */
    uint64_t limit_fds;         /* EVL_ELIMIT: options.max_fds */
    uint64_t limit_pool_jobs;   /* EVL_ELIMIT: options.max_pool_jobs */
    uint64_t checkpoint_caps;   /* checkpoints cut short by max_microtasks_per_checkpoint */
    uint64_t queued_slots;      /* gauge: task slots queued by other threads (bound on) */
    uint64_t queue_limit_slots; /* the bound in slots, 0 if none */
};

/* A snapshot of the loop's overload counters. Thread-safe (each counter read atomically).
 * Errors: EVL_EINVAL (NULL). */
EVL_API int evl_loop_overload_stats(const struct evl_loop *loop, struct evl_overload_stats *out);

/*
 * After a submission of the calling thread was refused with EVL_EAGAIN by a token bucket
 * (the loop's or a group's): the nanoseconds (loop clock) until the next token; 0 if the
 * last refusal was not a rate refusal (the queue bound: retry when the loop caught up, or
 * use evl_loop_submit_wait). Per thread; thread-safe.
 */
EVL_API uint64_t evl_loop_submit_retry_ns(void);

/* What a limit hook is told about. */
enum evl_limit_kind {
    EVL_LIMIT_TIMERS = 0,     /* options.max_timers refused a timer (EVL_ELIMIT) */
    EVL_LIMIT_IMMEDIATES = 1, /* options.max_immediates refused an immediate */
    EVL_LIMIT_FDS = 2,        /* options.max_fds refused an fd registration */
    EVL_LIMIT_POOL_JOBS = 3,  /* options.max_pool_jobs refused a pool job */
    EVL_LIMIT_MICROTASKS = 4  /* options.max_microtasks_per_checkpoint cut a checkpoint short */
};

/* Called on the loop thread each time a sandbox limit is hit, after the refused call has
 * failed (or the capped checkpoint has yielded). It may stop or close the loop. */
typedef void (*evl_limit_cb)(struct evl_loop *loop, enum evl_limit_kind kind, void *ud);

/* Installs the limit hook (one per loop; NULL removes it). Loop thread only. */
EVL_API void evl_loop_set_limit_hook(struct evl_loop *loop, evl_limit_cb cb, void *ud);

/* Changes options.max_microtasks_per_checkpoint of a running loop (0: the default).
 * Loop thread only. Errors: EVL_EINVAL, EVL_EPERM (wrong thread). */
EVL_API int evl_loop_set_checkpoint_cap(struct evl_loop *loop, uint32_t n);

/* A named group of producers sharing one token bucket. */
struct evl_submit_group;

/*
 * Creates a group of loop (+1, freed with evl_submit_group_free before the loop is freed):
 * rate tokens per second (0 < rate <= 1e9), a bucket of burst tokens (0: a tenth of a
 * second's worth, at least 1), full at creation. name (copied, < 64 bytes) appears in the
 * warning logged on refusals. Thread-safe.
 * Errors: EVL_EINVAL (NULL, rate out of range, name too long), EVL_ENOMEM.
 */
EVL_API int evl_submit_group_new(struct evl_loop *loop, const char *name, double rate,
                                 uint32_t burst, struct evl_submit_group **out);

/* Frees a group (no submission through it may be in progress). Thread-safe. NULL: nothing. */
EVL_API void evl_submit_group_free(struct evl_submit_group *group);

/* The group's name (borrowed, lives as long as the group). Thread-safe. */
EVL_API const char *evl_submit_group_name(const struct evl_submit_group *group);

/*
 * As evl_loop_submit_ex on the group's loop, after taking a token of the group's bucket
 * (then of the loop's, if the loop has a rate). Refused with EVL_EAGAIN when a bucket is
 * empty (evl_loop_submit_retry_ns tells when the next token comes) or the queue bound is
 * reached; a refused call takes no token, never calls fn, and arg stays the caller's.
 * Thread-safe. Errors: EVL_EINVAL, EVL_EAGAIN, EVL_ECLOSED, EVL_ENOMEM.
 */
EVL_API int evl_submit_group_submit(struct evl_submit_group *group, evl_task_cb fn,
                                    evl_task_cb discard, void *arg);

/* The group's accepted and refused counts (either pointer may be NULL). Thread-safe.
 * Errors: EVL_EINVAL. */
EVL_API int evl_submit_group_stats(const struct evl_submit_group *group, uint64_t *accepted,
                                   uint64_t *refused);

#ifdef __cplusplus
}
#endif

#endif

/*
 * The timer subsystem's private header: timers and immediates of one loop (policy in
 * timer.c, over the containers timer_pool, timer_heap, timer_runs and id_table). The loop
 * owns a struct evl__timers by value and reaches it only through the functions and queries
 * below.
 */
#ifndef EVL_CORE_TIMER_TIMER_H
#define EVL_CORE_TIMER_TIMER_H

#include "container/id_table.h"
#include "container/timer_heap.h"
#include "container/timer_pool.h"
#include "container/timer_runs.h"

#include <stdatomic.h>
#include <stdint.h>

struct evl_loop;

/* Memory per pending timer with a full pool: a 48-byte record, an 8-byte heap slot and two
 * 4-byte id-table slots (the table has twice the pool's size). */
struct evl__timers {
    struct evl__timer_pool pool;
    struct evl__timer_heap heap; /* timers that did not fit their run */
    struct evl__id_table ids;
    const struct evl_allocator *alloc; /* the loop's allocator, or NULL (process-wide) */
    uint64_t id_next;                  /* the loop thread's block of ids: [id_next, id_end) */
    uint64_t id_end;
    uint64_t now_hint; /* the latest clock read on the loop thread (a base for heap keys) */
    struct evl__timer_runs runs;
    uint32_t imm_head; /* immediates, FIFO through pos */
    uint32_t imm_tail;
    uint32_t imm_count; /* pending (not cancelled) immediates, ref'd or not */
    uint32_t live;      /* pending timers and intervals (not cleared or fired) */
    uint32_t seq;
    uint32_t ref_count; /* pending ref'd timers and immediates */
    uint32_t nesting;   /* HTML nesting of the running timer callback; 0 outside */
    uint32_t wrapped;   /* nonzero once a timer was armed with a captured context */
    /* EVL__TPOL_*: what scheduling must do beyond the C default. Written on the loop thread,
     * read by evl_timer_set from any thread: relaxed atomic. */
    _Atomic uint32_t policy;
    uint64_t *tombstones; /* ids cleared on the loop before their foreign set arrived */
    uint32_t tomb_len;
    uint32_t tomb_cap;
    _Atomic uint32_t foreign_sets; /* cross-thread sets queued, not yet processed */
    /* Only under a sandbox limit: timers [0] and immediates [1] pending or queued from
     * another thread, reserved by whichever thread sets one, so a set over the limit fails
     * at call time on every thread. */
    _Atomic uint32_t held[2];
};

/* struct evl__timers.policy: the options' delay policy and the timer audit in one word, so
 * the scheduling path makes one test for all three in the C default. */
#define EVL__TPOL_NODE  1u /* EVL_TIMER_CLAMP_NODE */
#define EVL__TPOL_HTML  2u /* EVL_TIMER_CLAMP_HTML */
#define EVL__TPOL_AUDIT 4u /* new timers are audited (evl_log_timer_audit) */

/* The policy word (one relaxed load: any thread may set a timer). */
static inline uint32_t evl__timers_policy(const struct evl__timers *T)
{
    return atomic_load_explicit(&T->policy, memory_order_relaxed);
}

int evl__timers_init(struct evl_loop *loop);
/* Turns the audit of timers created from now on on or off. Loop thread. */
void evl__timers_set_audit(struct evl_loop *loop, int on);
/* The audit's records (timer.c), at the level the logger's audit switch holds. */
void evl__timers_audit(struct evl_loop *loop, const char *event, uint64_t id, uint64_t meta);
void evl__timers_deinit(struct evl_loop *loop);
/* Timer phase: runs every timer due at loop->now. */
void evl__timers_run(struct evl_loop *loop);
/* Check phase: runs the immediates queued before the phase began. */
void evl__immediates_run(struct evl_loop *loop);
/* Cancels every pending timer and immediate (teardown). */
void evl__timers_cancel_all(struct evl_loop *loop);
/* Nanoseconds until the next timer deadline (0 if due), or -1 without timers. */
int64_t evl__timers_timeout(struct evl_loop *loop, uint64_t now);
/* Applies queued cross-thread timer operations; drop: frees them unapplied. */
void evl__timers_apply_ctl(struct evl_loop *loop, int drop);

/* The invariant walks of every container (0 if all hold, else the first failing walk's rule
 * number); the policy runs it at its mutation points in debug and sanitizer builds. */
int evl__timers_check(const struct evl__timers *T);

/* A deadline delay_ms after now (ns), saturating. */
static inline uint64_t evl__timers_deadline(uint64_t now, uint64_t delay_ms)
{
    uint64_t d = now + delay_ms * UINT64_C(1000000);
    return d < now ? UINT64_MAX : d;
}

/* Between the loop-thread policy (timer.c) and the cross-thread half (foreign.c). */
/* Queues a set made on another thread (id taken, limit reserved here). */
int evl__timers_set_foreign(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                            uint64_t period, uint64_t flags, uint64_t *id_out);
/* Queues a clear made on another thread. */
int evl__timers_clear_foreign(struct evl_loop *loop, uint64_t id);
/* The loop thread's clear of an id no record holds: EVL_ENOENT, or a tombstone when its set
 * may still be queued. */
int evl__timers_clear_unknown(struct evl_loop *loop, uint64_t id);
/* The loop thread's clear (any id). */
int evl__timers_clear_local(struct evl_loop *loop, uint64_t id);
/* Arms a queued set on the loop thread; its limit place is already reserved. */
int evl__timers_arm_queued(struct evl_loop *loop, uint64_t id, evl_timer_cb cb, void *arg,
                           uint64_t deadline, uint64_t period, uint64_t flags);
/* Reserves (0 or EVL_ELIMIT) and gives back a place under the sandbox limit of a set with
 * these record flags (EVL__TIMER_IMMEDIATE or not); no-ops without a limit. Thread-safe. */
int evl__timers_reserve(struct evl_loop *loop, uint64_t flags);
void evl__timers_unreserve(struct evl_loop *loop, uint64_t flags);

/* Nonzero if timers (not immediates) are pending. */
static inline int evl__timers_any(const struct evl__timers *T)
{
    return T->heap.len != 0 || evl__timer_runs_any(&T->runs);
}

/* Nonzero while ref'd timers or immediates are pending (they keep the loop alive). */
static inline int evl__timers_alive(const struct evl__timers *T)
{
    return T->ref_count > 0;
}

/* Nonzero if pending immediates would run in the next check phase. */
static inline int evl__immediates_pending(const struct evl__timers *T)
{
    return T->imm_count > 0;
}

/* Pending timers and intervals, and pending immediates (metrics' queue depths). */
static inline uint32_t evl__timers_live(const struct evl__timers *T)
{
    return T->live;
}
static inline uint32_t evl__immediates_count(const struct evl__timers *T)
{
    return T->imm_count;
}

/* Nonzero if the immediate list holds anything, cancelled entries included (the check phase
 * has work: running or freeing them). */
static inline int evl__immediates_queued(const struct evl__timers *T)
{
    return T->imm_head != EVL__TIMER_NONE;
}

#endif

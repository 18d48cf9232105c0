/*
 * The submit subsystem's private header: the queue other threads hand tasks to the loop
 * through (lanes, src/container/lanes.h), the loop thread's own list, cross-thread timer
 * messages, and the wake-up of a sleeping loop. Policy: submit.c (admission, the push paths),
 * run.c (the tasks phase, close), wake.c (the sleeping flag's protocol and the asymmetric
 * fence).
 */
#ifndef EVL_CORE_SUBMIT_SUBMIT_H
#define EVL_CORE_SUBMIT_SUBMIT_H

#include "base/compiler.h"
#include "container/lanes.h"
#include "evl/task.h"

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

struct evl_loop;

/* Lanes per loop: each producer thread is given one (round robin), so FIFO per producer. */
#define EVL__LANES 8

/* A two-slot task is {evl__task_ex_marker, discard} followed by {fn, arg}. */
void evl__task_ex_marker(struct evl_loop *loop, void *arg);

/* A chunk of the loop thread's private list is 4 KiB: a link, a fill count and 255 slots.
 * Chunks are recycled, so a steady stream of submissions allocates nothing. */
#define EVL__CHUNK_TASKS 255
struct evl__task_chunk {
    struct evl__task_chunk *next;
    uint32_t n; /* slots written */
    uint32_t unused;
    struct evl__lane_slot tasks[EVL__CHUNK_TASKS];
};

/* A chain of chunks read front to back by one thread (the loop). */
struct evl__task_list {
    struct evl__task_chunk *head;
    struct evl__task_chunk *tail;
    uint32_t pos; /* next slot to read in head */
};

static inline int evl__task_list_nonempty(const struct evl__task_list *l)
{
    return l->head && (l->pos < l->head->n || l->head->next);
}

/* A queued cross-thread timer operation (the first member of timer.c's message). */
struct evl__ctl {
    struct evl__ctl *next;
};

/* A library-internal completion queued without allocating: the record belongs to the poster
 * (embedded in what it completes), so it can be queued when memory is exhausted. fn runs
 * in the tasks phase like a submitted task; discard runs instead when the loop closes. */
struct evl__note {
    struct evl__note *next;
    evl_task_cb fn;
    evl_task_cb discard;
};

/* Padding is deliberate: producer and consumer fields sit on separate cache lines. */
struct evl__submitq { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    struct evl__lane lanes[EVL__LANES];
    /* Lock for the timer control FIFO and the chunk pool. */
    alignas(64) _Atomic int lock;
    int closed; /* admission closed (loop-thread path and control messages) */
    /* Cross-thread timer set/clear messages: a separate FIFO applied at the start of every
     * timer phase, so a clear that returned before the phase began always wins. */
    struct evl__ctl *ctl_head;
    struct evl__ctl *ctl_tail;
    /* Internal completions queued without allocating (evl__loop_post_note), FIFO. */
    struct evl__note *note_head;
    struct evl__note *note_tail;
    /* Chunks the loop finished, for any lane (a new producer thread reuses the chunks of one
     * that exited), oldest first: spliced in by the loop, taken by a producer needing one. */
    struct evl__lane_pool free;
    /* Lanes in use (bit i: lane i had a producer; never cleared), read by the loop as a hint
     * and seq_cst before sleeping. */
    alignas(64) _Atomic uint32_t used;
    _Atomic int ctl_pending;
    _Atomic int note_pending;
    /* Consumer side (loop thread only). */
    alignas(64) struct evl__task_list local; /* loop-thread submissions */
    struct evl__task_chunk *lspare;          /* consumed local chunks, reused by the loop thread */
    struct evl__lane_pool spare; /* finished lane chunks, spliced into free after a run */
    uint32_t rr;                 /* lane the next run starts with (round robin) */
};

/*
 * A lane's `closed` word. Any nonzero value sends a producer off the fast path into the full
 * one, which reads the bits:
 *   EVL__ADMIT_CLOSED    everything is refused (finalization);
 *   EVL__ADMIT_EXTERNAL  shutdown or close began: external submissions are refused; the
 *                        library's own completions (pool results, resolvers) still enter
 *                        until EVL__ADMIT_CLOSED, since the drain waits for them;
 *   EVL__ADMIT_GATED     a rate limit is configured: every external push takes a token
 *                        (overload.c) first. A bound alone does not gate: it is charged in
 *                        batches through the lane's credit (see submit.c).
 */
#define EVL__ADMIT_CLOSED   1
#define EVL__ADMIT_EXTERNAL 2
#define EVL__ADMIT_GATED    4

/*
 * The one scan of the lanes in use (loop thread; reads the producers' lines, never writes
 * them). count == 0: 1 as soon as a lane holds published tasks the loop has not taken, else
 * 0 (what was seen before is trusted: see evl__lanes_tail). count != 0: the number of such
 * slots over all lanes, each lane's tail read afresh.
 */
static inline uint32_t evl__submitq_scan(struct evl__submitq *q, int count)
{
    uint32_t n = 0;
    uint32_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if (!(used & 1)) {
            continue;
        }
        if (count) {
            n += evl__lanes_backlog(&q->lanes[i]);
        } else if (evl__lanes_nonempty(&q->lanes[i])) {
            return 1;
        }
    }
    return n;
}

/* Nonzero if tasks or timer messages are waiting; the lanes are read as a hint (loop thread;
 * use evl__submitq_pending_locked before sleeping). */
static inline int evl__submitq_has_work(struct evl__submitq *q)
{
    return evl__task_list_nonempty(&q->local) ||
           atomic_load_explicit(&q->ctl_pending, memory_order_relaxed) ||
           atomic_load_explicit(&q->note_pending, memory_order_relaxed) ||
           evl__submitq_scan(q, 0) != 0;
}

/* Tasks queued in the lanes (published, not yet taken); any thread (a snapshot). */
uint64_t evl__submitq_queued(struct evl_loop *loop);

/* Nonzero if cross-thread timer messages wait to be applied (one relaxed load: a hint the
 * timer phase reads at its start). */
static inline int evl__submitq_ctl_pending(struct evl__submitq *q)
{
    return atomic_load_explicit(&q->ctl_pending, memory_order_relaxed);
}

/* The lanes that ever had a producer (bit i: lane i), read as a hint. */
static inline uint32_t evl__submitq_lanes_used(struct evl__submitq *q)
{
    return atomic_load_explicit(&q->used, memory_order_relaxed);
}

/* Nonzero if lane li refuses producers (closed, or closed to other threads). seq_cst: a
 * waiting producer must see a close that happened before its wake-up. */
static inline int evl__submitq_lane_closed(struct evl__submitq *q, unsigned li)
{
    return (atomic_load_explicit(&q->lanes[li].closed, memory_order_seq_cst) &
            (EVL__ADMIT_CLOSED | EVL__ADMIT_EXTERNAL)) != 0;
}

/* Once per process, before the first loop's queue is used: sets up the asymmetric fence the
 * biased lanes rely on (lanes stay locked where it is unavailable). Thread-safe. */
void evl__submit_global_init(void);
/* Test support: nonzero if lanes can be biased (the asymmetric fence is available). */
int evl__submit_asym_available(void);
int evl__submitq_init(struct evl_loop *loop);
void evl__submitq_deinit(struct evl_loop *loop);
/* Submitted-tasks phase: runs tasks up to the batch bounds, each followed by a checkpoint. */
void evl__submitq_run(struct evl_loop *loop, int unbounded);
/* Nonzero if tasks or timer messages are waiting, seen as a loop about to sleep must see
 * them (wake.c: bias revocation, the fence or each lane's lock). Call after announcing the
 * sleep (sleeping = 1, seq_cst). */
int evl__submitq_pending_locked(struct evl_loop *loop);

/* Queues a timer control message (thread-safe; EVL_ECLOSED once admission closed) and
 * takes the whole queued list (loop thread; NULL if none). */
int evl__submitq_post_ctl(struct evl_loop *loop, struct evl__ctl *msg);
struct evl__ctl *evl__submitq_take_ctl(struct evl_loop *loop);
/* Takes the whole queued list of notes (loop thread; NULL if none). */
struct evl__note *evl__submitq_take_notes(struct evl__submitq *q);

/* Closes admission. With drop: takes every queued task and calls its discard callback
 * (each one counted in loop->discarded). Returns nonzero if tasks are still queued (only
 * without drop). Loop thread. */
int evl__submitq_close(struct evl_loop *loop, int drop);

/* Closes admission to external submissions at once (shutdown and close): every lane gets
 * EVL__ADMIT_EXTERNAL under its lock, then biased owners are waited out, so a submit that
 * returned 0 has published its task and any submit that starts afterwards is refused.
 * Thread-safe. */
void evl__submitq_close_external(struct evl_loop *loop);

/* Sets EVL__ADMIT_GATED on every lane (a rate limit: evl_loop_new only). */
void evl__submitq_gate(struct evl_loop *loop);

/* Submission for the library's own cross-thread completions (pool results, resolvers):
 * admitted until finalization even while shutting down (the drain waits for them), never
 * refused by a bound or rate (pool work is bounded where it is submitted). Thread-safe. */
int evl__loop_submit_internal(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                              void *arg);
/* The allocation-free fallback of evl__loop_submit_internal (the pool's hand-off when a
 * submit fails for memory): queues note, whose fn (or discard on close) is later called
 * with note as its argument. EVL_ECLOSED once admission closed for good; never
 * EVL_ENOMEM. Thread-safe. */
int evl__loop_post_note(struct evl_loop *loop, struct evl__note *note);

/* Wakes the loop if it is sleeping; at most one wake-up write per sleep. Thread-safe. Call
 * after making the condition the loop must see visible (seq_cst). */
void evl__loop_wake(struct evl_loop *loop);
/* The deduplicated write itself, for a caller that already saw the loop asleep. */
void evl__loop_wake_now(struct evl_loop *loop);

/* ---- shared by submit.c, run.c and wake.c
 * -------------------------------------------------------- */

#define EVL__LANE_SHARED ((uintptr_t)1) /* owner value of a lane two threads pushed to */

/* The heavy side of the asymmetric fence: every running thread of the process executes a
 * full memory barrier before this returns. */
void evl__submit_fence(void);
/* Nonzero once the asymmetric fence is known to work (lanes may be biased). */
int evl__submit_fence_ready(void);

static inline void evl__submit_lock(_Atomic int *lock)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire) != 0) {
        while (atomic_load_explicit(lock, memory_order_relaxed) != 0) {
            if (++spins > 64) {
                /* The holder may have been preempted (2 cores, many threads): yield. */
                sched_yield();
                spins = 0;
            } else {
                evl__cpu_relax();
            }
        }
    }
}

static inline void evl__submit_unlock(_Atomic int *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

/* Nonzero if the lane is biased to a thread (an owner pushes without the lock). */
static inline int evl__submit_lane_biased(const struct evl__lane *l)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_seq_cst);
    return o != 0 && o != EVL__LANE_SHARED;
}

/* Waits until the lane's owner is out of any push it began before the fence. */
static inline void evl__submit_wait_not_busy(struct evl__lane *l)
{
    unsigned spins = 0;
    while (atomic_load_explicit(&l->busy, memory_order_acquire)) {
        if (++spins > 64) {
            sched_yield(); /* the owner may have been preempted mid-push */
            spins = 0;
        }
    }
}

#endif

/*
 * The timer and submit-queue state that struct evl_loop (core/loop_state.h) embeds: task
 * storage, struct evl__timers and struct evl__submitq with their functions. Nothing here is
 * public API. Include core/loop_state.h, not this file.
 */
#ifndef EVL_CORE_LOOP_INTERNAL_H
#define EVL_CORE_LOOP_INTERNAL_H

#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/loop.h"
#include "evl/overload.h"
#include "evl/task.h"
#include "evl/timer.h"

#include "base/compiler.h"
#include "base/ring.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------
 * Task storage: struct evl__task (base/ring.h). A task submitted with a discard callback
 * takes two slots: {evl__task_ex_marker, discard} followed by {fn, arg}.
 */
void evl__task_ex_marker(struct evl_loop *loop, void *arg);

/* A chunk of the loop thread's private list is 4 KiB: a link, a fill count and 255 slots.
 * Chunks are recycled, so a steady stream of submissions allocates nothing. */
#define EVL__CHUNK_TASKS 255
struct evl__task_chunk {
    struct evl__task_chunk *next;
    uint32_t n; /* slots written */
    uint32_t unused;
    struct evl__task tasks[EVL__CHUNK_TASKS];
};

/* A chain of chunks read front to back by one thread (the loop). */
struct evl__task_list {
    struct evl__task_chunk *head;
    struct evl__task_chunk *tail;
    uint32_t pos; /* next slot to read in head */
};

/* ------------------------------------------------------------------------------------------
 * Timers (src/core/timer.c). A record is 48 bytes; the heap holds 8-byte slots (a 32-bit
 * coarse deadline key and a record index); the id table holds 4-byte indices at a load factor
 * of at most 1/2: 64 bytes per pending timer with a full pool.
 */
struct evl__timer {
    uint64_t deadline; /* ns on the loop clock */
    uint64_t id;
    evl_timer_cb cb;
    void *arg;
    uint64_t meta; /* period ms (bits 0-42) | nesting (43-55) | flags (56-63) */
    uint32_t seq;  /* FIFO order among equal deadlines (wrap-around compare) */
    uint32_t pos;  /* heap index, next index (lane/immediate/free lists), or EVL__POS_RUNNING */
};

/* A run: timers armed in (deadline, seq) order, linked through `pos` from head to tail. Its
 * front is always a live timer; cancelled ones behind it are skipped when they reach the
 * front (lazy deletion). The front's (deadline, seq) is kept here so that ordering the runs
 * reads no record. */
#define EVL__TIMER_RUNS 128
struct evl__timer_run {
    uint64_t front_deadline;
    uint64_t tail_deadline; /* an arming timer compares with it: no read of the tail record */
    uint32_t front_seq;
    uint32_t head;
    uint32_t tail;
    uint32_t len;       /* records linked, cancelled ones included */
    uint32_t cancelled; /* cancelled records still linked */
    uint32_t hpos;      /* index in run_heap while non-empty */
};

/* A heap slot: the deadline's coarse key (see key_of in timer.c) next to the record index,
 * so a sift compares slots without touching records unless two keys are equal. */
struct evl__heap_slot {
    uint32_t key;
    uint32_t idx;
};

struct evl__timers {
    struct evl__timer *recs;
    uint32_t rec_cap;
    uint32_t rec_used;           /* records [0, rec_used) were handed out at least once */
    uint32_t free_head;          /* freed records, linked through pos; EVL__NONE when empty */
    struct evl__heap_slot *heap; /* rec_cap slots, HEAP_PAD spare ones before (timer.c) */
    uint32_t heap_shift;         /* heap - heap_shift is the allocation */
    uint32_t heap_len;
    uint64_t id_next; /* the loop thread's block of ids: [id_next, id_end) */
    uint64_t id_end;
    uint64_t key_base; /* loop-clock ns that heap key 0 stands for */
    uint64_t now_hint; /* the latest clock read on the loop thread (a base for keys) */
    uint32_t *table;   /* id & table_mask -> record index + 1; 0 = empty slot */
    uint32_t table_mask;
    uint32_t *ovf; /* ids that collided in `table`: open addressing, same values */
    uint32_t ovf_mask;
    uint32_t ovf_shift; /* 64 - log2(overflow size): the hash keeps the product's top bits */
    uint32_t ovf_count;
    /* Runs: sorted lists of timers (see "runs" in timer.c), and a binary heap of the
     * non-empty ones ordered by their fronts. */
    struct evl__timer_run runs[EVL__TIMER_RUNS];
    uint8_t run_heap[EVL__TIMER_RUNS];
    uint32_t run_heap_len;
    uint32_t imm_head; /* immediates, FIFO through pos */
    uint32_t imm_tail;
    uint32_t imm_count; /* pending (not cancelled) immediates, ref'd or not */
    uint32_t live;      /* pending timers and intervals (not cleared or fired) */
    uint32_t seq;
    uint32_t ref_count;   /* pending ref'd timers and immediates */
    uint32_t nesting;     /* HTML nesting of the running timer callback; 0 outside */
    uint64_t *tombstones; /* ids cleared on the loop before their foreign set arrived */
    uint32_t tomb_len;
    uint32_t tomb_cap;
    _Atomic uint32_t foreign_sets; /* cross-thread sets queued, not yet processed */
};

int evl__timers_init(struct evl_loop *loop);
void evl__timers_deinit(struct evl_loop *loop);
/* Nonzero if timers (not immediates) are pending. */
static inline int evl__timers_any(const struct evl__timers *T)
{
    return T->heap_len != 0 || T->run_heap_len != 0;
}
/* Timer phase: runs every timer due at loop->now. */
void evl__timers_run(struct evl_loop *loop);
/* Check phase: runs the immediates queued before the phase began. */
void evl__immediates_run(struct evl_loop *loop);
/* Cancels every pending timer and immediate (teardown). */
void evl__timers_cancel_all(struct evl_loop *loop);
/* Nanoseconds until the next timer deadline (0 if due), or -1 without timers. */
int64_t evl__timers_timeout(struct evl_loop *loop, uint64_t now);

/* ------------------------------------------------------------------------------------------
 * Submission queue (src/core/submit.c). Each producer thread appends to its lane under that
 * lane's short spin lock (uncontended unless threads share a lane); the loop reads published
 * slots without the lock. The loop thread itself bypasses the lanes (local list).
 */
/* A queued cross-thread timer operation (the first member of timer.c's message). */
struct evl__ctl {
    struct evl__ctl *next;
};

/*
 * A lane: the submissions of the producer threads mapped to it (each thread always uses the
 * same lane, so FIFO per producer holds). Slots live in 4 KiB chunks of exactly 256 slots,
 * with no header: the chunks of a lane are found through a ring of pointers (dir), so a
 * queued task costs 16 bytes plus 8 bytes per 256 tasks. The lane's one producer writes
 * slots and publishes `tail` without a lock or any atomic read-modify-write (a lane is biased
 * to the first thread that uses it); when threads share a lane they take the lane's lock. The
 * loop reads `tail` (acquire), the directory and the slots without the lock.
 */
#define EVL__LANES      8
#define EVL__LANE_SHIFT 8
#define EVL__LANE_SLOTS (1u << EVL__LANE_SHIFT)
#define EVL__LANE_MASK  (EVL__LANE_SLOTS - 1)

union evl__lane_chunk {
    union evl__lane_chunk *next; /* while on a free list */
    struct evl__task tasks[EVL__LANE_SLOTS];
};

/* Chunk k of a lane is c[k & mask] while live. A producer replaces a full directory by one
 * twice as large (under the lane lock); the old one hangs off `retired` until the lane is
 * torn down (the loop may still be reading it; together the retired ones are smaller than
 * the live one). */
struct evl__lane_dir {
    uint32_t mask;
    struct evl__lane_dir *retired;
    union evl__lane_chunk *c[];
};

/* Padding is deliberate: producer and consumer fields sit on separate cache lines, 128 bytes
 * apart because cores prefetch lines in aligned pairs (a read of one steals its neighbour). */
#define EVL__PAIR 128
struct evl__lane { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    /* Producer side, written by the lane's owner or under the lock (see submit.c). */
    alignas(EVL__PAIR) _Atomic int lock;
    _Atomic int closed;            /* EVL__ADMIT_* bits; nonzero: not the fast path */
    _Atomic int busy;              /* the owner is inside a lock-free push */
    _Atomic(uintptr_t) owner;      /* thread the lane is biased to; 0 none, 1 shared */
    uint32_t ptail;                /* slots written (the producers' copy of tail) */
    uint32_t nk;                   /* chunks ever installed (chunk numbers 0 .. nk-1) */
    union evl__lane_chunk *pchunk; /* chunk being filled */
    union evl__lane_chunk *free;   /* a chunk set aside for this lane */
    /* Published by producers (release stores under the lock), read by the loop without it.
     * On their own line, so the loop's reads never take the lock's line from a producer. */
    alignas(EVL__PAIR) _Atomic uint32_t tail; /* slots published */
    _Atomic(struct evl__lane_dir *) dir;
    /* Consumer side (loop thread only, except hk, which producers read). */
    alignas(EVL__PAIR) uint32_t head; /* slots consumed */
    uint32_t seen;                    /* tail as last read (see evl__lane_tail) */
    _Atomic uint32_t hk;              /* chunk number of cur: live chunks are hk .. nk-1 */
    _Atomic uint32_t sleep_tail;      /* tail when the loop last prepared to sleep */
    union evl__lane_chunk *cur;       /* chunk holding slot head (NULL before the first) */
};

/* Padding is deliberate: producer and consumer fields sit on separate cache lines. */
struct evl__submitq { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    struct evl__lane lanes[EVL__LANES];
    /* Lock for the timer control FIFO, and the lanes in use (bit i: lane i had a producer;
     * never cleared), read by the loop as a hint and seq_cst before sleeping. */
    alignas(EVL__CACHELINE) _Atomic int lock;
    int closed; /* admission closed (loop-thread path and control messages) */
    /* Cross-thread timer set/clear messages: a separate FIFO applied at the start of every
     * timer phase, so a clear that returned before the phase began always wins. */
    struct evl__ctl *ctl_head;
    struct evl__ctl *ctl_tail;
    /* Chunks the loop finished, for any lane (a new producer thread reuses the chunks of one
     * that exited): spliced in by the loop, taken by a producer needing a chunk. */
    union evl__lane_chunk *free;
    union evl__lane_chunk *free_tail; /* FIFO: the longest-finished chunk is reused first */
    alignas(EVL__CACHELINE) _Atomic uint32_t used;
    _Atomic int ctl_pending;
    /* Consumer side (loop thread only). */
    alignas(EVL__CACHELINE) struct evl__task_list local; /* loop-thread submissions */
    struct evl__task_chunk *lspare; /* consumed local chunks, reused by the loop thread */
    union evl__lane_chunk *spare;   /* finished lane chunks, spliced into free after a run */
    union evl__lane_chunk *spare_tail;
    uint32_t rr; /* lane the next run starts with (round robin) */
};

/* The lane's published tail, as the loop last read it (loop thread). Every read of `tail`
 * after the producer wrote it moves its cache line (hundreds of ns on some machines, and a
 * stall for the producer), so the loop reads it only when what it saw is used up. */
static inline uint32_t evl__lane_tail(struct evl__lane *l)
{
    if (l->seen == l->head) {
        l->seen = atomic_load_explicit(&l->tail, memory_order_acquire);
    }
    return l->seen;
}

/* Nonzero if lane l holds published tasks the loop has not taken (loop thread; a hint). */
static inline int evl__lane_nonempty(struct evl__lane *l)
{
    return evl__lane_tail(l) != l->head;
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
/* Nonzero if tasks or timer messages are waiting, taking the lock (exact; before sleeping). */
int evl__submitq_pending_locked(struct evl_loop *loop);

static inline int evl__task_list_nonempty(const struct evl__task_list *l)
{
    return l->head && (l->pos < l->head->n || l->head->next);
}
/* Queues a timer control message (thread-safe; EVL_ECLOSED once admission closed) and
 * takes the whole queued list (loop thread; NULL if none). */
int evl__submitq_post_ctl(struct evl_loop *loop, struct evl__ctl *msg);
struct evl__ctl *evl__submitq_take_ctl(struct evl_loop *loop);
/* Applies queued cross-thread timer operations (timer.c); drop: free them unapplied. */
void evl__timers_apply_ctl(struct evl_loop *loop, int drop);

/* Closes admission. With drop: takes every queued task and calls its discard callback
 * (each one counted in loop->discarded). Returns nonzero if tasks are still queued (only
 * without drop). Loop thread. */
int evl__submitq_close(struct evl_loop *loop, int drop);

/*
 * A lane's `closed` word. Any nonzero value sends a producer off the fast paths into
 * submit(), which reads the bits:
 *   EVL__ADMIT_CLOSED    everything is refused (finalization);
 *   EVL__ADMIT_EXTERNAL  shutdown or close began: external submissions are refused; the
 *                        library's own completions (pool results, resolvers) still enter
 *                        until EVL__ADMIT_CLOSED, since the drain waits for them;
 *   EVL__ADMIT_GATED     a bound, rate limit or group is configured: every external push
 *                        is admitted by overload.c first (such lanes are never biased).
 */
#define EVL__ADMIT_CLOSED   1
#define EVL__ADMIT_EXTERNAL 2
#define EVL__ADMIT_GATED    4

/* Closes admission to external submissions at once (shutdown and close): every lane gets
 * EVL__ADMIT_EXTERNAL under its lock, then biased owners are waited out, so a submit that
 * returned 0 has published its task and any submit that starts afterwards is refused.
 * Thread-safe. */
void evl__submitq_close_external(struct evl_loop *loop);

/* Submission for the library's own cross-thread completions (pool results, resolvers):
 * admitted until finalization even while shutting down (the drain waits for them), never
 * bounded or rate limited (pool work is bounded where it is submitted). Thread-safe. */
int evl__loop_submit_internal(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                              void *arg);

#endif

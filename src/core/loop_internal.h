/*
 * The loop's internals, shared by src/core and src/backend. Nothing here is public API.
 *
 * Seams for the other parts of libevl (each documented below):
 *   1. I/O hooks        struct evl__io_hooks, evl__wakeup_fd, evl__loop_wakeup_drain,
 *                       evl__loop_after_sleep, evl__loop_checkpoint
 *   2. in-flight work   evl__loop_inflight_add / evl__loop_inflight_done
 *   3. teardown         evl__loop_at_teardown, evl__loop_closing
 *   4. checkpoint hooks evl__loop_add_checkpoint_hook
 *   5. allocation       evl__loop_malloc / evl__loop_free
 *   6. thread identity  evl__loop_on_thread
 *   plus deferred work for the pending and close phases (evl__loop_defer_pending/close).
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

#include "backend/wakeup.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define EVL__CACHELINE 64

struct evl__overload; /* src/core/overload.h */

/* Keeps a cold path (pool growth) out of the hot function that calls it once. */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__NOINLINE __attribute__((noinline))
#else
#define EVL__NOINLINE
#endif

/* Start fetching a cache line that is about to be read or written (hints; nothing
 * elsewhere). */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__PREFETCH_R(p) __builtin_prefetch((p), 0)
#define EVL__PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define EVL__PREFETCH_R(p) ((void)(p))
#define EVL__PREFETCH_W(p) ((void)(p))
#endif

/* An internal invariant: checked in debug and sanitizer builds (no NDEBUG), free otherwise. */
#define EVL__ASSERT(cond) assert(cond)

/* Inlines a helper that several callers share into the hot one (the timer arming path). */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EVL__ALWAYS_INLINE inline
#endif

/* ------------------------------------------------------------------------------------------
 * Task storage: 16 bytes per task. A task submitted with a discard callback takes two slots:
 * {evl__task_ex_marker, discard} followed by {fn, arg}.
 */
struct evl__task {
    evl_task_cb fn;
    void *arg;
};

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

/* A growable ring (power of two) for the loop-thread-only queues: nextTick, microtasks,
 * pending and close callbacks. */
struct evl__ring {
    struct evl__task *buf;
    uint32_t mask; /* capacity - 1, or 0 with buf == NULL */
    uint32_t head;
    uint32_t tail;
};

static inline uint32_t evl__ring_count(const struct evl__ring *r)
{
    return r->tail - r->head;
}

/* Grows a full (or unallocated) ring; the cold half of evl__ring_push. */
int evl__ring_grow(struct evl_loop *loop, struct evl__ring *r);

/* Appends a task. Inline because it is the whole cost of a microtask: the hot path is a
 * fullness test, two stores and an index bump; growth is out of line. */
static inline int evl__ring_push(struct evl_loop *loop, struct evl__ring *r, evl_task_cb fn,
                                 void *arg)
{
    /* An unallocated ring (buf == NULL, mask 0) takes the growth path too. */
    if (r->tail - r->head == r->mask + 1 || !r->buf) {
        int rc = evl__ring_grow(loop, r);
        if (rc != 0) {
            return rc;
        }
    }
    struct evl__task *slot = &r->buf[r->tail & r->mask];
    slot->fn = fn;
    slot->arg = arg;
    r->tail++;
    return 0;
}
void evl__ring_free(struct evl_loop *loop, struct evl__ring *r);

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

/* ------------------------------------------------------------------------------------------
 * Seam 1: I/O. The I/O backend fills io_hooks/io on the first fd registration. The loop calls
 * io_hooks->wait in the poll phase instead of its own wait on the wake-up fd.
 */
struct evl__io_hooks {
    /* Polls the fds AND the wake-up fd (evl__wakeup_fd) for up to timeout_ns (< 0: forever,
     * 0: do not block), dispatches fd callbacks (each followed by evl__loop_checkpoint).
     * Should call evl__loop_after_sleep(loop) right after the blocking syscall returns,
     * before dispatching; when the wake-up fd is readable it calls
     * evl__loop_wakeup_drain(loop). Returns the number of fd callbacks it ran (>= 0; the
     * loop's adaptive spin learns from it), or < 0 (EVL_E*) on error. */
    int (*wait)(struct evl_loop *loop, int64_t timeout_ns);
    /* Nonzero while ref'd fd registrations exist (keeps the loop alive). */
    int (*alive)(const struct evl_loop *loop);
    /* Releases the backend's state (loop thread, during teardown, after teardown hooks). */
    void (*teardown)(struct evl_loop *loop);
};

/* Creates the backend if needed and keeps the poll phase on it for good (a host polls its
 * fd); returns that fd, or EVL_ENOSYS when the backend has none (io.c). */
int evl__io_embed(struct evl_loop *loop);

/* Phase hooks (phase_hook.c): runs the hooks of one kind; whether any idle hook is
 * installed; teardown frees them. loop->phase_hooks is NULL until the first add. */
struct evl__phase_hooks;
void evl__phase_hooks_run(struct evl_loop *loop, enum evl_hook_kind kind);
int evl__phase_hooks_idle(const struct evl_loop *loop);

/* Internal checkpoint hooks (seam 4). */
#define EVL__MAX_CHECKPOINT_HOOKS 8
#define EVL__MAX_TEARDOWN_HOOKS   16

struct evl__hook {
    evl_checkpoint_cb cb;
    void *ud;
};

struct evl__teardown_hook {
    evl_task_cb fn;
    void *arg;
};

/* Batch budgets of the check and poll phases, and the sandbox limits (options; see
 * overload.c). Read-only after evl_loop_new except the counters. */
enum evl__limit_kind {
    EVL__LIMIT_TIMERS,
    EVL__LIMIT_IMMEDIATES,
    EVL__LIMIT_FDS,
    EVL__LIMIT_POOL_JOBS,
    EVL__LIMIT_MICROTASKS,
    EVL__LIMIT_KINDS
};
struct evl__budgets {
    uint32_t max_imm;    /* immediates per iteration (UINT32_MAX: no bound) */
    uint64_t max_imm_ns; /* ... and their time (UINT64_MAX: no bound) */
    uint32_t max_io;     /* fd callbacks per iteration */
    uint64_t max_io_ns;
    uint32_t limit[EVL__LIMIT_KINDS]; /* sandbox limits; 0: none */
    _Atomic uint64_t hits[EVL__LIMIT_KINDS];
    _Atomic uint64_t warn_next_ns[EVL__LIMIT_KINDS];
    _Atomic uint64_t warn_suppressed[EVL__LIMIT_KINDS];
    evl_limit_cb hook; /* evl_loop_set_limit_hook */
    void *hook_ud;
};

/* Counts and logs (rate-limited warn) a refusal by a sandbox limit; returns EVL_ELIMIT.
 * Thread-safe. */
int evl__loop_limit_hit(struct evl_loop *loop, enum evl__limit_kind kind);

/* Internal counters, read by tests. */
struct evl__loop_stats {
    uint64_t wake_writes; /* wake-up syscalls made by producers */
    uint64_t sleeps;      /* sleep episodes (blocking waits) */
    uint64_t iterations;
    uint64_t spins;        /* idle episodes that spun before sleeping */
    uint64_t spin_hits;    /* spins that found work (no sleep) */
    uint64_t io_spins;     /* ... of the spins, those that polled the fds */
    uint64_t io_spin_hits; /* ... of the hits, those that ran fd callbacks */
};

/* Padding is deliberate, as above. */
struct evl_loop { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    /* Fields written by other threads, each group on its own cache line. */
    struct evl__submitq q;
    alignas(EVL__CACHELINE) _Atomic int state; /* enum evl_loop_state */
    _Atomic int sleeping;                      /* 1 while the loop may block */
    _Atomic int wake_pending;                  /* a wake write happened this sleep */
    _Atomic uint64_t wake_ns; /* monotonic time of the last wake-up write (adaptive spin) */
    _Atomic int wake_cpu;     /* CPU the last waking producer ran on, or -1 */
    _Atomic int stop;         /* evl_loop_stop requested */
    _Atomic int closing;      /* termination drops instead of drains */
    alignas(EVL__CACHELINE) _Atomic uint64_t next_id; /* shared timer/immediate ids */
    _Atomic int64_t refs;                             /* evl_loop_ref count */
    _Atomic int64_t inflight;                         /* seam 2 */
    _Atomic int inflight_waking;                      /* threads inside evl__loop_inflight_done */
    _Atomic uint64_t wake_writes;
    _Atomic(uintptr_t) owner;  /* evl__thread_id() of the loop thread */
    _Atomic(uintptr_t) runner; /* thread inside evl_loop_run, or 0 */
    void *_Atomic data;

    /* Loop-thread fields. */
    alignas(EVL__CACHELINE) uint64_t now; /* clock read at the start of the current phase */
    uint32_t cb_depth;                    /* > 0 inside a callback */
    int in_checkpoint;
    int admission_closed; /* set at finalization: microtasks are refused */
    int tearing_down;
    uint64_t sleeps;
    uint64_t iterations;
    uint64_t spins;        /* spins before sleeping (adaptive or fixed) */
    uint64_t spin_hits;    /* ... that found work */
    uint32_t spin_est;     /* adaptive spin: average ns from going idle to the next task */
    uint32_t spin_skip;    /* adaptive spin: idle episodes left without spinning (back-off) */
    uint32_t spin_backoff; /* ... and the next back-off after a miss */
    uint64_t io_spins;     /* spins that polled the fds too */
    uint64_t io_spin_hits; /* ... that ran fd callbacks */
    uint32_t io_est;       /* I/O spin: average ns from going idle to fd callbacks */
    uint32_t io_skip;      /* I/O spin: idle episodes left without polling (back-off) */
    uint32_t io_backoff;   /* ... and the next back-off after a miss */
    uint64_t io_ready_ns;  /* monotonic time the last I/O wait began its callbacks (adaptive) */
    struct evl__ring ticks;
    struct evl__ring micro;
    struct evl__ring pending;
    struct evl__ring closeq;
    struct evl__timers timers;
    struct evl__hook user_hook;
    struct evl__hook hooks[EVL__MAX_CHECKPOINT_HOOKS];
    uint32_t nhooks;
    struct evl__teardown_hook teardown[EVL__MAX_TEARDOWN_HOOKS];
    uint32_t nteardown;

    /* Phase hooks (phase_hook.c), NULL until the first is added. */
    struct evl__phase_hooks *phase_hooks;
    /* Signal watchers (signal.c) and child watchers (child.c), NULL until first used. */
    struct sig_loop *signals;
    struct child_loop *children;

    /* Seam 1: set by the I/O backend. */
    const struct evl__io_hooks *io_hooks;
    void *io;

    /* Configuration (read-only after evl_loop_new). */
    struct evl_allocator alloc;
    int has_alloc;
    evl_clock_cb clock;
    void *clock_ud;
    enum evl_timer_clamp clamp;
    enum evl_backend_kind backend;
    uint32_t spin_ns;
    uint32_t max_tasks;
    uint64_t max_task_ns;
    uint32_t max_micro;
    evl_log_cb log;
    void *log_ud;
    int log_level;
    struct evl__wakeup wakeup;
    void *raw; /* the allocation holding this cache-line-aligned struct */

    /* The promise core's per-loop state (src/core/promise.c), created on first use. */
    void *promise_state;
    /* Called by close for every microtask it drops, so the owner of the task's argument can
     * release it (promise jobs hold references). NULL: dropped silently. */
    void (*micro_discard)(struct evl_loop *loop, evl_task_cb fn, void *arg);

    /* Overload controls (src/core/overload.c): NULL unless an option asks for one. */
    struct evl__overload *ovl;
    struct evl__budgets budgets;
    /* Shutdown deadline on the loop clock (0: none), set by evl_loop_shutdown_ex. */
    _Atomic uint64_t shutdown_deadline;
    /* Submitted tasks dropped by close or an expired shutdown deadline. */
    _Atomic uint64_t discarded;
    /* Observability (src/core/metrics): struct evl__obs *, bit 0 set while metrics record. */
    _Atomic uintptr_t obs;
};

/* Frees the observability state (src/core/metrics/obs.c); called by evl_loop_free. */
void evl__obs_free(struct evl_loop *loop);

/* CLOCK_MONOTONIC in ns, whatever options.clock is (spin accounting). Thread-safe. */
uint64_t evl__monotonic_ns(void);
/* The CPU the calling thread runs on, or -1 where unknown (cheap: vDSO/rseq). */
int evl__current_cpu(void);

/* The clock (fresh read). */
static inline uint64_t evl__loop_clock(const struct evl_loop *loop)
{
    return loop->clock(loop->clock_ud);
}

/* A pause for spin-wait loops: lets the sibling hyperthread run and saves power. */
static inline void evl__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Seam 6: cheap loop-thread check (a stored owner id compared with the caller's). On x86-64
 * Linux the thread pointer is pthread_self() itself (glibc and musl) and one instruction to
 * read, where pthread_self() is a call into libc on every timer set and clear. */
static inline uintptr_t evl__thread_id(void)
{
#if defined(__linux__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return (uintptr_t)__builtin_thread_pointer();
#else
    return (uintptr_t)pthread_self();
#endif
}

static inline int evl__loop_on_thread(const struct evl_loop *loop)
{
    return atomic_load_explicit(&loop->owner, memory_order_relaxed) == evl__thread_id();
}

/* Seam 5: allocation through options.allocator, or the process-wide allocator. */
void *evl__loop_malloc(const struct evl_loop *loop, size_t n);
void *evl__loop_realloc(const struct evl_loop *loop, void *p, size_t n);
void evl__loop_free(const struct evl_loop *loop, void *p);

/* Seam 1: the wake-up fd an I/O backend polls, and the drain it calls when that fd is
 * readable (reads the fd and re-arms deduplication). */
int evl__wakeup_fd(struct evl_loop *loop);
void evl__loop_wakeup_drain(struct evl_loop *loop);
/* Marks the loop awake after a blocking wait returned (idempotent). */
void evl__loop_after_sleep(struct evl_loop *loop);
/* Runs a checkpoint: nextTick queue, then microtasks, repeated until both are empty, then
 * the checkpoint hooks. Loop thread only; nested calls return at once. Call after each fd
 * callback. */
void evl__loop_checkpoint(struct evl_loop *loop);

/* Wakes the loop if it is sleeping; at most one wake-up write per sleep. Thread-safe. Call
 * after making the condition the loop must see visible (seq_cst). */
void evl__loop_wake(struct evl_loop *loop);
/* The deduplicated write itself, for a caller that already saw the loop asleep. */
void evl__loop_wake_now(struct evl_loop *loop);

/*
 * Seam 2: in-flight external work (pool jobs). add before the work starts; done AFTER the
 * completion task was submitted. While the count is nonzero the loop is alive, and a
 * shutting-down loop waits (asleep) for it to reach zero before tearing down. Thread-safe.
 */
void evl__loop_inflight_add(struct evl_loop *loop);
void evl__loop_inflight_done(struct evl_loop *loop);
/* Any thread: keeps the loop's memory from being freed (evl_loop_free waits) while a thread
 * that handed the loop work is still inside a call on it. Cheaper than an in-flight item
 * when the loop thread itself counts the items. */
void evl__loop_mem_retain(struct evl_loop *loop);
void evl__loop_mem_release(struct evl_loop *loop);

/*
 * Seam 3: teardown hooks, run on the loop thread once when the loop terminates, in reverse
 * registration order:
 *   - shutdown: after everything accepted was drained and in-flight work reached zero;
 *   - close: after admission closed and every queued task's discard callback ran (so discard
 *     callbacks still see live state), before timers and I/O are released;
 *   - evl_loop_free of a loop that never terminated: as for close.
 * During teardown hooks submit and microtasks are refused (EVL_ECLOSED). Returns 0 or
 * EVL_ELIMIT (more than EVL__MAX_TEARDOWN_HOOKS). Loop thread only.
 * evl__loop_closing() is 1 when the teardown drops work (close or free), 0 for a shutdown.
 */
int evl__loop_at_teardown(struct evl_loop *loop, evl_task_cb fn, void *arg);
int evl__loop_closing(const struct evl_loop *loop);

/*
 * Seam 4: internal end-of-checkpoint hooks, run (in registration order, then the public hook)
 * after both queues are empty; if a hook queues more work the checkpoint drains it and runs
 * the hooks again. Returns 0 or EVL_ELIMIT. Loop thread only.
 */
int evl__loop_add_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud);
void evl__loop_remove_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud);

/*
 * Deferred internal callbacks: pending (run in the pending phase of the next iteration) and
 * close (run in the close phase). Each is followed by a checkpoint; both keep the loop from
 * blocking. Loop thread only. Returns 0, EVL_ENOMEM or EVL_ECLOSED.
 */
int evl__loop_defer_pending(struct evl_loop *loop, evl_task_cb fn, void *arg);
int evl__loop_defer_close(struct evl_loop *loop, evl_task_cb fn, void *arg);

/* Runs a user callback with the depth counter that refuses re-entrant run/free. */
static inline void evl__loop_call(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    loop->cb_depth++;
    fn(loop, arg);
    loop->cb_depth--;
}

/* Nonzero if the current phase must end early (stop, shutdown or close requested). */
static inline int evl__loop_interrupted(struct evl_loop *loop)
{
    return atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
           atomic_load_explicit(&loop->state, memory_order_relaxed) >= EVL_LOOP_TERMINATING;
}

/* Test support: internal counters. Thread-safe snapshot. */
void evl__loop_get_stats(struct evl_loop *loop, struct evl__loop_stats *out);

/* Microtask/nextTick work pending (loop thread). */
static inline int evl__loop_micro_pending(const struct evl_loop *loop)
{
    return evl__ring_count(&loop->ticks) != 0 || evl__ring_count(&loop->micro) != 0;
}

/* The checkpoint after a callback, inlined for the common case of nothing to do. */
static inline void evl__loop_after_callback(struct evl_loop *loop)
{
    if (loop->ticks.head != loop->ticks.tail || loop->micro.head != loop->micro.tail ||
        loop->nhooks != 0 || loop->user_hook.cb != NULL) {
        evl__loop_checkpoint(loop);
    }
}

/* Applies queued cross-thread timer messages if there are any (one relaxed load). */
static inline void evl__timers_poll_ctl(struct evl_loop *loop)
{
    if (atomic_load_explicit(&loop->q.ctl_pending, memory_order_relaxed)) {
        evl__timers_apply_ctl(loop, 0);
    }
}

/* Nonzero if tasks or timer messages are waiting; the shared queue is read as a hint (loop
 * thread; use evl__submitq_pending_locked before sleeping). */
static inline int evl__submitq_pending(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (evl__task_list_nonempty(&q->local) ||
        atomic_load_explicit(&q->ctl_pending, memory_order_relaxed)) {
        return 1;
    }
    uint32_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if ((used & 1) && evl__lane_nonempty(&q->lanes[i])) {
            return 1;
        }
    }
    return 0;
}

#endif

/*
 * struct evl_loop: the composition of the subsystems' state (by value, so no extra
 * indirection) and the loop's own fields, with the loop's services to the subsystems. Only
 * the loop (src/loop/) and the subsystems' .c files include this header; a subsystem's own
 * header forward-declares struct evl_loop instead.
 *
 * Members and the subsystems that own them (scripts/layers.txt [owners], checked by
 * scripts/check-layers.sh: outside its owner a member is only passed on by address):
 *   q                            submit queue        core/submit/submit.h
 *   timers                       timers, immediates  core/timer/timer.h
 *   cp                           checkpoint          core/checkpoint/checkpoint.h
 *   io                           I/O (fds, backend)  core/io/io.h
 *   phase_hooks                  phase hooks         core/hook/hook.h
 *   signals, children            signal and child watchers  core/signal/, core/child/
 *   promise_state, pool_state    promises, worker pool      core/promise/, core/pool/
 *   ovl, budgets                 overload controls   core/overload/overload.h
 *   obs                          observability       core/metrics/metrics_internal.h
 *   spin                         adaptive spin       src/loop/spin.h
 *   the rest                     the loop            src/loop/loop.c; the subsystems read
 *                                cb_depth, admission_closed, tearing_down and max_micro
 *                                through the evl__loop_* queries below
 *
 * The loop's services (below the struct): thread identity, the clock, wake-up and sleep,
 * in-flight work, teardown hooks, deferred pending/close callbacks, stats, and the inline
 * checkpoint after each callback.
 */
#ifndef EVL_CORE_LOOP_STATE_H
#define EVL_CORE_LOOP_STATE_H

#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/loop.h"
#include "evl/metrics.h"
#include "evl/overload.h"
#include "evl/task.h"
#include "evl/timer.h"

#include "alloc/alloc.h"
#include "backend/wakeup.h"
#include "base/clock.h"
#include "base/compiler.h"
#include "base/ring.h"
#include "core/checkpoint/checkpoint.h"
#include "core/hook/hook.h"
#include "core/io/io.h"
#include "core/submit/submit.h"
#include "core/timer/timer.h"
#include "core/overload/overload.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

/* The adaptive spin's state (src/loop/spin.c): averages of the idle gaps and back-offs, for
 * submitted tasks and for fds, and the counters tests read. */
struct evl__spin {
    uint64_t task_spins;   /* spins before sleeping that watched tasks only */
    uint64_t task_hits;    /* spins (either kind) that found tasks */
    uint32_t spin_est;     /* adaptive spin: average ns from going idle to the next task */
    uint32_t spin_skip;    /* adaptive spin: idle episodes left without spinning (back-off) */
    uint32_t spin_backoff; /* ... and the next back-off after a miss */
    uint64_t io_spins;     /* spins that polled the fds too */
    uint64_t io_spin_hits; /* ... that ran fd callbacks */
    uint32_t io_est;       /* I/O spin: average ns from going idle to fd callbacks */
    uint32_t io_skip;      /* I/O spin: idle episodes left without polling (back-off) */
    uint32_t io_backoff;   /* ... and the next back-off after a miss */
    uint32_t fast;         /* adaptive spins engaged: 1 tasks, 2 fds (the fast path) */
};

/* The metrics' countdowns (src/core/metrics/): callbacks of each kind (enum evl_metrics_kind)
 * until that kind's next timed one, and iterations until the next queue sample. They move
 * only while metrics record, and only on the loop thread, which arms them when it applies
 * an enable (until then they wrap, and only count). Counting down is the whole cost of a
 * recording point that times nothing: the metrics module turns what each countdown used
 * since it was armed into the exact totals (evl__metrics_fold). */
struct evl__mtick {
    uint32_t left[EVL_METRICS_KINDS];
    uint32_t iter_left;
};

/* Teardown hooks (evl__loop_at_teardown). */
#define EVL__MAX_TEARDOWN_HOOKS 16
struct evl__teardown {
    struct {
        evl_task_cb fn;
        void *arg;
    } hook[EVL__MAX_TEARDOWN_HOOKS];
    uint32_t n;
};

/* Internal counters, read by tests (evl__loop_get_stats). */
struct evl__loop_stats {
    uint64_t wake_writes; /* wake-up syscalls made by producers */
    uint64_t sleeps;      /* sleep episodes (blocking waits) */
    uint64_t iterations;
    uint64_t spins;        /* idle episodes that spun before sleeping */
    uint64_t spin_hits;    /* spins that found work (no sleep) */
    uint64_t io_spins;     /* ... of the spins, those that polled the fds */
    uint64_t io_spin_hits; /* ... of the hits, those that ran fd callbacks */
};

/* Padding is deliberate: fields written by other threads sit on cache lines of their own. */
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
    int admission_closed;                 /* set at finalization: microtasks are refused */
    int tearing_down;                     /* teardown hooks are running */
    int poll_err;       /* the last poll-phase wait failed with it: evl_loop_run returns it */
    int shutdown_begun; /* the loop thread started terminating */
    uint64_t sleeps;
    uint64_t iterations;
    struct evl__mtick mtick; /* metrics countdowns (core/metrics) */
    struct evl__spin spin;
    struct evl__checkpoint cp;
    struct evl__ring pending; /* deferred: evl__loop_defer_pending */
    struct evl__ring closeq;  /* deferred: evl__loop_defer_close */
    struct evl__timers timers;
    struct evl__teardown teardown;

    /* Phase hooks (phase_hook.c), NULL until the first is added. */
    struct evl__phase_hooks *phase_hooks;
    /* Signal watchers (signal.c) and child watchers (child.c), NULL until first used. */
    struct sig_loop *signals;
    struct child_loop *children;

    /* Seam 1: the I/O subsystem (io.c). */
    struct evl__io_state io;

    /* Configuration (read-only after evl_loop_new). */
    struct evl__alloc alloc;
    evl_clock_cb clock;
    void *clock_ud;
    enum evl_timer_clamp clamp;
    enum evl_backend_kind backend;
    uint32_t spin_ns;
    uint32_t max_tasks;
    uint64_t max_task_ns;
    uint32_t max_micro; /* microtasks per checkpoint (options; evl_loop_set_checkpoint_cap) */
    evl_log_cb log;
    void *log_ud;
    int log_level;
    struct evl__wakeup wakeup;
    void *raw; /* the allocation holding this cache-line-aligned struct */

    /* The promise core's per-loop state (src/core/promise/), created on first use. */
    void *promise_state;
    /* The worker pool's per-loop state (src/core/pool/), created by the first pool submit. */
    void *pool_state;
    /* Overload controls (src/core/overload.c): NULL unless an option asks for one. */
    struct evl__overload *ovl;
    struct evl__budgets budgets;
    /* Shutdown deadline on the loop clock (0: none), set by evl_loop_shutdown_ex. */
    _Atomic uint64_t shutdown_deadline;
    /* Submitted tasks dropped by close or an expired shutdown deadline. */
    _Atomic uint64_t discarded;
    /* Observability (src/core/metrics): struct evl__obs * with flags in its low bits
     * (EVL__OBS_*), so the recording points test one word. */
    _Atomic uintptr_t obs;
};

/* The flags in loop->obs's low bits (the block is aligned to EVL__OBS_ALIGN, obs.c), so a
 * recording point tests one word: */
#define EVL__OBS_METRICS ((uintptr_t)1)  /* metrics record */
#define EVL__OBS_IDLE    ((uintptr_t)2)  /* idle-time accounting is on (evl_metrics_idle_enable) */
#define EVL__OBS_CONTEXT ((uintptr_t)4)  /* a context is current or slots exist (core/context) */
#define EVL__OBS_AUDIT   ((uintptr_t)8)  /* the timer audit is on (evl_log_timer_audit) */
#define EVL__OBS_HOOKS   ((uintptr_t)16) /* observer hooks are installed (phase_hook.c) */
#define EVL__OBS_FLAGS   ((uintptr_t)31)
#define EVL__OBS_ALIGN   ((uintptr_t)32)
/* A callback leaves evl__loop_cb_enter's inline path only for these. */
#define EVL__OBS_CB_SLOW (EVL__OBS_METRICS | EVL__OBS_CONTEXT)

/* The flags of loop->obs (one relaxed load): a recording point tests the ones it serves. */
static inline unsigned evl__loop_obs_flags(const struct evl_loop *loop)
{
    return (unsigned)(atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_FLAGS);
}

/* The clock (fresh read). */
static inline uint64_t evl__loop_clock(const struct evl_loop *loop)
{
    return loop->clock(loop->clock_ud);
}

/* Cheap loop-thread check (a stored owner id compared with the caller's). */
static inline int evl__loop_on_thread(const struct evl_loop *loop)
{
    return atomic_load_explicit(&loop->owner, memory_order_relaxed) == evl__thread_id();
}

/* The wake-up fd an I/O backend polls, and the drain it calls when that fd is
 * readable (reads the fd and re-arms deduplication). */
int evl__wakeup_fd(struct evl_loop *loop);
void evl__loop_wakeup_drain(struct evl_loop *loop);
/* Marks the loop awake after a blocking wait returned (idempotent). Inline: every poll
 * phase calls it, and it is a load when the loop did not sleep. */
static inline void evl__loop_after_sleep(struct evl_loop *loop)
{
    if (atomic_load_explicit(&loop->sleeping, memory_order_relaxed)) {
        /* wake_pending stays set until the next sleep announcement: a producer that still
         * saw the old flag finds it taken and makes no second write for this sleep. */
        atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);
        int st = EVL_LOOP_SLEEPING;
        atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_RUNNING);
    }
}

/* Wakes the loop if it is sleeping; at most one wake-up write per sleep. Thread-safe. Call
 * after making the condition the loop must see visible (seq_cst). */
void evl__loop_wake(struct evl_loop *loop);
/* The deduplicated write itself, for a caller that already saw the loop asleep. */
void evl__loop_wake_now(struct evl_loop *loop);

/*
 * In-flight external work (pool jobs). add before the work starts; done AFTER the
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
 * Teardown hooks, run on the loop thread once when the loop terminates, in reverse
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
 * Deferred internal callbacks: pending (run in the pending phase of the next iteration) and
 * close (run in the close phase). Each is followed by a checkpoint; both keep the loop from
 * blocking. Loop thread only. Returns 0, EVL_ENOMEM or EVL_ECLOSED.
 */
int evl__loop_defer_pending(struct evl_loop *loop, evl_task_cb fn, void *arg);
int evl__loop_defer_close(struct evl_loop *loop, evl_task_cb fn, void *arg);

/* ---- the loop's own state, as the subsystems see it (they never read these fields) ---- */

/* Brackets a user callback with the depth counter that refuses re-entrant run/free; for
 * callbacks of another shape than evl_task_cb (evl__loop_call below). */
static inline void evl__loop_enter_callback(struct evl_loop *loop)
{
    loop->cb_depth++;
}
static inline void evl__loop_leave_callback(struct evl_loop *loop)
{
    loop->cb_depth--;
}

/* Runs a user callback with the depth counter that refuses re-entrant run/free. */
static inline void evl__loop_call(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    loop->cb_depth++;
    fn(loop, arg);
    loop->cb_depth--;
}

/* How many user callbacks are running, nested (0 outside any). */
static inline uint32_t evl__loop_cb_depth(const struct evl_loop *loop)
{
    return loop->cb_depth;
}

/* Nonzero inside a user callback. */
static inline int evl__loop_in_callback(const struct evl_loop *loop)
{
    return loop->cb_depth > 0;
}

/* Nonzero once finalization closed admission: new microtasks and work are refused. */
static inline int evl__loop_admission_closed(const struct evl_loop *loop)
{
    return loop->admission_closed;
}

/* Nonzero while the teardown hooks run (subsystems refuse new registrations). */
static inline int evl__loop_tearing_down(const struct evl_loop *loop)
{
    return loop->tearing_down;
}

/* The checkpoint's cap: microtasks one checkpoint may run before it reports a runaway. */
static inline uint32_t evl__loop_max_micro(const struct evl_loop *loop)
{
    return loop->max_micro;
}
static inline void evl__loop_set_max_micro(struct evl_loop *loop, uint32_t n)
{
    loop->max_micro = n;
}

/* The metrics module's halves of evl__loop_cb_enter/leave (src/core/metrics/metrics.c),
 * reached only for a callback that is timed (or arms its kind's countdown). kind: enum
 * evl_metrics_kind. */
uint64_t evl__metrics_cb_begin_slow(struct evl_loop *loop, unsigned kind);
void evl__metrics_cb_end_slow(struct evl_loop *loop, unsigned kind, uint64_t token);
/* A timer whose callback is being timed ran late_ns after its deadline (the loop delay). */
void evl__metrics_timer_sampled(struct evl_loop *loop, uint64_t id, uint64_t late_ns);

/* The bit of a callback token that says a context scope was entered (metrics tokens are a
 * clock reading shifted by one, far below it). */
#define EVL__CB_TOKEN_CONTEXT (UINT64_C(1) << 63)

/* The context module's halves of evl__loop_cb_enter/leave (src/core/context/context.c),
 * reached while metrics record or a context is current; they call the metrics halves. */
uint64_t evl__context_cb_begin_slow(struct evl_loop *loop, unsigned kind);
void evl__context_cb_end_slow(struct evl_loop *loop, unsigned kind, uint64_t token);

/* A timer audit record (log.c): event "create", "fire" or "clear" of timer id, written at
 * the audit's level while the audit is on (nothing otherwise). Loop thread. */
void evl__log_timer_audit(struct evl_loop *loop, const char *event, uint64_t id, uint64_t delay_ms,
                          uint64_t repeat_ms, uint32_t nesting);

/* Nonzero while metrics record (one relaxed load): a drain of many callbacks reads it once. */
static inline int evl__loop_metrics_recording(const struct evl_loop *loop)
{
    return (atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_METRICS) != 0;
}

/* Nonzero while metrics record or a context is current (one relaxed load): a callback then
 * goes through evl__loop_cb_enter's slow half. */
static inline int evl__loop_obs_slow(const struct evl_loop *loop)
{
    return (atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_CB_SLOW) != 0;
}

/* Nonzero while a context is current or embedder slots exist: a scheduler must capture. */
static inline int evl__loop_context_active(const struct evl_loop *loop)
{
    return (atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_CONTEXT) != 0;
}

/* Nonzero if a callback token carries a metrics sample (not only a context scope). */
static inline int evl__loop_cb_sampled(uint64_t token)
{
    return (token & ~EVL__CB_TOKEN_CONTEXT) != 0;
}

/*
 * The metrics recording point of a callback of a kind, once the caller saw metrics record:
 * the kind's countdown is decremented in place, and only the callback that takes it to
 * zero (one in sample_every) leaves the inline path, to be timed. Returns the token for
 * evl__loop_cb_leave: nonzero when the callback is timed.
 */
static inline uint64_t evl__loop_metrics_tick(struct evl_loop *loop, unsigned kind)
{
    if (__builtin_expect(--loop->mtick.left[kind] == 0, 0)) {
        return evl__metrics_cb_begin_slow(loop, kind);
    }
    return 0;
}

/* The metrics recording point alone: one load and one predictable branch while off. */
static inline uint64_t evl__loop_metrics_begin(struct evl_loop *loop, unsigned kind)
{
    if (__builtin_expect(
            (atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_METRICS) != 0, 0)) {
        return evl__loop_metrics_tick(loop, kind);
    }
    return 0;
}

/*
 * Brackets one user callback of a kind (enum evl_metrics_kind) with the depth counter, the
 * metrics recording point and the context: while metrics are off and no context is current
 * that is one load and one predictable branch of loop->obs; while only metrics record, the
 * countdown of evl__loop_metrics_tick. A callback that carries its own captured context
 * enters it inside this bracket (core/context/context_internal.h); one that does not runs
 * in the empty context. Pass the token enter returns to leave.
 */
static inline uint64_t evl__loop_cb_enter(struct evl_loop *loop, unsigned kind)
{
    loop->cb_depth++;
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_relaxed);
    if (__builtin_expect((v & EVL__OBS_CB_SLOW) != 0, 0)) {
        if (v & EVL__OBS_CONTEXT) {
            return evl__context_cb_begin_slow(loop, kind);
        }
        return evl__loop_metrics_tick(loop, kind);
    }
    return 0;
}

static inline void evl__loop_cb_leave(struct evl_loop *loop, unsigned kind, uint64_t token)
{
    loop->cb_depth--;
    if (__builtin_expect(token != 0, 0)) {
        evl__context_cb_end_slow(loop, kind, token);
    }
}

/* evl__loop_call for a callback of a kind that metrics count. */
static inline void evl__loop_call_kind(struct evl_loop *loop, unsigned kind, evl_task_cb fn,
                                       void *arg)
{
    uint64_t t = evl__loop_cb_enter(loop, kind);
    fn(loop, arg);
    evl__loop_cb_leave(loop, kind, t);
}

/* Nonzero if the current phase must end early (stop, shutdown or close requested). */
static inline int evl__loop_interrupted(struct evl_loop *loop)
{
    return atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
           atomic_load_explicit(&loop->state, memory_order_relaxed) >= EVL_LOOP_TERMINATING;
}

/* Test support: internal counters. Thread-safe snapshot. */
void evl__loop_get_stats(struct evl_loop *loop, struct evl__loop_stats *out);

/* nextTick callbacks or microtasks queued (loop thread). */
static inline int evl__loop_micro_pending(const struct evl_loop *loop)
{
    return evl__checkpoint_pending(&loop->cp);
}

/* The checkpoint after a callback, inlined for the common case of nothing to do. */
static inline void evl__loop_after_callback(struct evl_loop *loop)
{
    if (evl__checkpoint_due(&loop->cp)) {
        evl__loop_checkpoint(loop);
    }
}

/* ---- timer and submit queries that read their members (they move with those sections) ---- */

/* Applies queued cross-thread timer messages if there are any (one relaxed load). */
static inline void evl__timers_poll_ctl(struct evl_loop *loop)
{
    if (evl__submitq_ctl_pending(&loop->q)) {
        evl__timers_apply_ctl(loop, 0);
    }
}

/* Nonzero if tasks or timer messages are waiting; the shared queue is read as a hint (loop
 * thread; use evl__submitq_pending_locked before sleeping). */
static inline int evl__submitq_pending(struct evl_loop *loop)
{
    return evl__submitq_has_work(&loop->q);
}

#endif

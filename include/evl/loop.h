/*
 * The loop: lifecycle, options, running and stopping. One loop thread runs callbacks; any
 * thread may submit work (see task.h). The phases of one iteration are documented in
 * docs/design.md.
 */
#ifndef EVL_LOOP_H
#define EVL_LOOP_H

#include "alloc.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How evl_loop_run returns. */
enum evl_run_mode {
    EVL_RUN_DEFAULT = 0, /* until nothing ref'd is left, or evl_loop_stop() */
    EVL_RUN_ONCE = 1,    /* one iteration, blocking for work if none is ready */
    EVL_RUN_NOWAIT = 2   /* one iteration, never blocking */
};

/* Delay policy applied to timers (see timer.h). */
enum evl_timer_clamp {
    EVL_TIMER_CLAMP_NONE = 0, /* C default: the delay asked for, as is */
    EVL_TIMER_CLAMP_HTML = 1, /* nesting level > 5 => at least 4 ms, per timer chain */
    EVL_TIMER_CLAMP_NODE = 2  /* delay < 1 ms or > 2^31-1 ms => 1 ms */
};

/* Which I/O backend to use (see io.h). */
enum evl_backend_kind {
    EVL_BACKEND_DEFAULT = 0, /* the platform's best: epoll on Linux */
    EVL_BACKEND_EPOLL = 1,
    EVL_BACKEND_POLL = 2
};

/* Lifecycle states, see docs/design.md. */
enum evl_loop_state {
    EVL_LOOP_AWAKE = 0,
    EVL_LOOP_RUNNING = 1,
    EVL_LOOP_SLEEPING = 2,
    EVL_LOOP_TERMINATING = 3,
    EVL_LOOP_TERMINATED = 4
};

/* A monotonic clock in nanoseconds. Tests install a fake one and advance it by hand. */
typedef uint64_t (*evl_clock_cb)(void *ud);

/* A hook called at the end of every microtask checkpoint (see task.h). Loop thread. */
typedef void (*evl_checkpoint_cb)(struct evl_loop *loop, void *ud);

/* Structured log hook: level is one of EVL_LOG_* in log.h. */
typedef void (*evl_log_cb)(void *ud, int level, const char *component, const char *msg);

/*
 * options.spin_ns: how the loop spins, waiting for submitted work or fd readiness, before it
 * sleeps.
 *   0 (default): adaptive, like an adaptive mutex. The loop spins only while its recent idle
 *       periods ended quickly with a task from another thread (on average within 10 us of
 *       going idle, measured to the moment the producer submitted), for twice that average
 *       plus 2 us, never more than 20 us. Sleeps that end by a timeout, an fd or nothing
 *       count as long; a spin that finds nothing makes the loop skip the next 1, 2, 4 ... 64
 *       chances to spin; and it does not spin while the producer that last woke it runs on
 *       the loop's own CPU (it could not run meanwhile). So an idle loop, or one woken only
 *       by timers, I/O or an occasional task, never spins; a request/response client or a
 *       producer in a burst gets its answer without a wake-up system call and scheduler
 *       latency.
 *       When a producer is streaming (its backlog grows between two looks ~0.1-0.3 us
 *       apart), the loop also waits, at most 5 us, for a batch of about 1024 tasks before
 *       running them, rather than reading the producer's cache lines while they are being
 *       written; other runnable work (microtasks, immediates, pending or close callbacks)
 *       skips the wait.
 *       With fds registered, the same applies to readiness, learnt separately: while recent
 *       idle periods ended with fd callbacks within 40 us on average (measured to when the
 *       callbacks began, so the scheduler's wake-up latency counts), the loop polls its fds
 *       without blocking, watching for tasks too, for twice that average plus 2 us, never
 *       more than 50 us, and a poll that runs callbacks replaces the sleep. Sleeps that end
 *       by a timeout, a task or nothing count as long, and misses back off as above (that
 *       check of the producer's CPU does not apply: an fd's writer is unknown). So a loop
 *       woken by timers or by rare fd events never polls in a loop; a peer thread answering
 *       on a socket is picked up without a second wake-up. A task spin alone (fds not due)
 *       does not poll the fds: an fd event then waits at most that spin.
 *   EVL_SPIN_OFF: never spin, never wait for a batch.
 *   any other value: always spin that many ns (bounded by the next timer) before sleeping,
 *       polling the fds too if any are registered.
 */
#define EVL_SPIN_OFF UINT32_MAX

/*
 * Loop options. Always initialise with evl_loop_options_init(): the first field records the
 * struct's size so that later versions can add fields without breaking old callers.
 */
struct evl_metrics_options;

struct evl_loop_options {
    size_t size;                           /* sizeof(struct evl_loop_options) */
    const struct evl_allocator *allocator; /* NULL: the process-wide allocator */
    evl_clock_cb clock;                    /* NULL: CLOCK_MONOTONIC */
    void *clock_ud;
    enum evl_timer_clamp timer_clamp;       /* default EVL_TIMER_CLAMP_NONE */
    enum evl_backend_kind backend;          /* default EVL_BACKEND_DEFAULT */
    uint32_t spin_ns;                       /* spin before sleeping; see EVL_SPIN_OFF */
    uint32_t max_tasks_per_iteration;       /* submit batch bound; 0 = default (4096) */
    uint64_t max_task_ns_per_iteration;     /* submit batch time bound; 0 = default (2 ms) */
    uint32_t max_microtasks_per_checkpoint; /* hard cap; 0 = default (10,000,000) */
    uint64_t first_id;                      /* first timer/immediate id; 0 = 1 (tests only) */
    evl_log_cb log;                         /* NULL: stderr at warn and above */
    void *log_ud;
    int log_level; /* minimum level passed to log; default warn */

    /* Overload controls (docs/overload.md). */
    /* Bound on the tasks other threads have queued, in 16-byte slots (a task with a discard
     * callback takes two); past it their submits get EVL_EAGAIN. 0: unbounded. */
    uint32_t max_queued_tasks;
    uint64_t max_queued_bytes; /* the same bound in bytes (16 per slot); 0: unbounded */
    double submit_rate;        /* token bucket on other threads' submits, per s; 0: off */
    uint32_t submit_burst;     /* its size; 0: a tenth of a second's worth (at least 1) */
    /* Batch budgets of the check (immediates) and poll (fd callbacks) phases, as the two
     * task bounds above: at most this many callbacks and this much callback time per
     * iteration before the loop runs due timers again. 0: default (4096 / 2 ms for
     * immediates, 1024 / 2 ms for fd callbacks); UINT32_MAX / UINT64_MAX: no bound. */
    uint32_t max_immediates_per_iteration;
    uint64_t max_immediate_ns_per_iteration;
    uint32_t max_io_callbacks_per_iteration;
    uint64_t max_io_ns_per_iteration;
    /* Sandbox limits, 0: none. Past each, the call that would exceed it fails with
     * EVL_ELIMIT, counted (evl_loop_overload_stats) and logged (rate-limited warn). */
    uint32_t max_timers;     /* live timers (timeouts and intervals) */
    uint32_t max_immediates; /* pending immediates */
    uint32_t max_fds;        /* fd registrations */
    uint32_t max_pool_jobs;  /* pool jobs submitted and not yet completed */

    /* Metrics (include/evl/metrics.h): non-NULL enables them at creation with these options
     * (copied; borrowed for the call), as evl_metrics_enable would. NULL: off. */
    const struct evl_metrics_options *metrics;
};

/* Fills *options with defaults. Thread-safe. */
EVL_API void evl_loop_options_init(struct evl_loop_options *options);

/*
 * Creates a loop (+1, freed with evl_loop_free). options may be NULL for defaults. The
 * thread that first calls evl_loop_run becomes the loop thread.
 * Errors: EVL_EINVAL (NULL out, bad options size or value), EVL_ENOMEM, or a system code
 * (errno.h) when the wake-up channel (an eventfd, or a pipe) cannot be opened, e.g.
 * EVL_ESYS(EMFILE) when the process is out of file descriptors.
 */
EVL_API int evl_loop_new(struct evl_loop **out, const struct evl_loop_options *options);

/*
 * Frees a loop that is not running. Loop thread (or any thread once the loop is not running).
 * Errors: EVL_EBUSY (live work remains or the loop is running), EVL_ERECURSE (called from a
 * callback), EVL_EINVAL (NULL).
 */
EVL_API int evl_loop_free(struct evl_loop *loop);

/*
 * Runs the loop. Loop thread only (the first caller becomes the loop thread for good).
 * Returns 0, or 1 from ONCE/NOWAIT when ref'd work remains.
 * Errors: EVL_ERECURSE (from inside a callback), EVL_EBUSY (already running on another
 * thread), EVL_EPERM (the loop already ran on another thread), EVL_ECLOSED (terminated),
 * EVL_EINVAL, or a system code (errno.h) when the poll
 * phase's wait failed other than by a signal (epoll_wait/poll: EVL_ESYS(ENOMEM) ...; also
 * logged as the "poll_error" event): the run returns after the iteration, as after a stop,
 * and everything queued stays queued, so the caller may run again or close the loop.
 */
EVL_API int evl_loop_run(struct evl_loop *loop, enum evl_run_mode mode);

/* Asks evl_loop_run to return after the current callback and its checkpoint. Thread-safe.
 * Errors: EVL_EINVAL, EVL_ECLOSED. */
EVL_API int evl_loop_stop(struct evl_loop *loop);

/*
 * Graceful shutdown. At the call, admission closes for other threads: a submit from another
 * thread that starts after this call returns EVL_ECLOSED (including evl_loop_submit_wait
 * callers waiting for space), while every task accepted before it is kept. The loop thread
 * then drains, with checkpoints: every accepted task, the work that work queues on the loop
 * thread, pending and close callbacks, and the completions of in-flight pool work (waited
 * for asleep); timers and immediates do not run. Then admission closes for the loop thread
 * too, teardown runs, timers are cancelled and the loop ends TERMINATED. Conservation: a
 * submit that returned 0 runs exactly once. Without a deadline the drain lasts as long as
 * the accepted work does (work that keeps queuing work keeps it going: see
 * evl_loop_shutdown_ex). Thread-safe. On the loop thread of a loop that is not running it
 * drains right there; from a callback it returns at once (the drain follows that callback);
 * from another thread it returns as soon as admission is closed, and the drain happens in
 * the loop thread's evl_loop_run, which then returns 0.
 * Errors: EVL_EALREADY (already shutting down or closed), EVL_EINVAL.
 */
EVL_API int evl_loop_shutdown(struct evl_loop *loop);

/*
 * evl_loop_shutdown with a deadline: timeout_ns after the call (loop clock), whatever is
 * still queued is dropped as by evl_loop_close: each remaining task's discard callback runs
 * (FIFO), microtasks, nextTick and deferred callbacks are dropped (a job queued with a
 * discard callback, evl_queue_microtask_ex, has it called), pool work not started is rejected
 * with EVL_ECANCELED; the dropped tasks are counted (evl_loop_discarded). So the drain ends
 * within the deadline plus the callback running when it expires. timeout_ns 0: no deadline
 * (as evl_loop_shutdown). Thread-safe. Errors: EVL_EALREADY, EVL_EINVAL.
 */
EVL_API int evl_loop_shutdown_ex(struct evl_loop *loop, uint64_t timeout_ns);

/* The number of submitted tasks dropped (their discard callbacks run) by evl_loop_close,
 * evl_loop_free or an expired shutdown deadline; final once the loop is TERMINATED.
 * Thread-safe; 0 for NULL. */
EVL_API uint64_t evl_loop_discarded(const struct evl_loop *loop);

/*
 * Immediate close: admission closes for other threads at the call (as for shutdown); the loop
 * thread drops queued work (each task's discard callback runs so owners can free arguments;
 * counted by evl_loop_discarded; microtasks and nextTick callbacks are dropped, with the
 * discard callback of those queued with one), cancels timers, rejects not-started pool work with
 * EVL_ECANCELED and waits for pool work already running to return (pool.h). Thread-safe.
 * Errors: EVL_EALREADY, EVL_EINVAL.
 */
EVL_API int evl_loop_close(struct evl_loop *loop);

/* Nonzero while ref'd work remains (timers, immediates, fds, tasks, pool jobs, refs). Loop
 * thread only. */
EVL_API int evl_loop_alive(const struct evl_loop *loop);

/* The current lifecycle state (EVL_LOOP_TERMINATED for a NULL loop). Thread-safe. */
EVL_API enum evl_loop_state evl_loop_state(const struct evl_loop *loop);

/* The loop's clock in nanoseconds (fresh read; 0 for a NULL loop). Thread-safe. */
EVL_API uint64_t evl_loop_now_ns(const struct evl_loop *loop);

/* Nonzero when called on the loop's thread. Thread-safe, cheap. */
EVL_API int evl_loop_on_thread(const struct evl_loop *loop);

/* Keeps the loop alive by hand (like a ref'd handle): each ref needs an unref.
 * Thread-safe. Errors: EVL_EINVAL, EVL_ECLOSED (ref on a terminated loop). */
EVL_API int evl_loop_ref(struct evl_loop *loop);
EVL_API int evl_loop_unref(struct evl_loop *loop);

/* Installs the end-of-checkpoint hook (one per loop; NULL removes). Loop thread only. */
EVL_API void evl_loop_set_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud);

/* ---- Embedding in a host loop ----------------------------------------------------------------
 * An application that already has a loop (a GUI toolkit, another event library, a plain
 * poll()) drives evl from it without a thread or a periodic tick:
 *
 *     int fd = evl_loop_backend_fd(loop);
 *     for (;;) {
 *         int timeout = evl_loop_next_timeout_ms(loop);    // arms wake-ups; 0 if work is ready
 *         poll({fd, POLLIN} + the host's own fds, timeout);
 *         evl_loop_run(loop, EVL_RUN_NOWAIT);            // runs what is due, never blocks
 *     }
 *
 * The fd becomes readable when tasks are submitted from any thread (after the next-timeout
 * call armed the wake-up), when a registered fd is ready, and when a timer set from another
 * thread changes the deadline; timers on the loop thread, immediates and microtasks are
 * reported by the timeout instead (0 while any is runnable). An idle host is never woken.
 */

/*
 * The loop's pollable fd (borrowed: the loop owns and closes it). Creates the I/O backend on
 * first use; from then on the loop polls its fds through the backend even when none is
 * registered. Loop thread only (before the first evl_loop_run: the thread that created it).
 * Errors: EVL_EINVAL (NULL), EVL_EPERM (wrong thread), EVL_ECLOSED, EVL_ENOSYS (the backend
 * has no single pollable fd: EVL_BACKEND_POLL), EVL_ENOMEM, system errors of epoll_create1.
 */
EVL_API int evl_loop_backend_fd(struct evl_loop *loop);

/*
 * How long a host may block before calling evl_loop_run(loop, EVL_RUN_NOWAIT): 0 when work is
 * ready (immediates, microtasks, submitted tasks, due timers, pending callbacks, stop or
 * termination requested, an idle hook installed), the time to the next timer, or -1 when no
 * timer is pending (block until the backend fd or the host's own events). Call it right
 * before blocking: it arms the wake-up that makes the backend fd readable when another
 * thread submits work. Loop thread only; outside callbacks. A call that cannot answer (NULL
 * loop, wrong thread, inside a callback, terminated loop) returns 0, so the next
 * evl_loop_run reports the error instead of the host blocking forever.
 * _ms rounds up (a timer is never run early) and saturates at INT_MAX.
 */
EVL_API int64_t evl_loop_next_timeout_ns(struct evl_loop *loop);
EVL_API int evl_loop_next_timeout_ms(struct evl_loop *loop);

/* ---- Phase hooks --------------------------------------------------------------------------
 * Callbacks run once per iteration at a fixed point, for embedders that flush their own
 * queues (as libuv's prepare, check and idle handles):
 *   EVL_HOOK_IDLE     first in the iteration's I/O part; while any is installed the poll
 *                     phase does not block;
 *   EVL_HOOK_PREPARE  right before the poll phase (after timers and pending callbacks);
 *   EVL_HOOK_CHECK    right after the poll phase and the submitted tasks, before immediates.
 * Each call is followed by a microtask checkpoint, like every callback. Hooks do not keep
 * the loop alive (use evl_loop_ref). Hooks of one kind run in the order they were added; a
 * hook added during a run of its kind runs from the next iteration; one removed during it
 * does not run again.
 *
 * Lifecycle (observer) hooks see the loop's life without taking part in it:
 *   EVL_HOOK_ITERATION_START  first in every iteration (before leftover microtasks);
 *   EVL_HOOK_ITERATION_END    when the iteration is over: before the next one starts, before
 *                             the shutdown begins, or when evl_loop_run returns;
 *   EVL_HOOK_BEFORE_SLEEP     the poll phase is about to block (after any spin), with the
 *                             wait decided; EVL_HOOK_AFTER_WAKE follows when it returns;
 *   EVL_HOOK_SHUTDOWN_BEGIN   the loop thread starts terminating (evl_loop_shutdown[_ex],
 *                             evl_loop_close); runs even though the loop is stopping;
 *   EVL_HOOK_SHUTDOWN_END     the drain is over, before the teardown hooks release timers and
 *                             fds (the last point at which the loop's state can be read).
 * No microtask checkpoint follows an observer hook, and a stop or shutdown does not cut a
 * run of them short: they are for measuring and logging, not for work. A checkpoint there
 * would run promise jobs at points where Node runs none (JavaScript could observe an extra
 * turn between two immediates), and before a sleep it would queue work after the loop
 * decided how long to wait. Work an observer queues anyway runs at the next checkpoint; a
 * before-sleep hook that makes work runnable cancels the sleep. While no observer hook is
 * installed the loop pays nothing for them: the test shares the word the metrics' recording
 * points already read.
 */
enum evl_hook_kind {
    EVL_HOOK_PREPARE = 1,
    EVL_HOOK_CHECK = 2,
    EVL_HOOK_IDLE = 4,
    EVL_HOOK_ITERATION_START = 8,
    EVL_HOOK_ITERATION_END = 16,
    EVL_HOOK_BEFORE_SLEEP = 32,
    EVL_HOOK_AFTER_WAKE = 64,
    EVL_HOOK_SHUTDOWN_BEGIN = 128,
    EVL_HOOK_SHUTDOWN_END = 256
};

/* The lifecycle (observer) kinds. */
#define EVL_HOOKS_LIFECYCLE                                                      \
    (EVL_HOOK_ITERATION_START | EVL_HOOK_ITERATION_END | EVL_HOOK_BEFORE_SLEEP | \
     EVL_HOOK_AFTER_WAKE | EVL_HOOK_SHUTDOWN_BEGIN | EVL_HOOK_SHUTDOWN_END)

typedef void (*evl_hook_cb)(struct evl_loop *loop, enum evl_hook_kind kind, void *arg);

/*
 * Installs cb(arg) for each kind in kinds (a mask of evl_hook_kind). Loop thread only.
 * Errors: EVL_EINVAL (NULL, empty or unknown kinds), EVL_EPERM (wrong thread), EVL_ECLOSED,
 * EVL_EEXIST (cb and arg already installed for one of the kinds: nothing is added),
 * EVL_ENOMEM.
 */
EVL_API int evl_loop_add_hook(struct evl_loop *loop, unsigned kinds, evl_hook_cb cb, void *arg);

/* Removes cb(arg) from each kind in kinds. Loop thread only (callbacks included).
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT (not installed for any of the kinds). */
EVL_API int evl_loop_remove_hook(struct evl_loop *loop, unsigned kinds, evl_hook_cb cb, void *arg);

/* An opaque user pointer stored on the loop. Thread-safe (plain pointer store/load). */
EVL_API void evl_loop_set_data(struct evl_loop *loop, void *data);
EVL_API void *evl_loop_get_data(const struct evl_loop *loop);

#ifdef __cplusplus
}
#endif

#endif

/*
 * The loop: lifecycle, the phases of one iteration, stop/shutdown/close and liveness.
 * Kept in one file because the phases, the run loop and termination share the loop's state
 * machine and its liveness test, which must read as one sequence; the heuristics (spin.c) and
 * every subsystem's policy live elsewhere.
 *
 * One iteration (iterate(); docs/design.md has the diagram):
 *   leftovers (checkpoint) -> timers -> pending -> prepare -> poll (spin.c, then sleep) ->
 *   submitted tasks -> check (hooks, immediates) -> close callbacks
 * with a checkpoint after every callback.
 *
 * States: AWAKE -> RUNNING <-> SLEEPING -> TERMINATING -> TERMINATED. Every change is a
 * compare-and-swap except the final store of TERMINATED, which only the finalizing thread
 * makes. The "runner" word (CAS 0 -> thread id) decides who may run the loop: a second
 * thread gets EVL_EBUSY, a callback on the running thread gets EVL_ERECURSE.
 */
#include "core/context/context_internal.h"
#include "core/hook/hook_internal.h"
#include "core/loop_state.h"
#include "core/metrics/metrics_internal.h"
#include "loop/spin.h"

#include <limits.h>
#include <sched.h>
#include <string.h>

static uint64_t monotonic_clock(void *ud)
{
    (void)ud;
    return evl__monotonic_ns();
}

/* ---- allocation (seam 5): the loop's struct evl__alloc, for code holding only the loop ---- */

void *evl__loop_malloc(const struct evl_loop *loop, size_t n)
{
    return evl__alloc_malloc(&loop->alloc, n);
}

void *evl__loop_realloc(const struct evl_loop *loop, void *p, size_t n)
{
    return evl__alloc_realloc(&loop->alloc, p, n);
}

void evl__loop_free(const struct evl_loop *loop, void *p)
{
    evl__alloc_free(&loop->alloc, p);
}

/* ---- options, new, free ------------------------------------------------------------------- */

void evl_loop_options_init(struct evl_loop_options *options)
{
    if (!options) {
        return;
    }
    memset(options, 0, sizeof(*options));
    options->size = sizeof(*options);
    options->timer_clamp = EVL_TIMER_CLAMP_NONE;
    options->backend = EVL_BACKEND_DEFAULT;
    options->log_level = EVL_LOG_WARN;
}

static int options_copy(struct evl_loop_options *dst, const struct evl_loop_options *src)
{
    evl_loop_options_init(dst);
    if (!src) {
        return 0;
    }
    /* The shortest struct we accept ends after the allocator pointer. */
    if (src->size < offsetof(struct evl_loop_options, clock) || src->size > sizeof(*src)) {
        return EVL_EINVAL;
    }
    /* An older caller's shorter struct: take its prefix, keep defaults for the rest. */
    memcpy(dst, src, src->size);
    dst->size = sizeof(*dst);
    if ((unsigned)dst->timer_clamp > EVL_TIMER_CLAMP_NODE ||
        (unsigned)dst->backend > EVL_BACKEND_POLL || dst->first_id > EVL_TIMER_ID_MAX) {
        return EVL_EINVAL;
    }
    if (dst->allocator &&
        (!dst->allocator->malloc_fn || !dst->allocator->realloc_fn || !dst->allocator->free_fn)) {
        return EVL_EINVAL;
    }
    return 0;
}

int evl_loop_new(struct evl_loop **out, const struct evl_loop_options *options)
{
    return evl__loop_new_sys(out, options, NULL);
}

int evl__loop_new_sys(struct evl_loop **out, const struct evl_loop_options *options,
                      const struct evl__sys *sys)
{
    if (!out) {
        return EVL_EINVAL;
    }
    *out = NULL;
    struct evl_loop_options o;
    int rc = options_copy(&o, options);
    if (rc != 0) {
        return rc;
    }
    size_t align = alignof(struct evl_loop);
    size_t size = sizeof(struct evl_loop) + align;
    void *raw = o.allocator ? o.allocator->malloc_fn(o.allocator->ud, size) : evl_malloc(size);
    if (!raw) {
        return EVL_ENOMEM;
    }
    /* The struct keeps producer and consumer fields on separate cache lines: align it. */
    struct evl_loop *loop =
        (struct evl_loop *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    memset(loop, 0, sizeof(*loop));
    loop->raw = raw;
    evl__alloc_init(&loop->alloc, o.allocator);
    loop->clock = o.clock ? o.clock : monotonic_clock;
    loop->clock_ud = o.clock ? o.clock_ud : NULL;
    loop->clamp = o.timer_clamp;
    loop->backend = o.backend;
    loop->spin_ns = o.spin_ns;
    loop->max_tasks = o.max_tasks_per_iteration ? o.max_tasks_per_iteration : 4096;
    loop->max_task_ns = o.max_task_ns_per_iteration ? o.max_task_ns_per_iteration : 2000000;
    loop->max_micro = o.max_microtasks_per_checkpoint ? o.max_microtasks_per_checkpoint : 10000000;
    loop->log = o.log;
    loop->log_ud = o.log_ud;
    loop->log_level = o.log_level;
    atomic_init(&loop->state, EVL_LOOP_AWAKE);
    atomic_init(&loop->sleeping, 0);
    atomic_init(&loop->wake_pending, 0);
    atomic_init(&loop->wake_ns, 0);
    atomic_init(&loop->wake_cpu, -1);
    evl__spin_init(&loop->spin);
    atomic_init(&loop->stop, 0);
    atomic_init(&loop->closing, 0);
    atomic_init(&loop->next_id, o.first_id ? o.first_id : 1);
    atomic_init(&loop->refs, 0);
    atomic_init(&loop->inflight, 0);
    atomic_init(&loop->wake_writes, 0);
    atomic_init(&loop->owner, evl__thread_id());
    atomic_init(&loop->runner, 0);
    atomic_init(&loop->data, NULL);
    evl__submit_global_init();
    evl__submitq_init(loop);
    evl__timers_init(loop);
    rc = evl__wakeup_open(&loop->wakeup, sys ? sys : &evl__sys_default);
    if (rc != 0) {
        evl__loop_free(loop, raw);
        return rc;
    }
    evl__budgets_init(loop, &o);
    rc = evl__overload_init(loop, &o);
    if (rc != 0) {
        evl__wakeup_close(&loop->wakeup);
        evl__loop_free(loop, raw);
        return rc;
    }
    if (o.metrics) {
        rc = evl_metrics_enable(loop, o.metrics);
        if (rc != 0) {
            evl_loop_free(loop);
            return rc;
        }
    }
    *out = loop;
    return 0;
}

/* evl_loop_alive without the NULL check, inline for the run loop, which asks up to three
 * times an iteration. The long-lived reasons first, those a busy loop most often has leading
 * (ref'd timers or immediates, fds, then references and in-flight work), the queues last: a
 * loop kept alive by a timer or a registration answers in one or two loads. */
static inline int loop_alive(const struct evl_loop *loop)
{
    struct evl_loop *l = (struct evl_loop *)(uintptr_t)loop; /* pending() reads only */
    return evl__timers_alive(&loop->timers) || evl__io_alive(&loop->io) ||
           atomic_load_explicit(&loop->refs, memory_order_relaxed) > 0 ||
           atomic_load_explicit(&loop->inflight, memory_order_relaxed) > 0 ||
           evl__loop_micro_pending(loop) || evl__ring_nonempty(&loop->pending) ||
           evl__ring_nonempty(&loop->closeq) || evl__submitq_pending(l);
}

int evl_loop_alive(const struct evl_loop *loop)
{
    return loop ? loop_alive(loop) : 0;
}

/* The loop thread starts terminating (the first termination step): logged, and the
 * lifecycle hooks see the open iteration end and the shutdown begin. */
static void shutdown_begin(struct evl_loop *loop)
{
    loop->shutdown_begun = 1;
    uint64_t deadline = atomic_load_explicit(&loop->shutdown_deadline, memory_order_acquire);
    uint64_t now = deadline != 0 ? evl__loop_clock(loop) : 0;
    EVL_LOG_EVENT(loop, EVL_LOG_INFO, "loop", "shutdown_begin", NULL,
                  EVL_LF_STR("mode", atomic_load(&loop->closing) ? "close" : "drain"),
                  EVL_LF_DURATION("timeout", deadline > now ? deadline - now : 0),
                  EVL_LF_UINT("inflight", (uint64_t)atomic_load(&loop->inflight)));
    if (evl__loop_obs_flags(loop) & EVL__OBS_HOOKS) {
        evl__phase_hooks_iteration_close(loop);
        evl__phase_hooks_observe(loop, EVL_HOOK_SHUTDOWN_BEGIN);
    }
}

/* The drain is over (finalize, before the teardown hooks). */
static void shutdown_end(struct evl_loop *loop, int drop)
{
    if (evl__loop_obs_flags(loop) & EVL__OBS_HOOKS) {
        evl__phase_hooks_observe(loop, EVL_HOOK_SHUTDOWN_END);
    }
    EVL_LOG_EVENT(loop, EVL_LOG_INFO, "loop", "shutdown_end", NULL,
                  EVL_LF_STR("mode", drop ? "close" : "drain"),
                  EVL_LF_UINT("discarded", atomic_load(&loop->discarded)));
}

/* Terminates the loop on the calling (loop) thread. drop: close semantics. */
static void finalize(struct evl_loop *loop, int drop)
{
    if (drop) {
        atomic_store(&loop->closing, 1);
        loop->admission_closed = 1;
        evl__submitq_close(loop, 1); /* discard callbacks run, FIFO */
        evl__checkpoint_drop(loop, 1);
        evl__ring_clear(&loop->pending);
        evl__ring_clear(&loop->closeq);
    } else {
        loop->admission_closed = 1;
    }
    evl__timers_apply_ctl(loop, 1);
    if (loop->shutdown_begun) {
        shutdown_end(loop, drop);
    }
    loop->tearing_down = 1;
    for (uint32_t i = loop->teardown.n; i-- > 0;) {
        evl__loop_call(loop, loop->teardown.hook[i].fn, loop->teardown.hook[i].arg);
    }
    loop->teardown.n = 0;
    /* Hooks run with admission closed; anything they queued anyway is dropped. */
    evl__checkpoint_drop(loop, 0);
    evl__timers_cancel_all(loop);
    evl__io_finalize(loop, &loop->io);
    loop->tearing_down = 0;
    atomic_store_explicit(&loop->sleeping, 0, memory_order_seq_cst);
    atomic_store_explicit(&loop->state, EVL_LOOP_TERMINATED, memory_order_seq_cst);
}

int evl_loop_free(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (evl__loop_on_thread(loop) && loop->cb_depth > 0) {
        return EVL_ERECURSE;
    }
    if (atomic_load(&loop->runner) != 0) {
        return EVL_EBUSY;
    }
    if (atomic_load(&loop->inflight) > 0) {
        return EVL_EBUSY; /* pool threads still hold the loop */
    }
    while (atomic_load(&loop->inflight_waking) > 0) {
        sched_yield(); /* the last in-flight item is finishing its wake-up write */
    }
    if (atomic_load(&loop->state) != EVL_LOOP_TERMINATED) {
        if (!atomic_load(&loop->closing) && loop_alive(loop)) {
            return EVL_EBUSY;
        }
        finalize(loop, 1);
    }
    evl__submitq_deinit(loop);
    evl__overload_deinit(loop);
    evl__timers_deinit(loop);
    evl__checkpoint_deinit(loop);
    evl__ring_free(loop, &loop->pending);
    evl__ring_free(loop, &loop->closeq);
    evl__wakeup_close(&loop->wakeup);
    /* Last: what is freed above may still release context frames or log. */
    evl__obs_free(loop);
    struct evl__alloc a = loop->alloc;
    evl__alloc_free(&a, loop->raw);
    return 0;
}

/* ---- sleeping and waking ------------------------------------------------------------------- */

int evl__wakeup_fd(struct evl_loop *loop)
{
    return loop->wakeup.rfd;
}

const struct evl__sys *evl__loop_sys(const struct evl_loop *loop)
{
    return loop->wakeup.sys;
}

void evl__loop_wakeup_drain(struct evl_loop *loop)
{
    evl__loop_after_sleep(loop);
    evl__wakeup_drain(&loop->wakeup);
}

/* Why a wait returned (enum evl_metrics_wake), for the wake-up counters. */
static unsigned wake_cause(struct evl_loop *loop, int called, int64_t timeout_ns)
{
    if (called > 0) {
        return EVL_METRICS_WAKE_IO;
    }
    if (evl__submitq_pending(loop)) {
        return EVL_METRICS_WAKE_TASK;
    }
    if (timeout_ns > 0 && evl__timers_any(&loop->timers)) {
        return EVL_METRICS_WAKE_TIMER;
    }
    return EVL_METRICS_WAKE_OTHER;
}

/* A wait failed for a reason other than a signal: a retry could fail the same way at once,
 * so evl_loop_run returns err (as a stop would, from the poll phase) and its caller decides:
 * run again, or close. Nothing queued is touched. A drain (shutdown) is not interrupted by a
 * stop, so run_claimed reads the error there itself. */
static EVL__NOINLINE void poll_failed(struct evl_loop *loop, int err, int drain)
{
    loop->poll_err = err;
    if (!drain) {
        atomic_store_explicit(&loop->stop, 1, memory_order_seq_cst);
    }
}

/* Nonzero if a callback other than a submitted task or an fd's can run without waiting. */
static inline int runnable_now(const struct evl_loop *loop);

/* The observed half of a wait's start: the before-sleep hooks when the wait may block (work
 * they made runnable cancels the sleep; *hooked tells the end to run the after-wake hooks),
 * then the metrics' idle start, publishing first before a wait that may last. Returns the
 * metrics state, or NULL. */
EVL__NOINLINE static struct evl__metrics *wait_begin_observed(struct evl_loop *loop, unsigned obs,
                                                              int64_t *timeout_ns, int drain,
                                                              int *hooked)
{
    if ((obs & EVL__OBS_HOOKS) && *timeout_ns != 0) {
        *hooked = 1;
        evl__phase_hooks_observe(loop, EVL_HOOK_BEFORE_SLEEP);
        /* Tasks, stop and termination are re-checked after the sleep is announced; what the
         * hooks may have queued besides must cancel it. A draining loop runs only microtasks
         * and deferred callbacks (not immediates), so only those count then. */
        int runnable = drain
                           ? evl__loop_micro_pending(loop) || evl__ring_nonempty(&loop->pending) ||
                                 evl__ring_nonempty(&loop->closeq)
                           : runnable_now(loop);
        if (runnable) {
            *timeout_ns = 0;
        }
    }
    struct evl__metrics *m = (obs & EVL__OBS_METRICS) ? evl__metrics_on(loop) : NULL;
    if (m != NULL) {
        /* A short wait is followed by another chance to publish. */
        evl__metrics_poll_begin_slow(loop, m, *timeout_ns < 0 || *timeout_ns >= 1000000);
    }
    return m;
}

/* The observed half of a wait's end: the metrics' idle end, then (awake again) the after-wake
 * hooks if the before-sleep ones ran. */
EVL__NOINLINE static void wait_end_observed(struct evl_loop *loop, struct evl__metrics *m,
                                            int hooked, int called, int64_t timeout_ns)
{
    if (m != NULL) {
        evl__metrics_poll_end_slow(m, wake_cause(loop, called, timeout_ns));
    }
    if (hooked) {
        evl__loop_after_sleep(loop);
        evl__phase_hooks_observe(loop, EVL_HOOK_AFTER_WAKE);
    }
}

/*
 * Waits for work, up to timeout_ns (< 0: until woken), spinning first when that pays
 * (spin.c). Before blocking the loop announces itself asleep (seq_cst), then re-checks every
 * condition a producer could have changed; a producer changes its condition first and checks
 * the flag after, so one of the two always sees the other. drain: a terminating loop waits
 * only for tasks and in-flight work. Inlined into its two callers: the spin's own call is
 * the one call the poll phase pays on its way to the backend.
 */
static EVL__ALWAYS_INLINE void wait_for_work(struct evl_loop *loop, int64_t timeout_ns, int drain)
{
    struct evl__spin_episode ep;
    if (evl__spin_begin(loop, &timeout_ns, drain, &ep)) {
        return; /* the fds' callbacks ran while spinning: this poll phase is over */
    }
    int slept = 0;
    /* One test of the word the metrics and the lifecycle hooks share serves the whole wait. */
    unsigned obs = evl__loop_obs_flags(loop) & (EVL__OBS_METRICS | EVL__OBS_HOOKS);
    struct evl__metrics *m = NULL;
    int hooked = 0;
    if (__builtin_expect(obs != 0, 0)) {
        m = wait_begin_observed(loop, obs, &timeout_ns, drain, &hooked);
    }
    if (timeout_ns != 0) {
        /* One sleep episode: re-arm deduplication, then announce. Each wake-up write needs
         * a 0 -> 1 change of wake_pending, so there is at most one per announcement. */
        loop->sleeps++;
        atomic_store_explicit(&loop->wake_pending, 0, memory_order_relaxed);
        atomic_store_explicit(&loop->sleeping, 1, memory_order_seq_cst);
        int st = EVL_LOOP_RUNNING;
        atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_SLEEPING);
        /* The last clause: the last ref went away meanwhile. */
        if (evl__submitq_pending_locked(loop) || atomic_load(&loop->stop) ||
            (!drain && atomic_load(&loop->state) >= EVL_LOOP_TERMINATING) ||
            (drain && (atomic_load(&loop->closing) || atomic_load(&loop->inflight) == 0)) ||
            (!drain && timeout_ns < 0 && !loop_alive(loop))) {
            timeout_ns = 0;
        } else {
            slept = 1;
        }
    }
    int called = 0; /* fd callbacks the wait ran */
    evl__idle_begin(loop, timeout_ns);
    if (evl__io_active(&loop->io)) {
        called = evl__io_wait(loop, &loop->io, timeout_ns);
        if (called < 0) {
            EVL_LOG_EVENT(loop, EVL_LOG_ERROR, "loop", "poll_error", "I/O wait failed",
                          EVL_LF_ERROR("err", called));
            poll_failed(loop, called, drain);
        }
    } else if (timeout_ns != 0) {
        int rc = evl__wakeup_wait(&loop->wakeup, timeout_ns);
        if (rc == 1) {
            evl__loop_wakeup_drain(loop);
        } else if (rc < 0) {
            EVL_LOG_EVENT(loop, EVL_LOG_ERROR, "loop", "poll_error", "wait failed",
                          EVL_LF_ERROR("err", rc));
            poll_failed(loop, rc, drain);
        }
    }
    evl__obs_wait_returned(loop); /* no-op if the I/O wait ended the window already */
    if (__builtin_expect(obs != 0, 0)) {
        wait_end_observed(loop, m, hooked, called, timeout_ns);
    }
    evl__loop_after_sleep(loop);
    evl__spin_end(loop, &ep, slept, called);
}

/* Nonzero if a callback other than a submitted task or an fd's can run without waiting.
 * Immediates first: a loop that keeps one queued (a setImmediate chain) answers in one load. */
static inline int runnable_now(const struct evl_loop *loop)
{
    return evl__immediates_pending(&loop->timers) || evl__loop_micro_pending(loop) ||
           evl__ring_nonempty(&loop->pending) || evl__ring_nonempty(&loop->closeq) ||
           (evl__phase_hooks_any(loop) && evl__phase_hooks_idle(loop));
}

/* poll_timeout's answer when the poll phase must not wait and has no reason to let a
 * producer's batch grow either (NOWAIT, or a callback other than a task can run now). */
#define POLL_RUNNABLE (-2)

/* How long the poll phase may block (< 0: until woken), or POLL_RUNNABLE. */
static int64_t poll_timeout(struct evl_loop *loop, enum evl_run_mode mode)
{
    if (mode == EVL_RUN_NOWAIT || runnable_now(loop)) {
        return POLL_RUNNABLE;
    }
    if (evl__loop_interrupted(loop) || evl__submitq_pending(loop)) {
        return 0;
    }
    if (!loop_alive(loop)) {
        return 0;
    }
    if (!evl__timers_any(&loop->timers)) {
        return -1;
    }
    /* A fresh read: deadlines set by the callbacks of this iteration are exact. */
    uint64_t now = evl__loop_clock(loop);
    return evl__timers_timeout(loop, now);
}

/* Runs the callbacks queued on a ring before this call (later ones wait a turn). */
static void run_ring(struct evl_loop *loop, struct evl__ring *r)
{
    uint32_t n = evl__ring_count(r);
    while (n-- > 0 && evl__ring_nonempty(r)) {
        struct evl__task t = evl__ring_shift(r);
        evl__loop_call(loop, t.fn, t.arg);
        evl__loop_after_callback(loop);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
}

/* ---- the phases of one iteration: each returns nonzero when the iteration must end early
 * (stop, shutdown or close requested) ---- */

/* Microtasks queued before the run, or left by a capped checkpoint. */
static int leftovers_phase(struct evl_loop *loop)
{
    if (!evl__loop_micro_pending(loop)) {
        return 0;
    }
    evl__loop_checkpoint(loop);
    return evl__loop_interrupted(loop);
}

/* Cross-thread timer sets and clears (in their order), then the timers due at `now`, which
 * is read once for the phase. */
static int timers_phase(struct evl_loop *loop)
{
    evl__timers_poll_ctl(loop);
    if (!evl__timers_any(&loop->timers)) {
        return 0;
    }
    loop->now = evl__loop_clock(loop);
    evl__timers_run(loop);
    return evl__loop_interrupted(loop);
}

/* Callbacks deferred to this iteration (evl__loop_defer_pending). */
static int pending_phase(struct evl_loop *loop)
{
    if (!evl__ring_nonempty(&loop->pending)) {
        return 0;
    }
    run_ring(loop, &loop->pending);
    return evl__loop_interrupted(loop);
}

/* The idle and prepare hooks. */
static int prepare_phase(struct evl_loop *loop)
{
    if (!evl__phase_hooks_any(loop)) {
        return 0;
    }
    evl__phase_hooks_run(loop, EVL_HOOK_IDLE);
    evl__phase_hooks_run(loop, EVL_HOOK_PREPARE);
    return evl__loop_interrupted(loop);
}

/* Waits for fds, submitted tasks or the next timer, up to the poll timeout. With nothing to
 * wait on and nothing else runnable, a streaming producer's tasks may still be let grow
 * into a batch (spin.c). */
static int poll_phase(struct evl_loop *loop, enum evl_run_mode mode)
{
    evl__timers_poll_ctl(loop); /* so the timeout sees timers set meanwhile */
    int64_t timeout = poll_timeout(loop, mode);
    if (timeout == POLL_RUNNABLE) {
        if (!evl__io_active(&loop->io)) {
            return 0;
        }
        timeout = 0; /* the fds are still polled, without blocking */
    } else if (timeout == 0 && !evl__io_active(&loop->io)) {
        evl__spin_batch(loop);
        return 0;
    }
    wait_for_work(loop, timeout, 0);
    return evl__loop_interrupted(loop);
}

/* Submitted tasks, up to the batch bounds. */
static int tasks_phase(struct evl_loop *loop)
{
    if (!evl__submitq_pending(loop)) {
        return 0;
    }
    evl__submitq_run(loop, 0);
    return evl__loop_interrupted(loop);
}

/* The check hooks, then the immediates queued before the phase began. Unref'd immediates
 * run only while something else keeps the loop going, as in Node: when the last ref'd work
 * has run, the run ends before the check phase. */
static int check_phase(struct evl_loop *loop, enum evl_run_mode mode)
{
    if (evl__phase_hooks_any(loop)) {
        evl__phase_hooks_run(loop, EVL_HOOK_CHECK);
        if (evl__loop_interrupted(loop)) {
            return 1;
        }
    }
    /* Unref'd immediates run only while something else keeps the loop going, as in Node:
     * when the last ref'd work has run, the run ends before the check phase. */
    if (!evl__immediates_queued(&loop->timers) || (mode == EVL_RUN_DEFAULT && !loop_alive(loop))) {
        return 0;
    }
    evl__immediates_run(loop);
    return evl__loop_interrupted(loop);
}

/* Callbacks deferred to the end of the iteration (evl__loop_defer_close). */
static void close_phase(struct evl_loop *loop)
{
    if (evl__ring_nonempty(&loop->closeq)) {
        run_ring(loop, &loop->closeq);
    }
}

/* evl_loop_run returns: the open iteration ends for the observers; the metrics publish. */
EVL__NOINLINE static void run_end_observed(struct evl_loop *loop)
{
    unsigned obs = evl__loop_obs_flags(loop);
    if (obs & EVL__OBS_HOOKS) {
        evl__phase_hooks_iteration_close(loop);
    }
    evl__metrics_run_end(loop);
}

/* One iteration (docs/design.md), like libuv's uv_run: a checkpoint follows every callback
 * inside the phases. */
static void iterate(struct evl_loop *loop, enum evl_run_mode mode)
{
    loop->iterations++;
    /* One test of loop->obs for the metrics and the lifecycle hooks; the metrics' part is an
     * inline countdown (a call here would cost more than the count). */
    unsigned obs = evl__loop_obs_flags(loop);
    if (__builtin_expect((obs & (EVL__OBS_METRICS | EVL__OBS_HOOKS)) != 0, 0)) {
        evl__metrics_iteration(loop);
        if (obs & EVL__OBS_HOOKS) {
            evl__phase_hooks_iteration_start(loop);
        }
    }
    if (leftovers_phase(loop) || timers_phase(loop) || pending_phase(loop) || prepare_phase(loop) ||
        poll_phase(loop, mode) || tasks_phase(loop) || check_phase(loop, mode)) {
        return;
    }
    close_phase(loop);
}

/* Nonzero once a shutdown deadline has passed: the drain then ends as a close. */
static int deadline_passed(struct evl_loop *loop, uint64_t deadline)
{
    if (deadline == 0 || evl__loop_clock(loop) < deadline) {
        return 0;
    }
    evl_log(loop, EVL_LOG_WARN, "loop", "shutdown deadline passed: dropping the queued work");
    atomic_store(&loop->closing, 1);
    return 1;
}

/* One step of termination; returns 1 once the loop is TERMINATED. */
static int terminate_step(struct evl_loop *loop)
{
    if (!loop->shutdown_begun) {
        shutdown_begin(loop);
    }
    uint64_t deadline = atomic_load_explicit(&loop->shutdown_deadline, memory_order_acquire);
    if (atomic_load(&loop->closing) || deadline_passed(loop, deadline)) {
        finalize(loop, 1);
        return 1;
    }
    evl__loop_checkpoint(loop);
    /* With a deadline, in batches (the batch bounds), so the deadline is seen in between. */
    evl__submitq_run(loop, deadline == 0);
    run_ring(loop, &loop->pending);
    run_ring(loop, &loop->closeq);
    if (atomic_load(&loop->closing)) {
        return 0;
    }
    if (evl__loop_micro_pending(loop) || evl__ring_nonempty(&loop->pending) ||
        evl__ring_nonempty(&loop->closeq) || (deadline != 0 && evl__submitq_pending(loop))) {
        return 0;
    }
    if (atomic_load(&loop->inflight) == 0) {
        /* Closes admission only if nothing raced in; otherwise drain again. */
        if (evl__submitq_close(loop, 0) == 0) {
            finalize(loop, 0);
            return 1;
        }
        return 0;
    }
    int64_t timeout = evl__submitq_pending(loop) ? 0 : -1;
    if (deadline != 0 && timeout != 0) {
        /* Asleep for in-flight work: no longer than the deadline. */
        uint64_t now = evl__loop_clock(loop);
        timeout = deadline > now ? (int64_t)(deadline - now) : 0;
    }
    wait_for_work(loop, timeout, 1);
    return 0;
}

static int run_claimed(struct evl_loop *loop, enum evl_run_mode mode)
{
    atomic_store_explicit(&loop->owner, evl__thread_id(), memory_order_relaxed);
    int st = EVL_LOOP_AWAKE;
    atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_RUNNING);
    if (mode == EVL_RUN_DEFAULT) { /* a host stepping the loop would log every step */
        EVL_LOG_EVENT(loop, EVL_LOG_INFO, "loop", "start", NULL, EVL_LF_STR("mode", "default"));
    }
    int more = 0;
    for (;;) {
        if (atomic_load_explicit(&loop->state, memory_order_acquire) >= EVL_LOOP_TERMINATING) {
            if (terminate_step(loop) || loop->poll_err) {
                break;
            }
            continue;
        }
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed) &&
            atomic_exchange(&loop->stop, 0)) {
            break;
        }
        if (mode == EVL_RUN_DEFAULT && !loop_alive(loop)) {
            break;
        }
        iterate(loop, mode);
        if (mode == EVL_RUN_DEFAULT) {
            continue; /* the checks at the top come next */
        }
        if (atomic_load_explicit(&loop->state, memory_order_acquire) >= EVL_LOOP_TERMINATING) {
            continue;
        }
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed) &&
            atomic_exchange(&loop->stop, 0)) {
            break;
        }
        more = loop_alive(loop);
        break;
    }
    evl__context_run_end(loop);
    if (__builtin_expect((evl__loop_obs_flags(loop) & (EVL__OBS_METRICS | EVL__OBS_HOOKS)) != 0,
                         0)) {
        run_end_observed(loop);
    }
    if (mode == EVL_RUN_DEFAULT) {
        EVL_LOG_EVENT(
            loop, EVL_LOG_INFO, "loop", "stop", NULL, EVL_LF_STR("mode", "default"),
            EVL_LF_UINT("discarded", atomic_load(&loop->discarded)),
            EVL_LF_BOOL("terminated", atomic_load_explicit(&loop->state, memory_order_relaxed) ==
                                          EVL_LOOP_TERMINATED));
    }
    st = EVL_LOOP_RUNNING;
    atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_AWAKE);
    if (loop->poll_err) {
        more = loop->poll_err;
        loop->poll_err = 0;
    }
    return more;
}

int evl_loop_run(struct evl_loop *loop, enum evl_run_mode mode)
{
    if (!loop || (unsigned)mode > EVL_RUN_NOWAIT) {
        return EVL_EINVAL;
    }
    uintptr_t me = evl__thread_id();
    uintptr_t expected = 0;
    if (!atomic_compare_exchange_strong(&loop->runner, &expected, me)) {
        return expected == me ? EVL_ERECURSE : EVL_EBUSY;
    }
    if (atomic_load(&loop->state) == EVL_LOOP_TERMINATED) {
        atomic_store(&loop->runner, 0);
        return EVL_ECLOSED;
    }
    /* The first run picks the loop thread for good: its callbacks, fds and promises are
     * that thread's (the runner exchange orders this read after the last run's writes). */
    if (loop->iterations > 0 && !evl__loop_on_thread(loop)) {
        atomic_store(&loop->runner, 0);
        return EVL_EPERM;
    }
    evl__idle_run_begin(loop);
    int rc = run_claimed(loop, mode);
    atomic_store(&loop->runner, 0);
    return rc;
}

/* ---- embedding in a host loop ---------------------------------------------------------------- */

int evl_loop_backend_fd(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (atomic_load(&loop->state) == EVL_LOOP_TERMINATED || atomic_load(&loop->closing)) {
        return EVL_ECLOSED;
    }
    return evl__io_embed(loop);
}

int64_t evl_loop_next_timeout_ns(struct evl_loop *loop)
{
    if (!loop || !evl__loop_on_thread(loop) || loop->cb_depth > 0 ||
        atomic_load(&loop->state) == EVL_LOOP_TERMINATED) {
        return 0;
    }
    /* Announce the sleep the host is about to take, as the poll phase does before its own:
     * from here on a producer (or a timer set from another thread) writes the wake-up fd, at
     * most once, and the next run's wait on the backend drains it and ends the announcement.
     * What was posted before is seen below. */
    atomic_store_explicit(&loop->wake_pending, 0, memory_order_relaxed);
    atomic_store_explicit(&loop->sleeping, 1, memory_order_seq_cst);
    evl__timers_poll_ctl(loop);
    if (evl__loop_interrupted(loop) || runnable_now(loop) || evl__submitq_pending_locked(loop)) {
        return 0;
    }
    return evl__timers_timeout(loop, evl__loop_clock(loop));
}

int evl_loop_next_timeout_ms(struct evl_loop *loop)
{
    int64_t ns = evl_loop_next_timeout_ns(loop);
    if (ns <= 0) {
        return (int)ns;
    }
    int64_t ms = ns / 1000000 + (ns % 1000000 != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- stop, shutdown, close ------------------------------------------------------------------ */

int evl_loop_stop(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (atomic_load(&loop->state) == EVL_LOOP_TERMINATED) {
        return EVL_ECLOSED;
    }
    atomic_store_explicit(&loop->stop, 1, memory_order_seq_cst);
    evl__loop_wake(loop);
    return 0;
}

static int begin_termination(struct evl_loop *loop, int drop, uint64_t timeout_ns)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    /* Read before the state changes: the loop thread may read the deadline right after. */
    uint64_t deadline = 0;
    if (timeout_ns != 0) {
        uint64_t now = evl__loop_clock(loop);
        deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    }
    int st = atomic_load(&loop->state);
    for (;;) {
        if (st >= EVL_LOOP_TERMINATING) {
            return EVL_EALREADY;
        }
        if (atomic_compare_exchange_weak(&loop->state, &st, EVL_LOOP_TERMINATING)) {
            break;
        }
    }
    if (deadline != 0) {
        atomic_store_explicit(&loop->shutdown_deadline, deadline, memory_order_release);
    }
    if (drop) {
        atomic_store(&loop->closing, 1);
    }
    /* Admission closes at the call: what was accepted so far is all the drain has to run. */
    evl__submitq_close_external(loop);
    evl__loop_wake(loop);
    /* On the loop thread with the loop not running: finish here (nothing else would). */
    uintptr_t expected = 0;
    if (evl__loop_on_thread(loop) &&
        atomic_compare_exchange_strong(&loop->runner, &expected, evl__thread_id())) {
        run_claimed(loop, EVL_RUN_DEFAULT);
        atomic_store(&loop->runner, 0);
    }
    return 0;
}

int evl_loop_shutdown(struct evl_loop *loop)
{
    return begin_termination(loop, 0, 0);
}

int evl_loop_shutdown_ex(struct evl_loop *loop, uint64_t timeout_ns)
{
    return begin_termination(loop, 0, timeout_ns);
}

int evl_loop_close(struct evl_loop *loop)
{
    return begin_termination(loop, 1, 0);
}

uint64_t evl_loop_discarded(const struct evl_loop *loop)
{
    if (!loop) {
        return 0;
    }
    return atomic_load(&((struct evl_loop *)(uintptr_t)loop)->discarded);
}

/* ---- small accessors ------------------------------------------------------------------------ */

enum evl_loop_state evl_loop_state(const struct evl_loop *loop)
{
    if (!loop) {
        return EVL_LOOP_TERMINATED; /* nothing can run on no loop */
    }
    return (enum evl_loop_state)atomic_load(&((struct evl_loop *)(uintptr_t)loop)->state);
}

uint64_t evl_loop_now_ns(const struct evl_loop *loop)
{
    if (!loop) {
        return 0;
    }
    return evl__loop_clock(loop);
}

int evl_loop_on_thread(const struct evl_loop *loop)
{
    return loop ? evl__loop_on_thread(loop) : 0;
}

int evl_loop_ref(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (atomic_load(&loop->state) == EVL_LOOP_TERMINATED) {
        return EVL_ECLOSED;
    }
    atomic_fetch_add(&loop->refs, 1);
    return 0;
}

int evl_loop_unref(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    int64_t v = atomic_load(&loop->refs);
    do {
        if (v <= 0) {
            return EVL_EINVAL;
        }
    } while (!atomic_compare_exchange_weak(&loop->refs, &v, v - 1));
    if (v == 1) {
        evl__loop_wake(loop); /* a sleeping loop re-evaluates whether it is alive */
    }
    return 0;
}

void evl_loop_set_data(struct evl_loop *loop, void *data)
{
    if (loop) {
        atomic_store_explicit(&loop->data, data, memory_order_release);
    }
}

void *evl_loop_get_data(const struct evl_loop *loop)
{
    if (!loop) {
        return NULL;
    }
    return atomic_load_explicit(&((struct evl_loop *)(uintptr_t)loop)->data, memory_order_acquire);
}

/* ---- seams ---------------------------------------------------------------------------------- */

void evl__loop_inflight_add(struct evl_loop *loop)
{
    atomic_fetch_add(&loop->inflight, 1);
}

void evl__loop_inflight_done(struct evl_loop *loop)
{
    /* evl_loop_free waits while a thread is between its decrement and the end of its wake-up,
     * so the loop is never freed under it. */
    atomic_fetch_add(&loop->inflight_waking, 1);
    if (atomic_fetch_sub(&loop->inflight, 1) == 1) {
        evl__loop_wake(loop); /* a shutting-down loop may be waiting for zero */
    }
    atomic_fetch_sub(&loop->inflight_waking, 1);
}

void evl__loop_mem_retain(struct evl_loop *loop)
{
    atomic_fetch_add(&loop->inflight_waking, 1);
}

void evl__loop_mem_release(struct evl_loop *loop)
{
    atomic_fetch_sub(&loop->inflight_waking, 1);
}

int evl__loop_at_teardown(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    struct evl__teardown *td = &loop->teardown;
    if (td->n >= EVL__MAX_TEARDOWN_HOOKS) {
        return EVL_ELIMIT;
    }
    td->hook[td->n].fn = fn;
    td->hook[td->n].arg = arg;
    td->n++;
    return 0;
}

int evl__loop_closing(const struct evl_loop *loop)
{
    return atomic_load(&((struct evl_loop *)(uintptr_t)loop)->closing);
}

static int defer(struct evl_loop *loop, struct evl__ring *r, evl_task_cb fn, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    if (loop->admission_closed) {
        return EVL_ECLOSED;
    }
    return evl__ring_push(loop, r, fn, arg);
}

int evl__loop_defer_pending(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    return defer(loop, &loop->pending, fn, arg);
}

int evl__loop_defer_close(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    return defer(loop, &loop->closeq, fn, arg);
}

void evl__loop_get_stats(struct evl_loop *loop, struct evl__loop_stats *out)
{
    out->wake_writes = atomic_load(&loop->wake_writes);
    out->sleeps = loop->sleeps;
    out->iterations = loop->iterations;
    out->spins = loop->spin.task_spins + loop->spin.io_spins;
    out->spin_hits = loop->spin.task_hits + loop->spin.io_spin_hits;
    out->io_spins = loop->spin.io_spins;
    out->io_spin_hits = loop->spin.io_spin_hits;
}

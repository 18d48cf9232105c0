/*
 * The loop: lifecycle, the phases of one iteration, stop/shutdown/close and liveness.
 *
 * One iteration (docs/design.md has the diagram):
 *   checkpoint (leftovers) -> update time -> due timers -> pending -> poll (sleep) ->
 *   submitted tasks -> check (immediates) -> close callbacks
 * with a checkpoint after every callback.
 *
 * States: AWAKE -> RUNNING <-> SLEEPING -> TERMINATING -> TERMINATED. Every change is a
 * compare-and-swap except the final store of TERMINATED, which only the finalizing thread
 * makes. The "runner" word (CAS 0 -> thread id) decides who may run the loop: a second
 * thread gets EVL_EBUSY, a callback on the running thread gets EVL_ERECURSE.
 */
#include "core/loop_internal.h"
#include "core/overload.h"

#include <limits.h>
#include <sched.h>
#include <string.h>
#include <time.h>

/* The adaptive spin's bounds (see spin_budget). */
#define EVL__SPIN_CAP_NS      20000u
#define EVL__SPIN_MIN_NS      2000u
#define EVL__SPIN_LONG_NS     80000u /* 4 x the cap: a long or unknown gap */
#define EVL__SPIN_BACKOFF_MAX 64u
#define EVL__SPIN_BATCH       1024u /* a streaming producer's batch */
#define EVL__SPIN_BATCH_NS    5000u /* ... or this long */
/* The I/O spin's bounds (see io_spin_budget). Its gaps are measured to when the fd
 * callbacks began, scheduler wake-up latency included, hence the wider bounds. */
#define EVL__IO_SPIN_EST_MAX_NS 40000u /* spin for fds only while their gap averages <= this */
#define EVL__IO_SPIN_CAP_NS     50000u /* ... for 2 x the average + EVL__SPIN_MIN_NS, at most */

uint64_t evl__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

int evl__current_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

static uint64_t monotonic_clock(void *ud)
{
    (void)ud;
    return evl__monotonic_ns();
}

/* ---- allocation (seam 5) ------------------------------------------------------------------ */

void *evl__loop_malloc(const struct evl_loop *loop, size_t n)
{
    if (loop->has_alloc) {
        return loop->alloc.malloc_fn(loop->alloc.ud, n);
    }
    return evl_malloc(n);
}

void *evl__loop_realloc(const struct evl_loop *loop, void *p, size_t n)
{
    if (loop->has_alloc) {
        return loop->alloc.realloc_fn(loop->alloc.ud, p, n);
    }
    return evl_realloc(p, n);
}

void evl__loop_free(const struct evl_loop *loop, void *p)
{
    if (!p) {
        return;
    }
    if (loop->has_alloc) {
        loop->alloc.free_fn(loop->alloc.ud, p);
    } else {
        evl_free(p);
    }
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
    if (o.allocator) {
        loop->alloc = *o.allocator;
        loop->has_alloc = 1;
    }
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
    loop->spin_est = EVL__SPIN_LONG_NS; /* no history: an idle loop never spins */
    loop->io_est = EVL__SPIN_LONG_NS;
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
    rc = evl__wakeup_open(&loop->wakeup);
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
    *out = loop;
    return 0;
}

static int ring_nonempty(const struct evl__ring *r)
{
    return r->head != r->tail;
}

int evl_loop_alive(const struct evl_loop *loop)
{
    if (!loop) {
        return 0;
    }
    struct evl_loop *l = (struct evl_loop *)(uintptr_t)loop; /* pending() reads only */
    return atomic_load_explicit(&loop->refs, memory_order_relaxed) > 0 ||
           atomic_load_explicit(&loop->inflight, memory_order_relaxed) > 0 ||
           loop->timers.ref_count > 0 || evl__loop_micro_pending(loop) ||
           ring_nonempty(&loop->pending) || ring_nonempty(&loop->closeq) ||
           evl__submitq_pending(l) || (loop->io_hooks && loop->io_hooks->alive(loop));
}

/* Drops the queued microtasks, letting their owner release what each one holds. */
static void drop_microtasks(struct evl_loop *loop)
{
    struct evl__ring *r = &loop->micro;
    while (r->head != r->tail) {
        struct evl__task t = r->buf[r->head & r->mask];
        r->head++;
        if (loop->micro_discard) {
            loop->micro_discard(loop, t.fn, t.arg);
        }
    }
}

/* Terminates the loop on the calling (loop) thread. drop: close semantics. */
static void finalize(struct evl_loop *loop, int drop)
{
    if (drop) {
        atomic_store(&loop->closing, 1);
        loop->admission_closed = 1;
        evl__submitq_close(loop, 1); /* discard callbacks run, FIFO */
        loop->ticks.head = loop->ticks.tail;
        drop_microtasks(loop);
        loop->pending.head = loop->pending.tail;
        loop->closeq.head = loop->closeq.tail;
    } else {
        loop->admission_closed = 1;
    }
    evl__timers_apply_ctl(loop, 1);
    loop->tearing_down = 1;
    for (uint32_t i = loop->nteardown; i-- > 0;) {
        evl__loop_call(loop, loop->teardown[i].fn, loop->teardown[i].arg);
    }
    loop->nteardown = 0;
    /* Hooks run with admission closed; anything they queued anyway is dropped. */
    loop->ticks.head = loop->ticks.tail;
    loop->micro.head = loop->micro.tail;
    evl__timers_cancel_all(loop);
    if (loop->io_hooks) {
        if (loop->io_hooks->teardown) {
            loop->io_hooks->teardown(loop);
        }
        loop->io_hooks = NULL;
    }
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
        if (!atomic_load(&loop->closing) && evl_loop_alive(loop)) {
            return EVL_EBUSY;
        }
        finalize(loop, 1);
    }
    evl__submitq_deinit(loop);
    evl__overload_deinit(loop);
    evl__obs_free(loop);
    evl__timers_deinit(loop);
    evl__ring_free(loop, &loop->ticks);
    evl__ring_free(loop, &loop->micro);
    evl__ring_free(loop, &loop->pending);
    evl__ring_free(loop, &loop->closeq);
    evl__wakeup_close(&loop->wakeup);
    struct evl_allocator a = loop->alloc;
    int has = loop->has_alloc;
    void *raw = loop->raw;
    if (has) {
        a.free_fn(a.ud, raw);
    } else {
        evl_free(raw);
    }
    return 0;
}

/* ---- sleeping and waking ------------------------------------------------------------------- */

int evl__wakeup_fd(struct evl_loop *loop)
{
    return loop->wakeup.rfd;
}

void evl__loop_after_sleep(struct evl_loop *loop)
{
    if (atomic_load_explicit(&loop->sleeping, memory_order_relaxed)) {
        /* wake_pending stays set until the next sleep announcement: a producer that still
         * saw the old flag finds it taken and makes no second write for this sleep. */
        atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);
        int st = EVL_LOOP_SLEEPING;
        atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_RUNNING);
    }
}

void evl__loop_wakeup_drain(struct evl_loop *loop)
{
    evl__loop_after_sleep(loop);
    evl__wakeup_drain(&loop->wakeup);
}

/*
 * Spinning before sleeping. A sleep costs the producer that wakes the loop a system call and
 * the work a scheduler wake-up (microseconds); when tasks come back quickly (a client waiting
 * for each answer, a producer in a burst) a short spin catches them instead. By default the
 * spin is adaptive, like an adaptive mutex: the loop keeps an average of the gap between going
 * idle and the next task (spin_est; the gap of a sleep comes from the time the waking producer
 * stamped in wake_ns, so the scheduler's latency does not count), and spins only while that
 * average is at most EVL__SPIN_CAP_NS / 2, for 2 x the average + EVL__SPIN_MIN_NS, at most
 * EVL__SPIN_CAP_NS. A sleep that ends any other way (timeout, fd, nothing) counts as a long
 * gap, so an idle loop, a loop woken only by timers or I/O and a producer that comes back
 * rarely never spin; after a burst ends, at most one spin is wasted before the average backs
 * off. options.spin_ns sets a fixed spin instead; EVL_SPIN_OFF turns spinning off.
 *
 * The I/O spin is the same idea for fd readiness, with its own average (io_est) and back-off
 * (io_skip, io_backoff): the gap of an episode is until the fd callbacks began (io_ready_ns,
 * stamped by io_wait), exact for a spin's poll, wake-up latency included for a sleep (no
 * writer stamps fds), hence wider bounds: it polls only while io_est is at most
 * EVL__IO_SPIN_EST_MAX_NS, for 2 x io_est + EVL__SPIN_MIN_NS, at most EVL__IO_SPIN_CAP_NS.
 * An episode that ends any other way (timeout, task, nothing) counts as long. Both spins run
 * as one loop (spin_for_work): it looks at the lanes and, if the I/O spin is due, polls the
 * backend without blocking (io_hooks->wait(loop, 0)), which runs ready callbacks with all
 * their guarantees (generation checks, a checkpoint after each, stop seen between them). A
 * poll that ran callbacks ends the poll phase at once, without another wait, so a
 * registration still gets at most one callback per iteration. Never past the poll timeout;
 * not while terminating (drain). A fixed spin_ns polls the fds too.
 */
static void spin_learn(uint32_t *est, uint64_t gap)
{
    uint32_t g = gap > EVL__SPIN_LONG_NS ? EVL__SPIN_LONG_NS : (uint32_t)gap;
    uint32_t e = *est;
    /* An average over about the last four idle episodes. */
    *est = g >= e ? e + (g - e) / 4 : e - (e - g) / 4;
}

/* A spin that found nothing: skip the next 1, 2, 4 ... 64 chances to spin. */
static void spin_back_off(uint32_t *skip, uint32_t *backoff)
{
    *backoff = *backoff ? *backoff * 2 : 1;
    if (*backoff > EVL__SPIN_BACKOFF_MAX) {
        *backoff = EVL__SPIN_BACKOFF_MAX;
    }
    *skip = *backoff;
}

/* How long to spin before this sleep, in ns (0: do not). */
static uint64_t spin_budget(struct evl_loop *loop)
{
    if (loop->spin_ns == EVL_SPIN_OFF) {
        return 0;
    }
    if (loop->spin_ns != 0) {
        return loop->spin_ns;
    }
    if (loop->spin_est > EVL__SPIN_CAP_NS / 2) {
        return 0;
    }
    if (loop->spin_skip) {
        loop->spin_skip--; /* backing off after spins that found nothing */
        return 0;
    }
    int cpu = atomic_load_explicit(&loop->wake_cpu, memory_order_relaxed);
    /* cppcheck-suppress incorrectLogicOperator ; it sees only the non-Linux -1 */
    if (cpu >= 0 && evl__current_cpu() == cpu) {
        return 0; /* the producer shares our CPU: spinning would only keep it off */
    }
    uint64_t b = 2 * (uint64_t)loop->spin_est + EVL__SPIN_MIN_NS;
    return b < EVL__SPIN_CAP_NS ? b : EVL__SPIN_CAP_NS;
}

/* How long to poll the fds (without blocking) before this sleep, in ns (0: do not). A
 * terminating loop (drain) does not: it waits only for tasks and in-flight work. */
static uint64_t io_spin_budget(struct evl_loop *loop, int drain)
{
    if (!loop->io_hooks || drain || loop->spin_ns == EVL_SPIN_OFF) {
        return 0;
    }
    if (loop->spin_ns != 0) {
        return loop->spin_ns;
    }
    if (loop->io_est > EVL__IO_SPIN_EST_MAX_NS) {
        return 0;
    }
    if (loop->io_skip) {
        loop->io_skip--;
        return 0;
    }
    uint64_t b = 2 * (uint64_t)loop->io_est + EVL__SPIN_MIN_NS;
    return b < EVL__IO_SPIN_CAP_NS ? b : EVL__IO_SPIN_CAP_NS;
}

/* Nonzero if a producer published something (tasks, timer messages) or asked to stop; reads
 * the producers' lines without writing them. */
static int spin_found(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    uint32_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if ((used & 1) && evl__lane_nonempty(&q->lanes[i])) {
            return 1;
        }
    }
    return atomic_load_explicit(&q->ctl_pending, memory_order_relaxed) ||
           atomic_load_explicit(&loop->stop, memory_order_relaxed);
}

/* Slots published and not yet taken, over the lanes in use (a hint; reads only). */
static uint32_t lanes_backlog(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    uint32_t n = 0;
    uint32_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if (used & 1) {
            struct evl__lane *l = &q->lanes[i];
            l->seen = atomic_load_explicit(&l->tail, memory_order_acquire);
            n += l->seen - l->head;
        }
    }
    return n;
}

/*
 * Work was seen while spinning, or arrived while the last tasks ran. If a producer is still
 * streaming (the backlog grew between two looks `pauses` pauses apart), wait, without looking
 * again, as long as it should take the producer at that rate to fill a batch of
 * EVL__SPIN_BATCH slots, at most EVL__SPIN_BATCH_NS after `seen`: a loop that jumps on every
 * few tasks reads the producer's cache lines while they are being written, which stalls both
 * sides. A lone request (the backlog did not grow) goes at once.
 */
static void spin_let_batch_grow(struct evl_loop *loop, uint64_t seen, int pauses)
{
    uint32_t before = lanes_backlog(loop);
    uint64_t t0 = evl__monotonic_ns();
    for (int i = 0; i < pauses; i++) {
        evl__cpu_relax();
    }
    uint32_t now = lanes_backlog(loop);
    uint64_t t1 = evl__monotonic_ns();
    if (now <= before || now >= EVL__SPIN_BATCH) {
        return;
    }
    uint64_t wait = (uint64_t)(EVL__SPIN_BATCH - now) * (t1 - t0) / (now - before);
    uint64_t end = t1 + wait;
    if (end > seen + EVL__SPIN_BATCH_NS) {
        end = seen + EVL__SPIN_BATCH_NS;
    }
    while (evl__monotonic_ns() < end && !atomic_load_explicit(&loop->stop, memory_order_relaxed)) {
        for (int i = 0; i < 8; i++) {
            evl__cpu_relax();
        }
    }
}

enum spin_result { SPIN_MISS, SPIN_TASK, SPIN_IO, SPIN_STOP };

/* Spins up to limit ns (and the timeout) from start, watching for submitted work and, if
 * poll_io, polling the fds without blocking (which runs their callbacks). Returns what
 * ended the spin; *seen is when (for fds: when their callbacks began). SPIN_STOP: the loop
 * was stopped or is terminating (no lesson). */
static enum spin_result spin_for_work(struct evl_loop *loop, int64_t timeout, uint64_t limit,
                                      uint64_t start, int poll_io, uint64_t *seen)
{
    if (timeout >= 0 && (uint64_t)timeout < limit) {
        limit = (uint64_t)timeout;
    }
    for (;;) {
        if (evl__loop_interrupted(loop)) {
            return SPIN_STOP;
        }
        if (spin_found(loop)) {
            *seen = evl__monotonic_ns();
            /* A quick first look: a lone request after an idle spell goes almost at once. */
            spin_let_batch_grow(loop, *seen, 4);
            return SPIN_TASK;
        }
        if (poll_io) {
            /* A system call (~0.2-1 us) between two looks at the lanes: no pauses needed.
             * Callbacks that ran end the spin and this poll phase, so a registration still
             * gets at most one callback per iteration. */
            int n = loop->io_hooks->wait(loop, 0);
            if (n > 0) {
                *seen = loop->io_ready_ns;
                return SPIN_IO;
            }
            if (n < 0) {
                return SPIN_MISS; /* the blocking wait that follows reports the error */
            }
        } else {
            /* Poll every few pauses (~0.1 us): each poll of a lane the producer wrote
             * since costs the producer a cache miss on its next submit. */
            for (int i = 0; i < 4; i++) {
                evl__cpu_relax();
            }
        }
        if (evl__monotonic_ns() - start >= limit) {
            return SPIN_MISS;
        }
    }
}

/*
 * The poll phase. timeout_ns < 0 blocks until woken. Before blocking the loop announces
 * itself asleep (seq_cst), then re-checks every condition a producer could have changed; a
 * producer changes its condition first and checks the flag after, so one of the two always
 * sees the other. drain: a terminating loop waits only for tasks and in-flight work.
 */
static void poll_phase(struct evl_loop *loop, int64_t timeout_ns, int drain)
{
    uint64_t idle_start = 0;
    int io_learns = 0; /* this episode teaches the I/O spin (adaptive, fds polled, no drain) */
    if (timeout_ns != 0 && loop->spin_ns != EVL_SPIN_OFF) {
        idle_start = evl__monotonic_ns();
        io_learns = loop->spin_ns == 0 && loop->io_hooks && !drain;
        uint64_t task_budget = spin_budget(loop);
        uint64_t io_budget = io_spin_budget(loop, drain);
        uint64_t budget = task_budget > io_budget ? task_budget : io_budget;
        if (budget) {
            loop->spins++;
            loop->io_spins += io_budget != 0;
            uint64_t seen = 0;
            enum spin_result r =
                spin_for_work(loop, timeout_ns, budget, idle_start, io_budget != 0, &seen);
            if (r == SPIN_IO) {
                /* The fds' callbacks ran: this poll phase is over, without a sleep. */
                loop->spin_hits++;
                loop->io_spin_hits++;
                loop->io_backoff = 0;
                if (io_learns && seen >= idle_start) {
                    spin_learn(&loop->io_est, seen - idle_start);
                }
                spin_learn(&loop->spin_est, EVL__SPIN_LONG_NS);
                return;
            }
            if (r == SPIN_STOP) {
                timeout_ns = 0; /* the caller sees why */
                idle_start = 0;
            } else if (r == SPIN_TASK) {
                loop->spin_hits++;
                loop->spin_backoff = 0;
                spin_learn(&loop->spin_est, seen - idle_start);
                if (io_learns) {
                    spin_learn(&loop->io_est, EVL__SPIN_LONG_NS);
                }
                timeout_ns = 0;
                idle_start = 0;
            } else if (loop->spin_ns == 0) {
                /* A miss: each spin that was asked for backs off. */
                if (task_budget) {
                    spin_back_off(&loop->spin_skip, &loop->spin_backoff);
                }
                if (io_budget) {
                    spin_back_off(&loop->io_skip, &loop->io_backoff);
                }
            }
        }
    }
    int slept = 0;
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
            (!drain && timeout_ns < 0 && !evl_loop_alive(loop))) {
            timeout_ns = 0;
        } else {
            slept = 1;
        }
    }
    int called = 0; /* fd callbacks the wait ran */
    if (loop->io_hooks) {
        called = loop->io_hooks->wait(loop, timeout_ns);
        if (called < 0) {
            evl_log(loop, EVL_LOG_ERROR, "loop", "I/O wait failed: %s", evl_strerror(called));
        }
    } else if (timeout_ns != 0) {
        int rc = evl__wakeup_wait(&loop->wakeup, timeout_ns);
        if (rc == 1) {
            evl__loop_wakeup_drain(loop);
        } else if (rc < 0) {
            evl_log(loop, EVL_LOG_ERROR, "loop", "wait failed: %s", evl_strerror(rc));
        }
    }
    evl__loop_after_sleep(loop);
    if (idle_start) {
        /* The gap this idle episode measured: until the waking producer's stamp, or until
         * now if the check before sleeping found work; anything else counts as long. */
        uint64_t gap = slept ? EVL__SPIN_LONG_NS : evl__monotonic_ns() - idle_start;
        if (atomic_load_explicit(&loop->wake_pending, memory_order_relaxed)) {
            uint64_t w = atomic_load_explicit(&loop->wake_ns, memory_order_relaxed);
            if (w >= idle_start && w - idle_start < gap) {
                gap = w - idle_start; /* when the task came, not when the loop saw it */
            }
        }
        spin_learn(&loop->spin_est, gap);
        if (io_learns) {
            /* Until the fd callbacks began (wake-up latency included), or long if the
             * episode ended any other way (timeout, task, nothing). */
            uint64_t io_gap = EVL__SPIN_LONG_NS;
            if (called > 0 && loop->io_ready_ns >= idle_start) {
                io_gap = loop->io_ready_ns - idle_start;
            }
            spin_learn(&loop->io_est, io_gap);
        }
    }
}

/* Nonzero if a callback other than a submitted task or an fd's can run without waiting. */
static int runnable_now(const struct evl_loop *loop)
{
    return evl__loop_micro_pending(loop) || ring_nonempty(&loop->pending) ||
           ring_nonempty(&loop->closeq) || loop->timers.imm_count > 0 ||
           (loop->phase_hooks && evl__phase_hooks_idle(loop));
}

/* How long the poll phase may block. */
static int64_t poll_timeout(struct evl_loop *loop, enum evl_run_mode mode)
{
    if (mode == EVL_RUN_NOWAIT || evl__loop_interrupted(loop)) {
        return 0;
    }
    if (runnable_now(loop) || evl__submitq_pending(loop)) {
        return 0;
    }
    if (!evl_loop_alive(loop)) {
        return 0;
    }
    /* A fresh read: deadlines set by the callbacks of this iteration are exact. */
    uint64_t now = evl__loop_clock(loop);
    return evl__timers_timeout(loop, now);
}

/* Runs the callbacks queued on a ring before this call (later ones wait a turn). */
static void run_ring(struct evl_loop *loop, struct evl__ring *r)
{
    uint32_t n = evl__ring_count(r);
    while (n-- > 0 && r->head != r->tail) {
        struct evl__task t = r->buf[r->head & r->mask];
        r->head++;
        evl__loop_call(loop, t.fn, t.arg);
        evl__loop_after_callback(loop);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
}

static void iterate(struct evl_loop *loop, enum evl_run_mode mode)
{
    loop->iterations++;
    if (evl__loop_micro_pending(loop)) {
        evl__loop_checkpoint(loop); /* queued before run, or left by a capped checkpoint */
    }
    if (evl__loop_interrupted(loop)) {
        return;
    }
    evl__timers_poll_ctl(loop); /* cross-thread sets and clears, in their order */
    if (evl__timers_any(&loop->timers)) {
        loop->now = evl__loop_clock(loop); /* update time: once for the timer phase */
        evl__timers_run(loop);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    if (ring_nonempty(&loop->pending)) {
        run_ring(loop, &loop->pending);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    if (loop->phase_hooks) {
        evl__phase_hooks_run(loop, EVL_HOOK_IDLE);
        evl__phase_hooks_run(loop, EVL_HOOK_PREPARE);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    evl__timers_poll_ctl(loop); /* so the poll timeout sees timers set meanwhile */
    int64_t timeout = poll_timeout(loop, mode);
    if (timeout != 0 || loop->io_hooks) {
        poll_phase(loop, timeout, 0);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    } else if (mode != EVL_RUN_NOWAIT && loop->spin_ns != EVL_SPIN_OFF && !runnable_now(loop)) {
        /* Tasks only, arrived while the last ones ran: if a producer is streaming, take
         * them as a batch rather than one by one. */
        uint32_t backlog = lanes_backlog(loop);
        if (backlog != 0 && backlog < EVL__SPIN_BATCH) {
            spin_let_batch_grow(loop, evl__monotonic_ns(), 16);
        }
    }
    if (evl__submitq_pending(loop)) {
        evl__submitq_run(loop, 0);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    if (loop->phase_hooks) {
        evl__phase_hooks_run(loop, EVL_HOOK_CHECK);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    /* Unref'd immediates run only while something else keeps the loop going, as in Node:
     * when the last ref'd work has run, the run ends before the check phase. */
    if (loop->timers.imm_head != UINT32_MAX && (mode != EVL_RUN_DEFAULT || evl_loop_alive(loop))) {
        evl__immediates_run(loop);
        if (evl__loop_interrupted(loop)) {
            return;
        }
    }
    if (ring_nonempty(&loop->closeq)) {
        run_ring(loop, &loop->closeq);
    }
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
    if (evl__loop_micro_pending(loop) || ring_nonempty(&loop->pending) ||
        ring_nonempty(&loop->closeq) || (deadline != 0 && evl__submitq_pending(loop))) {
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
    poll_phase(loop, timeout, 1);
    return 0;
}

static int run_claimed(struct evl_loop *loop, enum evl_run_mode mode)
{
    atomic_store_explicit(&loop->owner, evl__thread_id(), memory_order_relaxed);
    int st = EVL_LOOP_AWAKE;
    atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_RUNNING);
    int more = 0;
    for (;;) {
        if (atomic_load_explicit(&loop->state, memory_order_acquire) >= EVL_LOOP_TERMINATING) {
            if (terminate_step(loop)) {
                break;
            }
            continue;
        }
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed) &&
            atomic_exchange(&loop->stop, 0)) {
            break;
        }
        if (mode == EVL_RUN_DEFAULT && !evl_loop_alive(loop)) {
            break;
        }
        iterate(loop, mode);
        if (atomic_load_explicit(&loop->state, memory_order_acquire) >= EVL_LOOP_TERMINATING) {
            continue;
        }
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed) &&
            atomic_exchange(&loop->stop, 0)) {
            break;
        }
        if (mode != EVL_RUN_DEFAULT) {
            more = evl_loop_alive(loop);
            break;
        }
    }
    st = EVL_LOOP_RUNNING;
    atomic_compare_exchange_strong(&loop->state, &st, EVL_LOOP_AWAKE);
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
    if (loop->nteardown >= EVL__MAX_TEARDOWN_HOOKS) {
        return EVL_ELIMIT;
    }
    loop->teardown[loop->nteardown].fn = fn;
    loop->teardown[loop->nteardown].arg = arg;
    loop->nteardown++;
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
    out->spins = loop->spins;
    out->spin_hits = loop->spin_hits;
    out->io_spins = loop->io_spins;
    out->io_spin_hits = loop->io_spin_hits;
}

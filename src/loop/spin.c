/*
 * The adaptive spin (spin.h): how long the poll phase looks for work before it sleeps, and
 * what it learns from each idle episode.
 *
 * Spinning before sleeping. A sleep costs the producer that wakes the loop a system call and
 * the work a scheduler wake-up (microseconds); when tasks come back quickly (a client waiting
 * for each answer, a producer in a burst) a short spin catches them instead. By default the
 * spin is adaptive, like an adaptive mutex: the loop keeps an average of the gap between going
 * idle and the next task (spin.spin_est; the gap of a sleep comes from the time the waking producer
 * stamped in wake_ns, so the scheduler's latency does not count), and spins only while that
 * average is at most EVL__SPIN_CAP_NS / 2, for 2 x the average + EVL__SPIN_MIN_NS, at most
 * EVL__SPIN_CAP_NS. A sleep that ends any other way (timeout, fd, nothing) counts as a long
 * gap, so an idle loop, a loop woken only by timers or I/O and a producer that comes back
 * rarely never spin; after a burst ends, at most one spin is wasted before the average backs
 * off. options.spin_ns sets a fixed spin instead; EVL_SPIN_OFF turns spinning off.
 *
 * The I/O spin is the same idea for fd readiness, with its own average (spin.io_est) and
 * back-off (spin.io_skip, spin.io_backoff): the gap of an episode is until the fd callbacks began
 * (io.ready_ns, which io_wait stamps when the spin cleared it), exact for a spin's poll, wake-up
 * latency included for a sleep (no writer stamps fds), hence wider bounds: it polls only while
 * io_est is at most EVL__IO_SPIN_EST_MAX_NS, for 2 x io_est + EVL__SPIN_MIN_NS, at most
 * EVL__IO_SPIN_CAP_NS. An episode that ends any other way (timeout, task, nothing) counts as long.
 * Both spins run as one loop (spin_for_work): it looks at the lanes and, if the I/O spin is due,
 * polls the backend without blocking (evl__io_wait(loop, &loop->io, 0)), which runs ready callbacks
 * with all their guarantees (generation checks, a checkpoint after each, stop seen between them). A
 * poll that ran callbacks ends the poll phase at once, without another wait, so a
 * registration still gets at most one callback per iteration. Never past the poll timeout;
 * not while terminating (drain). A fixed spin_ns polls the fds too. The first poll of the fds
 * is spin.h's inline first look, before any clock read: fds found ready at once teach a zero
 * gap, so a loop whose peers answer within the iteration pays neither a call nor a clock
 * read for its spin; the timed spin here starts only after that look missed. The adaptive
 * I/O spin also stops after EVL__IO_SPIN_MAX_POLLS polls: a peer thread that needs the loop's CPU
 * to answer (on a busy machine, or pinned there) is held up by every microsecond of spin, and
 * unlike a producer's task no stamp tells the loop where the fd's writer runs.
 */
#include "loop/spin.h"

#include "core/metrics/metrics_internal.h"

#include <stdatomic.h>

/* The adaptive spin's bounds (see spin_budget). */
#define EVL__SPIN_CAP_NS      20000u
#define EVL__SPIN_MIN_NS      2000u
#define EVL__SPIN_BACKOFF_MAX 64u
#define EVL__SPIN_BATCH       1024u /* a streaming producer's batch */
#define EVL__SPIN_BATCH_NS    5000u /* ... or this long */
/* The I/O spin's bounds (see io_spin_budget). Its gaps are measured to when the fd
 * callbacks began, scheduler wake-up latency included, hence the wider bounds. */
#define EVL__IO_SPIN_CAP_NS 50000u
/* ... and at most this many polls of the fds (the inline first look included): each is a
 * system call, and a peer that answers on the loop's own CPU can run only once the loop
 * sleeps, so a long spin only delays it. */
#define EVL__IO_SPIN_MAX_POLLS 8 /* ... for 2 x the average + EVL__SPIN_MIN_NS, at most */

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
    if (loop->spin.spin_est > EVL__SPIN_CAP_NS / 2) {
        return 0;
    }
    if (loop->spin.spin_skip) {
        loop->spin.spin_skip--; /* backing off after spins that found nothing */
        return 0;
    }
    int cpu = atomic_load_explicit(&loop->wake_cpu, memory_order_relaxed);
    /* cppcheck-suppress incorrectLogicOperator ; it sees only the non-Linux -1 */
    if (cpu >= 0 && evl__current_cpu() == cpu) {
        return 0; /* the producer shares our CPU: spinning would only keep it off */
    }
    uint64_t b = 2 * (uint64_t)loop->spin.spin_est + EVL__SPIN_MIN_NS;
    return b < EVL__SPIN_CAP_NS ? b : EVL__SPIN_CAP_NS;
}

/* How long to poll the fds (without blocking) before this sleep, in ns (0: do not). A
 * terminating loop (drain) does not: it waits only for tasks and in-flight work. */
static uint64_t io_spin_budget(struct evl_loop *loop, int drain)
{
    if (!evl__io_active(&loop->io) || drain || loop->spin_ns == EVL_SPIN_OFF) {
        return 0;
    }
    if (loop->spin_ns != 0) {
        return loop->spin_ns;
    }
    if (loop->spin.io_est > EVL__IO_SPIN_EST_MAX_NS) {
        return 0;
    }
    if (loop->spin.io_skip) {
        loop->spin.io_skip--;
        return 0;
    }
    uint64_t b = 2 * (uint64_t)loop->spin.io_est + EVL__SPIN_MIN_NS;
    return b < EVL__IO_SPIN_CAP_NS ? b : EVL__IO_SPIN_CAP_NS;
}

/* Nonzero if a producer published something (tasks, timer messages) or asked to stop; reads
 * the producers' lines without writing them. */
static int spin_found(struct evl_loop *loop)
{
    return evl__submitq_pending(loop) || atomic_load_explicit(&loop->stop, memory_order_relaxed);
}

/* Slots published and not yet taken, over the lanes in use (a hint; reads only). */
static uint32_t lanes_backlog(struct evl_loop *loop)
{
    return evl__submitq_scan(&loop->q, 1);
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
 * poll_io, polling the fds without blocking (which runs their callbacks) at most max_polls
 * times, after which it watches the tasks alone up to task_limit; looked: the fds were just
 * polled (one of the polls), so the first round only looks at the tasks. Returns what ended
 * the spin; *seen is when (for fds: when their callbacks began). SPIN_STOP: the loop was
 * stopped or is terminating (no lesson). */
static enum spin_result spin_for_work(struct evl_loop *loop, int64_t timeout, uint64_t limit,
                                      uint64_t task_limit, uint64_t start, int poll_io,
                                      uint32_t max_polls, int looked, uint64_t *seen)
{
    if (timeout >= 0 && (uint64_t)timeout < limit) {
        limit = (uint64_t)timeout;
    }
    if (timeout >= 0 && (uint64_t)timeout < task_limit) {
        task_limit = (uint64_t)timeout;
    }
    uint32_t polls = (uint32_t)looked;
    for (;; looked = 0) {
        if (evl__loop_interrupted(loop)) {
            return SPIN_STOP;
        }
        if (spin_found(loop)) {
            *seen = evl__monotonic_ns();
            /* A quick first look: a lone request after an idle spell goes almost at once. */
            spin_let_batch_grow(loop, *seen, 4);
            return SPIN_TASK;
        }
        if (poll_io && !looked && polls++ == max_polls) {
            poll_io = 0; /* enough polls: the tasks alone, for what is left of their spin */
            limit = task_limit;
        }
        if (poll_io && !looked) {
            /* A system call between two looks at the lanes already spaces them: no pauses.
             * Callbacks that ran end the spin and this poll phase, so a registration still
             * gets at most one callback per iteration. */
            int n = evl__io_wait(loop, &loop->io, 0);
            if (n > 0) {
                *seen = evl__io_ready_ns(&loop->io);
                return SPIN_IO;
            }
            if (n < 0) {
                return SPIN_MISS; /* the blocking wait that follows reports the error */
            }
        } else if (!poll_io) {
            /* Look at the lanes only every few pauses: each look at a lane the producer
             * wrote since costs the producer a cache miss on its next submit. */
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
 * The fast path: while the adaptive spin is engaged (recent gaps short enough to spin for
 * them: spin_est for tasks, io_est for fds), the loop catches work without sleeping in the
 * poller. Each switch is logged (debug, "loop" "fastpath") and counted in the metrics.
 * Back-off after a miss is not a switch: it skips a few episodes while the average still
 * says gaps are short. A fixed spin_ns or EVL_SPIN_OFF never switches.
 */
static unsigned fast_mode(const struct evl__spin *s)
{
    return (s->spin_est <= EVL__SPIN_CAP_NS / 2 ? 1u : 0u) |
           (s->io_est <= EVL__IO_SPIN_EST_MAX_NS ? 2u : 0u);
}

EVL__NOINLINE static void fast_switch(struct evl_loop *loop, unsigned now)
{
    struct evl__spin *s = &loop->spin;
    unsigned diff = now ^ s->fast;
    s->fast = now;
    for (unsigned bit = 1; bit <= 2; bit <<= 1) {
        if (!(diff & bit)) {
            continue;
        }
        int enter = (now & bit) != 0;
        uint32_t est = bit == 1 ? s->spin_est : s->io_est;
        evl__metrics_fastpath(loop, enter);
        EVL_LOG_EVENT(loop, EVL_LOG_DEBUG, "loop", "fastpath", NULL,
                      EVL_LF_STR("direction", enter ? "enter" : "leave"),
                      EVL_LF_STR("path", bit == 1 ? "task" : "io"),
                      EVL_LF_STR("reason", enter ? "short_gaps" : "long_gaps"),
                      EVL_LF_DURATION("gap", est),
                      EVL_LF_DURATION("threshold",
                                      bit == 1 ? EVL__SPIN_CAP_NS / 2 : EVL__IO_SPIN_EST_MAX_NS));
    }
}

/* After an episode taught the averages: a switch of the fast path? (adaptive spin only) */
static inline void fast_note(struct evl_loop *loop)
{
    unsigned now = fast_mode(&loop->spin);
    if (__builtin_expect(now != loop->spin.fast, 0) && loop->spin_ns == 0) {
        fast_switch(loop, now);
    }
}

void evl__spin_init(struct evl__spin *s)
{
    /* No history: an idle loop never spins. */
    s->spin_est = EVL__SPIN_LONG_NS;
    s->io_est = EVL__SPIN_LONG_NS;
}

void evl__spin_batch_wait(struct evl_loop *loop)
{
    uint32_t backlog = lanes_backlog(loop);
    if (backlog != 0 && backlog < EVL__SPIN_BATCH) {
        spin_let_batch_grow(loop, evl__monotonic_ns(), 16);
    }
}

int evl__spin_idle(struct evl_loop *loop, int64_t *timeout_ns, int drain, int looked,
                   struct evl__spin_episode *ep)
{
    /* After a first look that missed, the gap is counted from here (a zero gap otherwise);
     * the fds it polled had no callback to stamp. */
    uint64_t idle_start = evl__monotonic_ns();
    ep->idle_start = idle_start;
    ep->io_learns = loop->spin_ns == 0 && evl__io_active(&loop->io) && !drain;
    if (ep->io_learns) {
        evl__io_stamp_next(&loop->io); /* io_wait stamps when its first callback begins */
    }
    uint64_t task_budget = spin_budget(loop);
    uint64_t io_budget = io_spin_budget(loop, drain);
    uint64_t budget = task_budget > io_budget ? task_budget : io_budget;
    if (!budget) {
        return 0;
    }
    struct evl__spin *s = &loop->spin;
    if (io_budget) {
        s->io_spins++;
    } else {
        s->task_spins++;
    }
    uint64_t seen = 0;
    uint32_t max_polls = loop->spin_ns == 0 ? EVL__IO_SPIN_MAX_POLLS : UINT32_MAX;
    enum spin_result r = spin_for_work(loop, *timeout_ns, budget, task_budget, idle_start,
                                       io_budget != 0, max_polls, looked, &seen);
    if (r == SPIN_IO) {
        s->io_spin_hits++;
        s->io_backoff = 0;
        if (ep->io_learns && seen >= idle_start) {
            evl__spin_learn(&s->io_est, seen - idle_start);
        }
        evl__spin_learn(&s->spin_est, EVL__SPIN_LONG_NS);
        fast_note(loop);
        return 1;
    }
    if (r == SPIN_STOP) {
        *timeout_ns = 0; /* the caller sees why */
        ep->idle_start = 0;
    } else if (r == SPIN_TASK) {
        s->task_hits++;
        s->spin_backoff = 0;
        evl__spin_learn(&s->spin_est, seen - idle_start);
        if (ep->io_learns) {
            evl__spin_learn(&s->io_est, EVL__SPIN_LONG_NS);
        }
        *timeout_ns = 0;
        ep->idle_start = 0;
        fast_note(loop);
    } else if (loop->spin_ns == 0) {
        /* A miss: each spin that was asked for backs off. */
        if (task_budget) {
            spin_back_off(&s->spin_skip, &s->spin_backoff);
        }
        if (io_budget) {
            spin_back_off(&s->io_skip, &s->io_backoff);
        }
    }
    return 0;
}

void evl__spin_learn_episode(struct evl_loop *loop, const struct evl__spin_episode *ep, int slept,
                             int called)
{
    uint64_t idle_start = ep->idle_start;
    /* The gap this idle episode measured: until the waking producer's stamp, or until now
     * if the check before sleeping found work; anything else counts as long. */
    uint64_t gap = slept ? EVL__SPIN_LONG_NS : evl__monotonic_ns() - idle_start;
    if (atomic_load_explicit(&loop->wake_pending, memory_order_relaxed)) {
        uint64_t w = atomic_load_explicit(&loop->wake_ns, memory_order_relaxed);
        if (w >= idle_start && w - idle_start < gap) {
            gap = w - idle_start; /* when the task came, not when the loop saw it */
        }
    }
    evl__spin_learn(&loop->spin.spin_est, gap);
    if (ep->io_learns) {
        /* Until the fd callbacks began (wake-up latency included), or long if the episode
         * ended any other way (timeout, task, nothing). */
        uint64_t io_gap = EVL__SPIN_LONG_NS;
        uint64_t ready = evl__io_ready_ns(&loop->io);
        if (called > 0 && ready >= idle_start) {
            io_gap = ready - idle_start;
        }
        evl__spin_learn(&loop->spin.io_est, io_gap);
    }
    fast_note(loop);
}

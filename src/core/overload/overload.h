/*
 * Overload controls (src/core/overload.c): the submit queue's bound and its waiting
 * producers, token buckets (per loop and per producer group), the counters of every refusal
 * and the rate-limited warning that reports them. Private to libevl.
 *
 * Only loops whose options ask for a bound or a rate get this state (loop->ovl); the
 * submit fast path never reads it: a bound is charged in batches by the full path (the lane
 * keeps the surplus as credit), and a rate marks every lane EVL__ADMIT_GATED, which sends
 * producers to the full path (see src/core/submit/submit.c).
 */
#ifndef EVL_CORE_OVERLOAD_H
#define EVL_CORE_OVERLOAD_H

#include "evl/loop.h"
#include "evl/overload.h"

#include "base/compiler.h"
#include "core/submit/submit.h"

#include <pthread.h>

/* Batch budgets of the check and poll phases, and the sandbox limits (options): struct
 * evl_loop's member `budgets`. Read-only after evl_loop_new except the counters. */
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

/* A sandbox limit (0: none), for the subsystem that counts what it limits. */
static inline uint32_t evl__budget_limit(const struct evl__budgets *b, enum evl__limit_kind kind)
{
    return b->limit[kind];
}

/* Counts and logs (rate-limited warn) a refusal by a sandbox limit; returns EVL_ELIMIT.
 * Thread-safe. */
/* The immediates' and the fd callbacks' per-iteration budgets: counts (UINT32_MAX: no bound)
 * and times (UINT64_MAX: no bound). */
static inline uint32_t evl__budget_max_imm(const struct evl__budgets *b)
{
    return b->max_imm;
}
static inline uint64_t evl__budget_max_imm_ns(const struct evl__budgets *b)
{
    return b->max_imm_ns;
}
static inline uint32_t evl__budget_max_io(const struct evl__budgets *b)
{
    return b->max_io;
}
static inline uint64_t evl__budget_max_io_ns(const struct evl__budgets *b)
{
    return b->max_io_ns;
}

int evl__loop_limit_hit(struct evl_loop *loop, enum evl__limit_kind kind);

/*
 * A token bucket kept as a generic cell rate algorithm: one word, the theoretical arrival
 * time of the next token (tat), changed by compare-and-swap, so producers never lock. Times
 * are in 1/64 ns since base (loop clock), so a rate up to 10^8 per second stays within
 * 1% of the asked-for interval.
 */
struct evl__bucket {
    _Atomic uint64_t tat;
    uint64_t interval;  /* ticks per token */
    uint64_t tolerance; /* (burst - 1) x interval */
    uint64_t base;      /* loop-clock ns of tick 0 */
};

/* Ticks of a bucket per ns. */
#define EVL__BUCKET_TICKS 64u

/* 0 and a token taken, or EVL_EAGAIN with *retry_ns (until the next token). Thread-safe. */
int evl__bucket_take(struct evl__bucket *b, uint64_t now_ns, uint64_t *retry_ns);
/* Gives back a token taken by evl__bucket_take (the other bucket refused). */
void evl__bucket_refund(struct evl__bucket *b);
void evl__bucket_init(struct evl__bucket *b, double rate, uint32_t burst, uint64_t now_ns);

/* Per lane: the slots charged to the bound (queued, plus the lane's unused credit; see
 * src/core/submit/submit.c), raised by the lane's producer and lowered by the loop, on a line
 * of its own. */
struct evl__ovl_lane {
    alignas(EVL__PAIR) _Atomic uint32_t count;
};

/* A producer waiting for space in evl_loop_submit_wait: waiters are served in arrival order. */
struct evl__waiter {
    struct evl__waiter *next;
};

/* Padding is deliberate: producer-written lines are kept apart. */
struct evl__overload { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    struct evl__ovl_lane lane[EVL__LANES];
    /* Slots held beyond the lanes' reserves, against shared_cap. */
    alignas(EVL__PAIR) _Atomic uint32_t shared;
    _Atomic uint32_t waiters; /* producers in the waiters' queue */
    uint32_t limit;           /* the bound in slots; 0: none */
    uint32_t reserve;         /* slots each lane may always hold (fairness) */
    uint32_t shared_cap;      /* limit - EVL__LANES x reserve */
    uint32_t batch;           /* slots a producer charges beyond its need (its credit) */
    int has_rate;
    struct evl__bucket rate;
    pthread_mutex_t mu; /* waiting producers only; the loop takes it only if there are any */
    pthread_cond_t cv;
    struct evl__waiter *wq_head; /* the waiters' queue (under mu) */
    struct evl__waiter *wq_tail;
    /* Counters (evl_loop_overload_stats). */
    alignas(EVL__PAIR) _Atomic uint64_t refused_full;
    _Atomic uint64_t refused_rate;
    _Atomic uint64_t refused_closed;
    _Atomic uint64_t waits;
    _Atomic uint64_t wait_timeouts;
    /* The warning's own rate limit (see evl__overload_warn). */
    _Atomic uint64_t warn_next_ns;
    _Atomic uint64_t warn_suppressed;
    /* Queue pressure: the shared pool crossed pressure_mark (3/4 of shared_cap). */
    uint32_t pressure_mark;
    _Atomic uint64_t pressure_total;
    _Atomic uint64_t pressure_next_ns;
    _Atomic uint64_t pressure_suppressed;
    void *raw; /* the allocation holding this aligned struct */
};

/*
 * A batch budget: at most max callbacks and limit_ns of callback time in one run of a phase
 * (tasks, immediates, fd callbacks). The clock is read only at checks: the first after 64
 * callbacks, or, when lateness matters (timers pending, a shutdown deadline), at the start
 * and after the first callback. Each check stops the run when the time is spent or when the
 * average callback so far would overrun it, and otherwise schedules the next check as far
 * ahead as the average allows (at most 64 callbacks). So uniform callbacks never overrun
 * the budget, and a due timer waits at most one budget behind a flood of them.
 */
struct evl__budget {
    uint64_t start;
    uint64_t limit_ns; /* UINT64_MAX: no time bound */
    uint32_t max;      /* UINT32_MAX: no count bound */
    uint32_t done;
    uint32_t next_check;
    int have_start;
};

/* Starts a run. precise: read the clock now (lateness matters). */
void evl__budget_begin(struct evl_loop *loop, struct evl__budget *b, uint32_t max,
                       uint64_t limit_ns, int precise);
/* The check (out of line): nonzero when the run must end. */
int evl__budget_check(struct evl_loop *loop, struct evl__budget *b);

/* Callbacks that may run before the next check (at least 1 while the budget lasts). */
static inline uint32_t evl__budget_room(const struct evl__budget *b)
{
    uint32_t end = b->next_check < b->max ? b->next_check : b->max;
    return end > b->done ? end - b->done : 1;
}

/* After n more callbacks ran: nonzero when the run must end. */
static inline int evl__budget_spent(struct evl_loop *loop, struct evl__budget *b, uint32_t n)
{
    b->done += n;
    if (b->done < b->next_check && b->done < b->max) {
        return 0;
    }
    return evl__budget_check(loop, b);
}

/* Nonzero when lateness matters in this iteration: timers wait, or a shutdown deadline. */
int evl__budget_precise(struct evl_loop *loop);

/* Creates loop->ovl if the options ask for a bound or a rate (else leaves it NULL) and gates
 * the lanes. Returns 0, EVL_EINVAL (bad values) or EVL_ENOMEM. evl_loop_new only. */
int evl__overload_init(struct evl_loop *loop, const struct evl_loop_options *o);
void evl__overload_deinit(struct evl_loop *loop);
/* Copies the batch budgets and sandbox limits of the options (defaults for 0). */
void evl__budgets_init(struct evl_loop *loop, const struct evl_loop_options *o);

/* The loop-wide bucket, before a producer's push (thread-safe): 0 or EVL_EAGAIN. */
int evl__overload_rate_admit(struct evl_loop *loop);
/* Charges at least need slots to lane li (under the lane's exclusion), and up to `batch`
 * more if there is room; returns the slots charged, or 0 (nothing charged) when need does not
 * fit. force (the library's own completions): need is always charged. */
uint32_t evl__overload_charge(struct evl_loop *loop, unsigned li, uint32_t need, int force);
/* The loop consumed (ran or discarded) n slots of lane li: frees them and wakes waiting
 * producers if there are any. Loop thread. */
void evl__overload_release(struct evl_loop *loop, unsigned li, uint32_t n);
/* The waiters' queue of evl_loop_submit_wait. enter: joins the queue (at its end) and holds
 * the queue's lock; turn: waits (the lock released meanwhile) until w is first in line and n
 * slots of lane li could be admitted: 0 (try the push now, still first and holding the lock),
 * EVL_ETIMEDOUT (monotonic time until passed) or EVL_ECLOSED; leave: leaves the queue, lets
 * the next waiter try and releases the lock. */
void evl__overload_wait_enter(struct evl_loop *loop, struct evl__waiter *w);
int evl__overload_wait_turn(struct evl_loop *loop, struct evl__waiter *w, unsigned li, uint32_t n,
                            uint64_t until);
void evl__overload_wait_leave(struct evl_loop *loop, struct evl__waiter *w);
/* Wakes every waiting producer (admission closed). Thread-safe. */
void evl__overload_wake_all(struct evl_loop *loop);
/* Counts a refused external submission (EVL_EAGAIN, EVL_ETIMEDOUT, EVL_ECLOSED) and logs
 * the rate-limited warning. Thread-safe. */
void evl__overload_refused(struct evl_loop *loop, int rc);

/* What a refusal or pressure record says (the fields of its log event). */
struct evl__overload_event {
    const char *event;  /* "refused" or "queue_pressure" */
    const char *queue;  /* "submit", "timers", "immediates", "fds", "pool", "microtasks" */
    const char *reason; /* "bound", "rate", "group_rate", "limit", "high_water" */
    uint64_t limit;     /* the bound that refused (slots, count), 0 for a rate */
    uint64_t depth;     /* the queue's depth when known, else 0 */
};

/*
 * The rate-limited warning every refusal and pressure path logs through: at most one record
 * per second per counter pair, so a storm of refusals cannot flood the sinks; the records it
 * held back are counted into the next one (field "suppressed"). what is the message
 * ("submit refused: queue bound reached"). Component "overload", level warn. Thread-safe.
 */
void evl__overload_warn(struct evl_loop *loop, _Atomic uint64_t *next_ns,
                        _Atomic uint64_t *suppressed, const struct evl__overload_event *ev,
                        const char *what, uint64_t total);

#endif

/*
 * Overload controls (src/core/overload.c): the submit queue's bound and its waiting
 * producers, token buckets (per loop and per producer group), the counters of every refusal
 * and the rate-limited warning that reports them. Private to libevl.
 *
 * Only loops whose options ask for a bound or a rate get this state (loop->ovl); the
 * submit fast paths never read it: evl__overload_init marks every lane EVL__ADMIT_GATED,
 * which sends producers to submit() (see submit.c).
 */
#ifndef EVL_CORE_OVERLOAD_H
#define EVL_CORE_OVERLOAD_H

#include "core/loop_internal.h"

#include <pthread.h>

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

/* Per lane: the slots its producers have queued (producers add under the lane lock, the
 * loop subtracts what it consumed), on a line of its own. */
struct evl__ovl_lane {
    alignas(EVL__PAIR) _Atomic uint32_t count;
};

/* Padding is deliberate: producer-written lines are kept apart. */
struct evl__overload { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    struct evl__ovl_lane lane[EVL__LANES];
    /* Slots held beyond the lanes' reserves, against shared_cap. */
    alignas(EVL__PAIR) _Atomic uint32_t shared;
    _Atomic uint32_t waiters; /* producers inside evl_loop_submit_wait's wait */
    uint32_t limit;           /* the bound in slots; 0: none */
    uint32_t reserve;         /* slots each lane may always hold (fairness) */
    uint32_t shared_cap;      /* limit - EVL__LANES x reserve */
    int has_rate;
    struct evl__bucket rate;
    pthread_mutex_t mu; /* waiting producers only; the loop takes it only if there are any */
    pthread_cond_t cv;
    /* Counters (evl_loop_overload_stats). */
    alignas(EVL__PAIR) _Atomic uint64_t refused_full;
    _Atomic uint64_t refused_rate;
    _Atomic uint64_t refused_closed;
    _Atomic uint64_t waits;
    _Atomic uint64_t wait_timeouts;
    /* The warning's own rate limit (see evl__overload_warn). */
    _Atomic uint64_t warn_next_ns;
    _Atomic uint64_t warn_suppressed;
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
/* Counts n slots on lane li against the bound, under that lane's lock: 0, or EVL_EAGAIN
 * (nothing counted). force (the library's own completions): always counted. */
int evl__overload_charge(struct evl_loop *loop, unsigned li, uint32_t n, int force);
/* Takes back a charge whose push failed (under the lane lock, or after it). */
void evl__overload_uncharge(struct evl_loop *loop, unsigned li, uint32_t n);
/* The loop consumed (ran or discarded) n slots of lane li: frees them and wakes waiting
 * producers if there are any. Loop thread. */
void evl__overload_release(struct evl_loop *loop, unsigned li, uint32_t n);
/* Waits (not under any lock) until n slots of lane li could be admitted, admission closed,
 * or the monotonic time until: 0 (try again), EVL_ETIMEDOUT or EVL_ECLOSED. */
int evl__overload_wait(struct evl_loop *loop, unsigned li, uint32_t n, uint64_t until);
/* Wakes every waiting producer (admission closed). Thread-safe. */
void evl__overload_wake_all(struct evl_loop *loop);
/* Counts a refused external submission (EVL_EAGAIN, EVL_ETIMEDOUT, EVL_ECLOSED) and logs
 * the rate-limited warning. Thread-safe. */
void evl__overload_refused(struct evl_loop *loop, int rc);

/*
 * The rate-limited warning every refusal path logs through: at most one record per second
 * per loop; the records it held back are counted into the next one. what names the limit
 * ("submit queue full"). Thread-safe.
 */
void evl__overload_warn(struct evl_loop *loop, _Atomic uint64_t *next_ns,
                        _Atomic uint64_t *suppressed, const char *what, uint64_t total);

#endif

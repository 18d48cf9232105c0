/*
 * Timer runs. Most timers are armed in deadline order within their delay: with a monotonic
 * clock, each setTimeout(f, 10) is due after the one before it. Such a timer is appended in
 * O(1) to the run of its period (periods below EVL__TIMER_RUNS ms have a run each, longer ones
 * share runs by hash) instead of entering the timer heap, and firing it is an O(1) pop plus a
 * sift in the small binary heap of runs, which orders them by their fronts. A timer that
 * would not sort last in its run goes to the timer heap instead (evl__timer_runs_fits). This is
 * the shape of Node's per-duration timer lists, kept in the pooled records.
 *
 * A run links its records through `pos` from head to tail. Its front is always a live timer:
 * a cleared member is only marked (lazy deletion) unless it is the front, and is freed when it
 * reaches the front; a run is compacted when more than half of it is cancelled, so memory
 * stays bounded. The front's (deadline, seq) is kept in the run so that ordering the runs
 * reads no record.
 */
#ifndef EVL_CONTAINER_TIMER_RUNS_H
#define EVL_CONTAINER_TIMER_RUNS_H

#include "container/timer_pool.h"

#define EVL__TIMER_RUNS 128

struct evl__timer_run {
    uint64_t front_deadline;
    uint64_t tail_deadline; /* an arming timer compares with it: no read of the tail record */
    uint32_t front_seq;
    uint32_t head;
    uint32_t tail;
    uint32_t len;       /* records linked, cancelled ones included */
    uint32_t cancelled; /* cancelled records still linked */
    uint32_t hpos;      /* index in heap while non-empty */
};

struct evl__timer_runs {
    struct evl__timer_run run[EVL__TIMER_RUNS];
    uint8_t heap[EVL__TIMER_RUNS]; /* the non-empty runs, a binary heap ordered by fronts */
    uint32_t heap_len;
};

void evl__timer_runs_init(struct evl__timer_runs *rs);

/* The run of a period. */
static inline uint32_t evl__timer_run_of(uint64_t period)
{
    if (period < EVL__TIMER_RUNS) {
        return (uint32_t)period;
    }
    /* Fibonacci hashing down to log2(EVL__TIMER_RUNS) = 7 bits. */
    return (uint32_t)((period * UINT64_C(0x9E3779B97F4A7C15)) >> 57);
}

static inline uint32_t evl__timer_run_of_rec(const struct evl__timer *recs, uint32_t idx)
{
    return evl__timer_run_of(evl__timer_period(recs[idx].meta));
}

static inline int evl__timer_runs_any(const struct evl__timer_runs *rs)
{
    return rs->heap_len != 0;
}

/* The front record of the earliest run, or EVL__TIMER_NONE. */
static inline uint32_t evl__timer_runs_first(const struct evl__timer_runs *rs)
{
    return rs->heap_len ? rs->run[rs->heap[0]].head : EVL__TIMER_NONE;
}

/* Whether record idx (deadline and seq set, seq the newest issued) sorts last in its run ri,
 * so that evl__timer_runs_append may take it. */
static inline int evl__timer_runs_fits(const struct evl__timer_runs *rs,
                                       const struct evl__timer *recs, uint32_t ri, uint32_t idx)
{
    const struct evl__timer_run *run = &rs->run[ri];
    return run->tail == EVL__TIMER_NONE || recs[idx].deadline >= run->tail_deadline;
}

/* Links record idx at the end of its run ri (it fits); a run that was empty joins the heap. */
void evl__timer_runs_append(struct evl__timer_runs *rs, struct evl__timer_pool *p, uint32_t ri,
                            uint32_t idx);

/* Unlinks the front of run ri (a live record, which the caller owns from now on), and frees
 * the cancelled records that then lead the run. Returns the run's new front, or
 * EVL__TIMER_NONE. */
uint32_t evl__timer_runs_pop_front(struct evl__timer_runs *rs, struct evl__timer_pool *p,
                                   uint32_t ri);

/* Unlinks every cancelled record of run ri (freeing them) and also `drop` (a live member, or
 * EVL__TIMER_NONE), in one pass. O(run). */
void evl__timer_runs_compact(struct evl__timer_runs *rs, struct evl__timer_pool *p, uint32_t ri,
                             uint32_t drop);

/* Takes record idx, a pending run member, out of its run: at once if it is the front (and
 * frees it), else by marking it (freed when it reaches the front or at compaction). */
static inline void evl__timer_runs_cancel(struct evl__timer_runs *rs, struct evl__timer_pool *p,
                                          uint32_t idx)
{
    uint32_t ri = evl__timer_run_of_rec(p->recs, idx);
    struct evl__timer_run *run = &rs->run[ri];
    if (run->head == idx) {
        evl__timer_runs_pop_front(rs, p, ri);
        evl__timer_pool_put(p, idx);
        return;
    }
    p->recs[idx].meta |= EVL__TIMER_CANCELLED;
    run->cancelled++;
    if (run->cancelled > 64 && run->cancelled * 2 > run->len) {
        evl__timer_runs_compact(rs, p, ri, EVL__TIMER_NONE);
    }
}

/* The invariant walk: 0 if the runs over recs (nrecs records) are consistent, else the number
 * of the first rule broken (see timer_runs.c). O(records linked). */
int evl__timer_runs_check(const struct evl__timer_runs *rs, const struct evl__timer *recs,
                          uint32_t nrecs);

#endif

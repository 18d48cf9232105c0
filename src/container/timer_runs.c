/*
 * Timer runs (see timer_runs.h).
 */
#include "container/timer_runs.h"

#include <string.h>

_Static_assert(EVL__TIMER_RUNS == 128, "evl__timer_run_of and the uint8_t heap assume 128 runs");

void evl__timer_runs_init(struct evl__timer_runs *rs)
{
    memset(rs, 0, sizeof(*rs));
    for (uint32_t i = 0; i < EVL__TIMER_RUNS; i++) {
        rs->run[i].head = EVL__TIMER_NONE;
        rs->run[i].tail = EVL__TIMER_NONE;
    }
}

static inline int run_before(const struct evl__timer_runs *rs, uint32_t a, uint32_t b)
{
    const struct evl__timer_run *x = &rs->run[a];
    const struct evl__timer_run *y = &rs->run[b];
    if (x->front_deadline != y->front_deadline) {
        return x->front_deadline < y->front_deadline;
    }
    return (int32_t)(x->front_seq - y->front_seq) < 0;
}

/* Sifts run heap[i] up among its ancestors. */
static void heap_up_from(struct evl__timer_runs *rs, uint32_t i)
{
    uint8_t ri = rs->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        uint8_t p = rs->heap[parent];
        if (!run_before(rs, ri, p)) {
            break;
        }
        rs->heap[i] = p;
        rs->run[p].hpos = i;
        i = parent;
    }
    rs->heap[i] = ri;
    rs->run[ri].hpos = i;
}

/* Moves run heap[i] up to its place. The root (the first run to become non-empty, the
 * common case of a program with one delay) only records its position: that test is inline,
 * the sift out of line. */
static inline void heap_up(struct evl__timer_runs *rs, uint32_t i)
{
    if (i == 0) {
        rs->run[rs->heap[0]].hpos = 0;
    } else {
        heap_up_from(rs, i);
    }
}

/* Sifts run heap[i] down among its descendants. */
static void heap_down_from(struct evl__timer_runs *rs, uint32_t i)
{
    uint8_t ri = rs->heap[i];
    uint32_t n = rs->heap_len;
    for (;;) {
        uint32_t c = i * 2 + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && run_before(rs, rs->heap[c + 1], rs->heap[c])) {
            c++;
        }
        if (!run_before(rs, rs->heap[c], ri)) {
            break;
        }
        rs->heap[i] = rs->heap[c];
        rs->run[rs->heap[i]].hpos = i;
        i = c;
    }
    rs->heap[i] = ri;
    rs->run[ri].hpos = i;
}

/* Moves run heap[i] (at its hpos) down to its place. A run without children (a single run,
 * the common case of a program with one or two delays) is already there: that test is
 * inline, the sift out of line. */
static inline void heap_down(struct evl__timer_runs *rs, uint32_t i)
{
    if (i * 2 + 1 < rs->heap_len) {
        heap_down_from(rs, i);
    }
}

/* Fills heap slot i, left by a removed run, with the last run and sifts that into place. */
static void heap_refill(struct evl__timer_runs *rs, uint32_t i, uint32_t last)
{
    rs->heap[i] = rs->heap[last];
    rs->run[rs->heap[i]].hpos = i;
    heap_down(rs, i);
    heap_up(rs, i);
}

/* Drops the run at heap slot i. Removing the last slot (always so with a single run) moves
 * nothing: that test is inline, the refill out of line. */
static inline void heap_remove(struct evl__timer_runs *rs, uint32_t i)
{
    uint32_t last = --rs->heap_len;
    if (i != last) {
        heap_refill(rs, i, last);
    }
}

static inline void note_front(struct evl__timer_run *run, const struct evl__timer *recs)
{
    const struct evl__timer *r = &recs[run->head];
    run->front_deadline = r->deadline;
    run->front_seq = r->seq;
    /* Many runs take turns in the timer phase, so a front usually waits a while before it
     * fires: fetch the record that will follow it, so it is no cache miss by then. */
    if (r->pos != EVL__TIMER_NONE) {
        EVL__PREFETCH_W(&recs[r->pos]);
    }
}

void evl__timer_runs_append(struct evl__timer_runs *rs, struct evl__timer_pool *p, uint32_t ri,
                            uint32_t idx)
{
    struct evl__timer *recs = p->recs;
    struct evl__timer_run *run = &rs->run[ri];
    recs[idx].pos = EVL__TIMER_NONE;
    recs[idx].meta |= EVL__TIMER_IN_RUN;
    run->len++;
    run->tail_deadline = recs[idx].deadline;
    if (run->tail == EVL__TIMER_NONE) {
        run->head = idx;
        run->tail = idx;
        note_front(run, recs);
        rs->heap[rs->heap_len] = (uint8_t)ri;
        heap_up(rs, rs->heap_len++);
    } else {
        recs[run->tail].pos = idx;
        run->tail = idx;
    }
    EVL__CHECK_WALK(p->used, evl__timer_runs_check(rs, recs, p->used));
}

/* After the front of run ri was unlinked: frees the cancelled records that now lead it, then
 * re-sorts the run (its front only ever moves later) or drops it from the heap of runs. */
static uint32_t settle(struct evl__timer_runs *rs, struct evl__timer_pool *p, uint32_t ri)
{
    struct evl__timer_run *run = &rs->run[ri];
    struct evl__timer *recs = p->recs;
    while (run->head != EVL__TIMER_NONE && (recs[run->head].meta & EVL__TIMER_CANCELLED)) {
        uint32_t c = run->head;
        run->head = recs[c].pos;
        run->len--;
        run->cancelled--;
        recs[c].meta &= ~EVL__TIMER_IN_RUN;
        evl__timer_pool_put(p, c);
    }
    if (run->head == EVL__TIMER_NONE) {
        run->tail = EVL__TIMER_NONE;
        heap_remove(rs, run->hpos);
    } else {
        note_front(run, recs);
        heap_down(rs, run->hpos);
    }
    EVL__CHECK_WALK(p->used, evl__timer_runs_check(rs, recs, p->used));
    return run->head;
}

uint32_t evl__timer_runs_pop_front(struct evl__timer_runs *rs, struct evl__timer_pool *p,
                                   uint32_t ri)
{
    struct evl__timer_run *run = &rs->run[ri];
    uint32_t idx = run->head;
    run->head = p->recs[idx].pos;
    run->len--;
    p->recs[idx].meta &= ~EVL__TIMER_IN_RUN;
    return settle(rs, p, ri);
}

void evl__timer_runs_compact(struct evl__timer_runs *rs, struct evl__timer_pool *p, uint32_t ri,
                             uint32_t drop)
{
    struct evl__timer_run *run = &rs->run[ri];
    struct evl__timer *recs = p->recs;
    uint32_t idx = run->head;
    run->head = EVL__TIMER_NONE;
    run->tail = EVL__TIMER_NONE;
    run->len = 0;
    run->cancelled = 0;
    while (idx != EVL__TIMER_NONE) {
        uint32_t next = recs[idx].pos;
        if (recs[idx].meta & EVL__TIMER_CANCELLED) {
            recs[idx].meta &= ~EVL__TIMER_IN_RUN;
            evl__timer_pool_put(p, idx);
        } else if (idx == drop) {
            recs[idx].meta &= ~EVL__TIMER_IN_RUN;
        } else {
            if (run->tail == EVL__TIMER_NONE) {
                run->head = idx;
            } else {
                recs[run->tail].pos = idx;
            }
            recs[idx].pos = EVL__TIMER_NONE;
            run->tail = idx;
            run->tail_deadline = recs[idx].deadline;
            run->len++;
        }
        idx = next;
    }
    if (run->head == EVL__TIMER_NONE) {
        heap_remove(rs, run->hpos);
    } else {
        note_front(run, recs);
        heap_down(rs, run->hpos);
    }
    EVL__CHECK_WALK(p->used, evl__timer_runs_check(rs, recs, p->used));
}

/*
 * The rules, numbered as evl__timer_runs_check reports them:
 *   1. the heap of runs holds exactly the non-empty runs, each once, at its hpos;
 *   2. no run sorts before its parent in that heap;
 *   3. a run's links stay below nrecs, end at its tail, and number len, of which cancelled are
 *      marked cancelled; every member is marked as in a run and belongs to this run;
 *   4. members are in (deadline, seq) order, the front is live and matches front_deadline and
 *      front_seq, and tail_deadline is the tail's deadline.
 */
int evl__timer_runs_check(const struct evl__timer_runs *rs, const struct evl__timer *recs,
                          uint32_t nrecs)
{
    uint32_t nonempty = 0;
    for (uint32_t ri = 0; ri < EVL__TIMER_RUNS; ri++) {
        const struct evl__timer_run *run = &rs->run[ri];
        if (run->head == EVL__TIMER_NONE) {
            if (run->tail != EVL__TIMER_NONE || run->len != 0 || run->cancelled != 0) {
                return 3;
            }
            continue;
        }
        nonempty++;
        if (run->hpos >= rs->heap_len || rs->heap[run->hpos] != ri) {
            return 1;
        }
        uint32_t n = 0;
        uint32_t cancelled = 0;
        uint32_t last = EVL__TIMER_NONE;
        for (uint32_t i = run->head; i != EVL__TIMER_NONE; i = recs[i].pos) {
            if (i >= nrecs || ++n > run->len) {
                return 3;
            }
            const struct evl__timer *r = &recs[i];
            if (!(r->meta & EVL__TIMER_IN_RUN) || evl__timer_run_of_rec(recs, i) != ri) {
                return 3;
            }
            cancelled += (r->meta & EVL__TIMER_CANCELLED) != 0;
            if (last != EVL__TIMER_NONE && evl__timer_before(r, &recs[last])) {
                return 4;
            }
            last = i;
        }
        if (n != run->len || cancelled != run->cancelled || last != run->tail) {
            return 3;
        }
        const struct evl__timer *front = &recs[run->head];
        if ((front->meta & EVL__TIMER_CANCELLED) || front->deadline != run->front_deadline ||
            front->seq != run->front_seq || recs[last].deadline != run->tail_deadline) {
            return 4;
        }
    }
    if (nonempty != rs->heap_len) {
        return 1;
    }
    for (uint32_t i = 1; i < rs->heap_len; i++) {
        if (run_before(rs, rs->heap[i], rs->heap[(i - 1) / 2])) {
            return 2;
        }
    }
    return 0;
}

/* Timer runs (src/container/timer_runs.c), white-box over a pool of their own. */
#include "evl_test.h"

#include "container/timer_runs.h"

static void noop(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

struct fix {
    struct evl__timer_pool pool;
    struct evl__timer_runs runs;
    uint32_t seq;
};

static void fix_init(struct fix *f, uint32_t cap)
{
    evl__timer_pool_init(&f->pool);
    ASSERT_OK(evl__timer_pool_grow(&f->pool, NULL, cap));
    evl__timer_runs_init(&f->runs);
    f->seq = 0;
}

static void fix_done(struct fix *f)
{
    evl__timer_pool_deinit(&f->pool, NULL);
}

static int check(struct fix *f)
{
    return evl__timer_runs_check(&f->runs, f->pool.recs, f->pool.used);
}

/* A record of period ms due at deadline, appended to its run when it fits there; returns it,
 * or EVL__TIMER_NONE (given back to the pool) when it does not fit. */
static uint32_t arm(struct fix *f, uint64_t period, uint64_t deadline)
{
    uint32_t idx = evl__timer_pool_take(&f->pool);
    ASSERT_NE(idx, EVL__TIMER_NONE);
    struct evl__timer *r = &f->pool.recs[idx];
    r->id = idx + 1;
    r->cb = noop;
    r->meta = evl__timer_meta(period, 1, EVL__TIMER_REF);
    r->deadline = deadline;
    r->seq = f->seq++;
    uint32_t ri = evl__timer_run_of(period);
    if (!evl__timer_runs_fits(&f->runs, f->pool.recs, ri, idx)) {
        evl__timer_pool_put(&f->pool, idx);
        return EVL__TIMER_NONE;
    }
    evl__timer_runs_append(&f->runs, &f->pool, ri, idx);
    return idx;
}

/* Pops the earliest front, which must be idx. */
static void fire(struct fix *f, uint32_t idx)
{
    ASSERT_UEQ(evl__timer_runs_first(&f->runs), idx);
    (void)evl__timer_runs_pop_front(&f->runs, &f->pool, evl__timer_run_of_rec(f->pool.recs, idx));
    ASSERT_EQ(f->pool.recs[idx].meta & EVL__TIMER_IN_RUN, 0);
    evl__timer_pool_put(&f->pool, idx);
    ASSERT_EQ(check(f), 0);
}

TEST(timer_runs_fire_in_order_within_and_across_periods)
{
    struct fix f;
    fix_init(&f, 64);
    /* Three periods armed at 1 ms steps, interleaved: runs 10, 25 and (hashed) 1000. */
    uint32_t a0 = arm(&f, 10, 10), b0 = arm(&f, 25, 25), c0 = arm(&f, 1000, 1000);
    uint32_t a1 = arm(&f, 10, 11), b1 = arm(&f, 25, 26), a2 = arm(&f, 10, 26);
    ASSERT_EQ(check(&f), 0);
    ASSERT_UEQ(f.runs.heap_len, 3);
    ASSERT_TRUE(evl__timer_runs_any(&f.runs));
    fire(&f, a0);
    fire(&f, a1);
    fire(&f, b0);
    fire(&f, b1); /* equal deadlines: b1 was armed first */
    fire(&f, a2);
    fire(&f, c0);
    ASSERT_FALSE(evl__timer_runs_any(&f.runs));
    ASSERT_UEQ(evl__timer_runs_first(&f.runs), EVL__TIMER_NONE);
    fix_done(&f);
}

TEST(timer_runs_refuse_a_timer_that_would_not_sort_last)
{
    struct fix f;
    fix_init(&f, 8);
    ASSERT_NE(arm(&f, 10, 50), EVL__TIMER_NONE);
    ASSERT_UEQ(arm(&f, 10, 49), EVL__TIMER_NONE); /* earlier than the tail: the heap's */
    ASSERT_NE(arm(&f, 10, 50), EVL__TIMER_NONE);  /* equal: later seq, fits */
    ASSERT_EQ(check(&f), 0);
    fix_done(&f);
}

TEST(timer_runs_cancel_lazily_then_compact)
{
    struct fix f;
    fix_init(&f, 512);
    uint32_t ids[300];
    for (uint32_t i = 0; i < 300; i++) {
        ids[i] = arm(&f, 7, 1000 + i);
    }
    uint32_t ri = evl__timer_run_of(7);
    /* The front goes at once (and is freed); others are only marked. */
    evl__timer_runs_cancel(&f.runs, &f.pool, ids[0]);
    ASSERT_UEQ(f.runs.run[ri].head, ids[1]);
    ASSERT_UEQ(f.runs.run[ri].len, 299);
    evl__timer_runs_cancel(&f.runs, &f.pool, ids[5]);
    ASSERT_UEQ(f.runs.run[ri].cancelled, 1);
    ASSERT_UEQ(f.runs.run[ri].len, 299);
    ASSERT_EQ(check(&f), 0);
    /* Cancelled records reaching the front are freed with it. */
    for (uint32_t i = 1; i < 5; i++) {
        fire(&f, ids[i]);
    }
    ASSERT_UEQ(f.runs.run[ri].head, ids[6]);
    ASSERT_UEQ(f.runs.run[ri].cancelled, 0);
    /* Past 64 cancelled and half the run: compacted in one pass. */
    uint32_t live = f.runs.run[ri].len;
    uint32_t n = 0;
    for (uint32_t i = 7; i < 300 && f.runs.run[ri].len == live; i += 1) {
        evl__timer_runs_cancel(&f.runs, &f.pool, ids[i]);
        n++;
    }
    ASSERT_UEQ(f.runs.run[ri].cancelled, 0);
    ASSERT_UEQ(f.runs.run[ri].len, live - n);
    ASSERT_GT(n, 64);
    ASSERT_EQ(check(&f), 0);
    ASSERT_EQ(evl__timer_pool_check(&f.pool), 0);
    /* Compaction can also take out one live member (a refresh). */
    uint32_t last = f.runs.run[ri].tail;
    evl__timer_runs_compact(&f.runs, &f.pool, ri, last);
    ASSERT_EQ(f.pool.recs[last].meta & EVL__TIMER_IN_RUN, 0);
    ASSERT_NE(f.runs.run[ri].tail, last);
    ASSERT_EQ(check(&f), 0);
    fix_done(&f);
}

TEST(timer_runs_check_rejects_corruption)
{
    struct fix f;
    fix_init(&f, 16);
    uint32_t a = arm(&f, 3, 100), b = arm(&f, 3, 101), c = arm(&f, 4, 90);
    (void)c;
    ASSERT_EQ(check(&f), 0);
    uint32_t ri = evl__timer_run_of(3);
    /* 1: a run missing from the heap of runs. */
    f.runs.heap_len--;
    ASSERT_NE(check(&f), 0);
    f.runs.heap_len++;
    ASSERT_EQ(check(&f), 0);
    /* 2: the heap of runs out of order. */
    uint8_t t = f.runs.heap[0];
    f.runs.heap[0] = f.runs.heap[1];
    f.runs.heap[1] = t;
    f.runs.run[f.runs.heap[0]].hpos = 0;
    f.runs.run[f.runs.heap[1]].hpos = 1;
    ASSERT_EQ(check(&f), 2);
    t = f.runs.heap[0];
    f.runs.heap[0] = f.runs.heap[1];
    f.runs.heap[1] = t;
    f.runs.run[f.runs.heap[0]].hpos = 0;
    f.runs.run[f.runs.heap[1]].hpos = 1;
    ASSERT_EQ(check(&f), 0);
    /* 3: a wrong length. */
    f.runs.run[ri].len++;
    ASSERT_EQ(check(&f), 3);
    f.runs.run[ri].len--;
    /* 4: members out of order. */
    f.pool.recs[b].deadline = 99;
    f.runs.run[ri].tail_deadline = 99;
    ASSERT_EQ(check(&f), 4);
    f.pool.recs[b].deadline = 101;
    f.runs.run[ri].tail_deadline = 101;
    /* 4: a stale front. */
    f.runs.run[ri].front_deadline++;
    ASSERT_EQ(check(&f), 4);
    f.runs.run[ri].front_deadline--;
    ASSERT_EQ(check(&f), 0);
    (void)a;
    fix_done(&f);
}

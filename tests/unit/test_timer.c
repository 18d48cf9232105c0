/* Timers and immediates, on the fake clock (driven with RUN_NOWAIT after advancing). */
#include "evl_test.h"

#include <pthread.h>

struct fix {
    struct evl_test_clock clock;
    struct evl_loop *loop;
};

/* The ids of fired timers, in firing order (on_fire appends; fix_init empties it). */
#define MAXLOG 20000
static uint64_t fired[MAXLOG];
static size_t nfired;

static void fix_init(struct fix *f, enum evl_timer_clamp clamp, uint64_t first_id)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    f->clock.now_ns = 1000000000;
    o.clock = evl_test_clock_read;
    o.clock_ud = &f->clock;
    o.timer_clamp = clamp;
    o.first_id = first_id;
    ASSERT_OK(evl_loop_new(&f->loop, &o));
    nfired = 0;
}

static void fix_advance(struct fix *f, uint64_t ms)
{
    evl_test_clock_advance_ms(&f->clock, ms);
    (void)evl_loop_run(f->loop, EVL_RUN_NOWAIT);
}

static void on_fire(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)arg;
    if (nfired < MAXLOG) {
        fired[nfired++] = id;
    }
}

TEST(timer_fires_at_deadline_not_before)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 10, 0, &id));
    ASSERT_UEQ(id, 1);
    ASSERT_TRUE(evl_loop_alive(f.loop));
    fix_advance(&f, 9);
    ASSERT_UEQ(nfired, 0);
    fix_advance(&f, 1);
    ASSERT_UEQ(nfired, 1);
    ASSERT_UEQ(fired[0], id);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, id)); /* fired */
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, 12345));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(equal_deadlines_fire_fifo)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t ids[100];
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &ids[i]));
    }
    fix_advance(&f, 5);
    ASSERT_UEQ(nfired, 100);
    for (int i = 0; i < 100; i++) {
        ASSERT_UEQ(fired[i], ids[i]);
    }
    ASSERT_OK(evl_loop_free(f.loop));
}

/* A tiny deterministic PRNG so the test is reproducible. */
static uint64_t rng_state = 88172645463325252u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct model {
    uint64_t deadline;
    uint64_t id;
};

static int model_cmp(const void *a, const void *b)
{
    const struct model *x = a;
    const struct model *y = b;
    if (x->deadline != y->deadline) {
        return x->deadline < y->deadline ? -1 : 1;
    }
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Sorts the model by (deadline, id) and returns how many are live (cleared ones carry
 * deadline UINT64_MAX and sort last). */
static size_t model_sort_live(struct model *m, size_t n)
{
    qsort(m, n, sizeof(m[0]), model_cmp);
    size_t live = 0;
    while (live < n && m[live].deadline != UINT64_MAX) {
        live++;
    }
    return live;
}

/* Arms a timer of delay ms and records it in the model as due at base + delay. */
static void arm_modelled(struct fix *f, uint64_t delay, uint64_t base, uint64_t *id,
                         struct model *m)
{
    ASSERT_OK(evl_timer_set(f->loop, on_fire, NULL, delay, 0, id));
    m->deadline = base + delay;
    m->id = *id;
}

/* Clears every k-th of the n timers; the model drops them too (they sort last). */
static void clear_every(struct fix *f, const uint64_t *ids, struct model *m, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i += k) {
        ASSERT_OK(evl_timer_clear(f->loop, ids[i]));
        m[i].deadline = UINT64_MAX;
    }
}

/* Asserts that exactly the model's live timers fired, in its order, and nothing is left. */
static void expect_model_fired(struct fix *f, const struct model *m, size_t live)
{
    ASSERT_UEQ(nfired, live);
    for (size_t i = 0; i < live; i++) {
        ASSERT_UEQ(fired[i], m[i].id);
    }
    ASSERT_FALSE(evl_loop_alive(f->loop));
}

TEST(random_timers_match_sorted_model)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { N = 10000 };
    static struct model m[N];
    static uint64_t all_ids[N];
    for (int i = 0; i < N; i++) {
        uint64_t delay = rng() % 500;
        arm_modelled(&f, delay, 0, &all_ids[i], &m[i]);
    }
    clear_every(&f, all_ids, m, N, 7);
    size_t live = model_sort_live(m, N);
    for (int ms = 0; ms < 500; ms++) {
        fix_advance(&f, 1);
    }
    expect_model_fired(&f, m, live);
    ASSERT_OK(evl_loop_free(f.loop));
}

static int interval_runs;

static void interval_self_clear(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)arg;
    if (++interval_runs == 3) {
        ASSERT_OK(evl_timer_clear(loop, id));
    }
}

TEST(interval_self_clear)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    interval_runs = 0;
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, interval_self_clear, NULL, 10, 10, &id));
    for (int i = 0; i < 10; i++) {
        fix_advance(&f, 10);
    }
    ASSERT_EQ(interval_runs, 3);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, id));
    ASSERT_OK(evl_loop_free(f.loop));
}

static uint64_t sibling_id;
static int sibling_ran;

static void clear_sibling(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    ASSERT_OK(evl_timer_clear(loop, sibling_id));
}

static void sibling(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    sibling_ran = 1;
}

TEST(clear_sibling_due_in_same_phase)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    sibling_ran = 0;
    ASSERT_OK(evl_timer_set(f.loop, clear_sibling, NULL, 5, 0, NULL));
    ASSERT_OK(evl_timer_set(f.loop, sibling, NULL, 5, 0, &sibling_id));
    fix_advance(&f, 5);
    ASSERT_EQ(sibling_ran, 0);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

static int zero_runs;

static void reschedule_zero(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    zero_runs++;
    ASSERT_OK(evl_timer_set(loop, reschedule_zero, NULL, 0, 0, NULL));
}

TEST(timer_set_in_timer_phase_waits_for_next_phase)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    zero_runs = 0;
    ASSERT_OK(evl_timer_set(f.loop, reschedule_zero, NULL, 0, 0, NULL));
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(zero_runs, 1);
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(zero_runs, 2);
    ASSERT_OK(evl_loop_close(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(id_exhaustion)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, EVL_TIMER_ID_MAX - 1);
    uint64_t a, b, c = 0;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 1, 0, &a));
    ASSERT_OK(evl_immediate_set(f.loop, on_fire, NULL, &b));
    ASSERT_UEQ(a, EVL_TIMER_ID_MAX - 1);
    ASSERT_UEQ(b, EVL_TIMER_ID_MAX);
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(f.loop, on_fire, NULL, 1, 0, &c));
    ASSERT_ERR(EVL_ERANGE, evl_immediate_set(f.loop, on_fire, NULL, &c));
    ASSERT_UEQ(c, 0);
    ASSERT_OK(evl_timer_clear(f.loop, a));
    ASSERT_OK(evl_immediate_clear(f.loop, b));
    ASSERT_OK(evl_loop_free(f.loop));
}

static char imm_log[64];
static size_t imm_len;

static void imm_rec(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    imm_log[imm_len++] = (char)(uintptr_t)arg;
    imm_log[imm_len] = '\0';
}

static void imm_adds_imm(struct evl_loop *loop, uint64_t id, void *arg)
{
    imm_rec(loop, id, arg);
    ASSERT_OK(evl_immediate_set(loop, imm_rec, (void *)(uintptr_t)'c', NULL));
}

TEST(immediates_added_in_check_run_next_iteration)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    imm_len = 0;
    uint64_t idb;
    ASSERT_OK(evl_immediate_set(f.loop, imm_adds_imm, (void *)(uintptr_t)'a', NULL));
    ASSERT_OK(evl_immediate_set(f.loop, imm_rec, (void *)(uintptr_t)'b', &idb));
    ASSERT_OK(evl_immediate_set(f.loop, imm_rec, (void *)(uintptr_t)'x', NULL));
    ASSERT_OK(evl_immediate_clear(f.loop, idb));
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 1);
    ASSERT_STR_EQ(imm_log, "ax");
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(imm_log, "axc");
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(unref_timer_does_not_keep_loop_alive)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 100, 0, &id));
    ASSERT_EQ(evl_timer_has_ref(f.loop, id), 1);
    ASSERT_OK(evl_timer_unref(f.loop, id));
    ASSERT_EQ(evl_timer_has_ref(f.loop, id), 0);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_timer_ref(f.loop, id));
    ASSERT_TRUE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_timer_unref(f.loop, id));
    ASSERT_OK(evl_loop_run(f.loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(f.loop)); /* the unref'd timer is released */
}

/* Timers armed in deadline order take the sorted lane; clearing most of them (compaction),
 * refreshing one in the middle and mixing out-of-order timers keeps exact (deadline, seq)
 * order. */
TEST(sorted_lane_clear_refresh_and_mix)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { N = 1000 };
    static uint64_t ids[N];
    static struct model m[N];
    for (int i = 0; i < N; i++) {
        /* Clock advances 1 ms every 10 timers: deadlines nondecreasing (lane), plus every
         * 13th timer has a shorter delay (heap). */
        if (i % 10 == 0) {
            evl_test_clock_advance_ms(&f.clock, 1);
        }
        uint64_t delay = (i % 13 == 0) ? 5 : 200;
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, delay, 0, &ids[i]));
        m[i].deadline = f.clock.now_ns + delay * 1000000u;
        m[i].id = ids[i];
    }
    /* Clear 70% of them in a scattered order. */
    for (int k = 0; k < N; k++) {
        int i = (int)((k * 7919u) % N);
        if (i % 10 < 7) {
            ASSERT_OK(evl_timer_clear(f.loop, ids[i]));
            m[i].deadline = UINT64_MAX;
        }
    }
    /* Refresh one survivor in the middle of the lane: it moves to now + 200 ms. */
    int r = 508;
    ASSERT_TRUE(m[r].deadline != UINT64_MAX && r % 13 != 0);
    ASSERT_OK(evl_timer_refresh(f.loop, ids[r]));
    m[r].deadline = f.clock.now_ns + 200 * 1000000u;
    m[r].id = ids[r]; /* refreshed: ordered after everything armed before it */
    size_t nm = model_sort_live(m, N);
    /* A refreshed timer ties after earlier-armed equal deadlines: fix the model's order. */
    for (size_t i = 0; i + 1 < nm; i++) {
        if (m[i].id == ids[r] && m[i + 1].deadline == m[i].deadline) {
            struct model t = m[i];
            m[i] = m[i + 1];
            m[i + 1] = t;
        }
    }
    for (int ms = 0; ms < 400; ms++) {
        fix_advance(&f, 1);
    }
    expect_model_fired(&f, m, nm);
    ASSERT_OK(evl_loop_free(f.loop));
}

/* Heap keys span about 73 minutes past a base that the timer phase moves forward: deadlines
 * hours apart (saturated keys, equal keys compared through the records) and a clock that
 * runs past several rebases must still fire in (deadline, scheduling) order. */
TEST(far_deadlines_keep_order_across_key_rebases)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { N = 3000 };
    static struct model m[N];
    static uint64_t ids[N];
    for (int i = 0; i < N; i++) {
        /* 0 to 6.3 hours in 20-minute steps, plus 0-2 ms: many equal deadlines. */
        uint64_t delay = (rng() % 20) * 20 * 60000 + rng() % 3;
        arm_modelled(&f, delay, 0, &ids[i], &m[i]);
    }
    clear_every(&f, ids, m, N, 5);
    size_t live = model_sort_live(m, N);
    for (int step = 0; step < 400; step++) {
        fix_advance(&f, 60000); /* one minute per iteration */
    }
    expect_model_fired(&f, m, live);
    ASSERT_OK(evl_loop_free(f.loop));
}

static uint64_t refreshed_id;

static void refresh_sibling(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)arg;
    on_fire(loop, id, NULL);
    ASSERT_OK(evl_timer_refresh(loop, refreshed_id));
}

/* A due timer refreshed by an earlier callback of the same phase does not run in it: it
 * fires its full delay later. */
TEST(refresh_sibling_due_in_same_phase)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t first;
    ASSERT_OK(evl_timer_set(f.loop, refresh_sibling, NULL, 5, 0, &first));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &refreshed_id));
    fix_advance(&f, 5);
    ASSERT_UEQ(nfired, 1);
    ASSERT_UEQ(fired[0], first);
    fix_advance(&f, 4);
    ASSERT_UEQ(nfired, 1);
    fix_advance(&f, 1);
    ASSERT_UEQ(nfired, 2);
    ASSERT_UEQ(fired[1], refreshed_id);
    ASSERT_OK(evl_loop_free(f.loop));
}

static void stop_loop(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)arg;
    on_fire(loop, id, NULL);
    ASSERT_OK(evl_loop_stop(loop));
}

/* evl_loop_stop from a timer callback ends the phase; the other due timers stay armed and
 * run, in order, in the next run. */
TEST(stop_in_timer_phase_leaves_the_rest_armed)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t ids[4];
    ASSERT_OK(evl_timer_set(f.loop, stop_loop, NULL, 5, 0, &ids[0]));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &ids[1]));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 3, 0, &ids[2])); /* heap, not lane */
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &ids[3]));
    fix_advance(&f, 5);
    ASSERT_UEQ(nfired, 2);
    ASSERT_UEQ(fired[0], ids[2]);
    ASSERT_UEQ(fired[1], ids[0]);
    ASSERT_TRUE(evl_loop_alive(f.loop));
    (void)evl_loop_run(f.loop, EVL_RUN_NOWAIT);
    ASSERT_UEQ(nfired, 4);
    ASSERT_UEQ(fired[2], ids[1]);
    ASSERT_UEQ(fired[3], ids[3]);
    ASSERT_OK(evl_loop_free(f.loop));
}

/*
 * Ids are found through a direct-mapped table (id & mask) with an overflow hash for ids that
 * collide. Long-lived timers outlive many table-fulls of short ones, so every one of them is
 * pushed to the overflow table and found there for clear, ref queries and firing.
 */
TEST(colliding_ids_move_to_overflow_and_stay_found)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { LONG = 40, CHURN = 5000 };
    uint64_t longs[LONG];
    for (int i = 0; i < LONG; i++) {
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 1000 + (uint64_t)i, 0, &longs[i]));
        /* Churn between them: each set+clear takes a fresh id, so the next long-lived id
         * lands on an occupied slot again and again. */
        for (int k = 0; k < CHURN / LONG; k++) {
            uint64_t id;
            ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &id));
            ASSERT_OK(evl_timer_clear(f.loop, id));
            ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, id));
        }
    }
    /* 20 short timers pending now, their ids colliding with the long ones' slots. */
    uint64_t shorts[20];
    for (int i = 0; i < 20; i++) {
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 10, 0, &shorts[i]));
    }
    for (int i = 0; i < LONG; i++) {
        ASSERT_TRUE(evl_timer_has_ref(f.loop, longs[i]) == 1);
    }
    for (int i = 0; i < LONG; i += 2) {
        ASSERT_OK(evl_timer_clear(f.loop, longs[i]));
    }
    fix_advance(&f, 10);
    ASSERT_UEQ(nfired, 20);
    for (int i = 0; i < 20; i++) {
        ASSERT_UEQ(fired[i], shorts[i]);
    }
    fix_advance(&f, 1000 + LONG);
    ASSERT_UEQ(nfired, 20 + LONG / 2);
    for (int i = 0; i < LONG / 2; i++) {
        ASSERT_UEQ(fired[20 + i], longs[2 * i + 1]);
    }
    for (int i = 0; i < LONG; i++) {
        ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, longs[i]));
    }
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

/* A set whose id collides needs room in the overflow table; if that allocation fails the
 * set fails with EVL_ENOMEM and the timers already armed are untouched. */
TEST(overflow_growth_failure_fails_the_set_cleanly)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    uint64_t first;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 100, 0, &first));
    /* The pool holds 16 records, the table 32 slots: id first + 32 collides with first. */
    for (int k = 0; k < 31; k++) {
        uint64_t id;
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &id));
        ASSERT_OK(evl_timer_clear(f.loop, id));
    }
    evl_alloc_fail_at(1, 1);
    uint64_t id = 0;
    int rc = evl_timer_set(f.loop, on_fire, NULL, 5, 0, &id);
    evl_alloc_fail_at(0, 0);
    if (evl_alloc_tracking_enabled()) {
        ASSERT_ERR(EVL_ENOMEM, rc);
        ASSERT_UEQ(id, 0);
        ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &id)); /* room now */
    } else {
        ASSERT_OK(rc);
    }
    ASSERT_TRUE(evl_timer_has_ref(f.loop, first) == 1);
    fix_advance(&f, 5);
    ASSERT_UEQ(nfired, 1);
    ASSERT_UEQ(fired[0], id);
    fix_advance(&f, 95);
    ASSERT_UEQ(nfired, 2);
    ASSERT_UEQ(fired[1], first);
    ASSERT_OK(evl_loop_free(f.loop));
}

/*
 * Timers in deadline order within a period go to that period's run; periods of 128 ms and
 * more share runs by hash, so runs also receive timers out of order (those go to the heap).
 * Sets spread over time, with clears, must still fire exactly in (deadline, scheduling
 * order).
 */
TEST(runs_and_heap_together_match_sorted_model)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { N = 6000 };
    static struct model m[N];
    static uint64_t ids[N];
    static const uint64_t periods[] = {0, 1, 5, 10, 50, 100, 127, 128, 200, 333, 1000, 4096};
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        uint64_t delay = periods[rng() % 12];
        arm_modelled(&f, delay, now, &ids[i], &m[i]);
        if (rng() % 8 == 0) {
            /* Time passes between some sets (nothing is due yet: the loop is not run). */
            evl_test_clock_advance_ms(&f.clock, 1);
            now++;
        }
    }
    clear_every(&f, ids, m, N, 5);
    size_t live = model_sort_live(m, N);
    for (uint64_t ms = now; ms <= now + 4096; ms++) {
        fix_advance(&f, 1);
    }
    expect_model_fired(&f, m, live);
    ASSERT_OK(evl_loop_free(f.loop));
}

/* An allocator whose blocks start at a different offset within a cache line each time
 * (16, 32, 48 or 64 bytes past a 64-byte boundary), so the timer heap, which places itself
 * by its block's alignment, must move its slots when a reallocation changes that offset. */
struct skew_hdr {
    void *raw;
    size_t size;
};

static unsigned skew_next;

static void *skew_malloc(void *ud, size_t size)
{
    (void)ud;
    char *raw = malloc(size + 64 + 64 + sizeof(struct skew_hdr));
    if (!raw) {
        return NULL;
    }
    uintptr_t base = ((uintptr_t)raw + sizeof(struct skew_hdr) + 63) & ~(uintptr_t)63;
    char *p = (char *)base + 16 * (1 + skew_next++ % 4);
    struct skew_hdr h = {raw, size};
    memcpy(p - sizeof(h), &h, sizeof(h));
    return p;
}

static void skew_free(void *ud, void *p)
{
    (void)ud;
    if (p) {
        struct skew_hdr h;
        memcpy(&h, (char *)p - sizeof(h), sizeof(h));
        free(h.raw);
    }
}

static void *skew_realloc(void *ud, void *p, size_t size)
{
    void *n = skew_malloc(ud, size);
    if (n && p) {
        struct skew_hdr h;
        memcpy(&h, (char *)p - sizeof(h), sizeof(h));
        memcpy(n, p, h.size < size ? h.size : size);
        skew_free(ud, p);
    }
    return n;
}

/*
 * Out-of-order timers live in the heap. Clearing a random subset removes slots at every
 * depth (the earliest sets sit near the root), sets after the clears reuse records, and the
 * pool grows while the heap is full of slots under an allocator that changes the heap's
 * alignment at every growth. The survivors must still fire in (deadline, scheduling) order.
 */
TEST(heap_removals_at_every_depth_and_moves_keep_order)
{
    static const struct evl_allocator skew = {skew_malloc, skew_realloc, skew_free, NULL};
    ASSERT_OK(evl_set_allocator(&skew));
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE, 0);
    enum { N = 9000, FIRST = 6000 };
    static struct model m[N];
    static uint64_t ids[N];
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        if (i == FIRST) {
            /* Clear a random 40% of the first sets, wherever their slots are. */
            for (int k = 0; k < FIRST; k++) {
                if (rng() % 5 < 2) {
                    ASSERT_OK(evl_timer_clear(f.loop, ids[k]));
                    m[k].deadline = UINT64_MAX;
                }
            }
        }
        uint64_t delay = 128 + rng() % 4096;
        arm_modelled(&f, delay, now, &ids[i], &m[i]);
        if (rng() % 4 == 0) {
            evl_test_clock_advance_ms(&f.clock, 1);
            now++;
        }
    }
    size_t live = model_sort_live(m, N);
    for (uint64_t ms = now; ms <= now + 4224; ms++) {
        fix_advance(&f, 1);
    }
    expect_model_fired(&f, m, live);
    ASSERT_OK(evl_loop_free(f.loop));
    ASSERT_OK(evl_set_allocator(NULL));
}

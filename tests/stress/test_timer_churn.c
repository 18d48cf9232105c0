/*
 * 100,000 concurrent timers (90% timeouts, 10% intervals) with random delays up to a second,
 * cleared at random from two threads while they fire: from the loop thread (inside timer
 * callbacks) and from another thread (evl_timer_clear's queued path). Checked as they run:
 * no timer fires early, twice (timeouts) or more than its three runs (intervals); no timer
 * fires after a loop-thread clear that returned 0, nor after a cross-thread clear that
 * returned before the timer phase began; a loop-thread clear answers EVL_ENOENT only for a
 * timer that fired or was cleared; timeouts fire in deadline order (equal delays FIFO). At
 * the end every timeout fired or was cleared, and nothing leaks.
 */
#include "stress.h"

#include <pthread.h>
#include <stdatomic.h>

#define DELAY_BUCKETS 100 /* delays 0, 10, ... 990 ms */
#define INTERVAL_RUNS 3

struct tmr {
    uint64_t id;
    uint64_t set_ns;
    uint32_t delay_ms;
    uint8_t interval;
    uint8_t cleared_by_loop;
    uint8_t self_cleared;
    uint32_t fired;
    uint64_t cross_pos; /* position in the cross-thread clear order, UINT64_MAX if none */
};

static struct tmr *tm;
static atomic_uchar *requested; /* set by the clearing thread before it clears */
static uint64_t n_timers;
static uint64_t *cross_order;
static uint64_t n_cross;
static atomic_uint_fast64_t cross_done;
static uint64_t guard; /* cross clears that returned before the current timer phase */
/* Timeouts per delay bucket in set order, and the first one not yet resolved. */
static uint64_t *bucket_items[DELAY_BUCKETS];
static uint64_t bucket_len[DELAY_BUCKETS];
static uint64_t bucket_head[DELAY_BUCKETS];
static struct stress_rng rng;
static pthread_t clearer;

static struct {
    uint64_t early, twice, after_loop_clear, after_cross_clear, bad_enoent, bad_clear_rc;
    uint64_t out_of_order, loop_clears_ok, loop_clears_enoent, fires;
} bad;

static int resolved(uint64_t i)
{
    return tm[i].fired || tm[i].cleared_by_loop ||
           atomic_load_explicit(&requested[i], memory_order_acquire);
}

static void check_order(uint64_t i)
{
    uint32_t b = tm[i].delay_ms / 10;
    for (uint32_t d = 0; d <= b; d++) {
        while (bucket_head[d] < bucket_len[d] && resolved(bucket_items[d][bucket_head[d]])) {
            bucket_head[d]++;
        }
        if (bucket_head[d] < bucket_len[d] && bucket_items[d][bucket_head[d]] < i) {
            bad.out_of_order++;
        }
    }
}

static void loop_clear_random(struct evl_loop *loop, uint64_t self)
{
    uint64_t j = stress_rng_below(&rng, n_timers);
    if (j == self) {
        return;
    }
    int rc = evl_timer_clear(loop, tm[j].id);
    if (rc == 0) {
        if (!tm[j].interval && tm[j].fired) {
            bad.bad_clear_rc++;
        }
        tm[j].cleared_by_loop = 1;
        bad.loop_clears_ok++;
    } else if (rc == EVL_ENOENT) {
        bad.loop_clears_enoent++;
        int known = (!tm[j].interval && tm[j].fired) || tm[j].cleared_by_loop ||
                    tm[j].self_cleared || atomic_load(&requested[j]);
        if (!known) {
            bad.bad_enoent++;
        }
    } else {
        bad.bad_clear_rc++;
    }
}

static void fire_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    uint64_t i = (uint64_t)(uintptr_t)arg;
    struct tmr *t = &tm[i];
    (void)id;
    bad.fires++;
    if (t->cleared_by_loop) {
        bad.after_loop_clear++;
    }
    if (t->cross_pos < guard) {
        bad.after_cross_clear++;
    }
    if (t->fired == 0 && evl_loop_now_ns(loop) < t->set_ns + (uint64_t)t->delay_ms * 1000000u) {
        bad.early++;
    }
    t->fired++;
    if (t->interval) {
        if (t->fired > INTERVAL_RUNS) {
            bad.twice++;
        } else if (t->fired == INTERVAL_RUNS) {
            if (evl_timer_clear(loop, t->id) != 0) {
                bad.bad_clear_rc++;
            }
            t->self_cleared = 1;
        }
    } else {
        if (t->fired > 1) {
            bad.twice++;
        } else {
            check_order(i);
        }
    }
    if (stress_rng_below(&rng, 10) < 3) {
        loop_clear_random(loop, i);
    }
}

/* Runs between the poll and the next timer phase: every cross clear counted here returned
 * before that phase starts, so it must win. */
static void check_hook(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    guard = atomic_load_explicit(&cross_done, memory_order_acquire);
}

static void unref_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_unref(loop));
}

static void *clearer_main(void *arg)
{
    struct evl_loop *loop = arg;
    for (uint64_t k = 0; k < n_cross; k++) {
        uint64_t i = cross_order[k];
        atomic_store_explicit(&requested[i], 1, memory_order_release);
        /* From another thread the clear is queued; it always answers 0. */
        ASSERT_OK(evl_timer_clear(loop, tm[i].id));
        atomic_store_explicit(&cross_done, k + 1, memory_order_release);
        if (k % 64 == 63) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    /* FIFO after the clears: the loop may end once they are all applied. */
    ASSERT_OK(evl_loop_submit(loop, unref_task, NULL));
    return NULL;
}

static void setup_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    for (uint64_t i = 0; i < n_timers; i++) {
        struct tmr *t = &tm[i];
        t->interval = stress_rng_below(&rng, 10) == 0;
        t->delay_ms = (uint32_t)stress_rng_below(&rng, DELAY_BUCKETS) * 10;
        t->set_ns = evl_loop_now_ns(loop);
        uint64_t repeat = t->interval ? 50 + stress_rng_below(&rng, 150) : 0;
        ASSERT_OK(evl_timer_set(loop, fire_cb, (void *)(uintptr_t)i, t->delay_ms, repeat, &t->id));
        if (!t->interval) {
            uint32_t b = t->delay_ms / 10;
            bucket_items[b][bucket_len[b]++] = i;
        }
    }
    ASSERT_EQ(pthread_create(&clearer, NULL, clearer_main, loop), 0);
}

TEST(timers_100k_cleared_from_two_threads) /* labels: real-time */
{
    rng.s = stress_seed("timers_100k_cleared_from_two_threads");
    n_timers = stress_count(100000, 1000);
    tm = calloc(n_timers, sizeof(*tm));
    requested = calloc(n_timers, sizeof(*requested));
    cross_order = calloc(n_timers, sizeof(*cross_order));
    ASSERT_NOT_NULL(tm);
    ASSERT_TRUE(requested != NULL);
    ASSERT_NOT_NULL(cross_order);
    for (uint32_t b = 0; b < DELAY_BUCKETS; b++) {
        bucket_items[b] = calloc(n_timers, sizeof(uint64_t));
        ASSERT_NOT_NULL(bucket_items[b]);
        bucket_len[b] = bucket_head[b] = 0;
    }
    /* A quarter of the timers, in random order, are cleared from the other thread. */
    for (uint64_t i = 0; i < n_timers; i++) {
        tm[i].cross_pos = UINT64_MAX;
        cross_order[i] = i;
    }
    for (uint64_t i = n_timers - 1; i > 0; i--) {
        uint64_t j = stress_rng_below(&rng, i + 1);
        uint64_t x = cross_order[i];
        cross_order[i] = cross_order[j];
        cross_order[j] = x;
    }
    n_cross = n_timers / 4;
    for (uint64_t k = 0; k < n_cross; k++) {
        tm[cross_order[k]].cross_pos = k;
    }
    atomic_store(&cross_done, 0);
    guard = 0;
    memset(&bad, 0, sizeof(bad));

    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_ref(loop)); /* dropped by the clearing thread's last task */
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, check_hook, NULL));
    uint64_t setup_id = 0;
    ASSERT_OK(evl_immediate_set(loop, setup_cb, NULL, &setup_id));
    uint64_t t0 = stress_now_ns();
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(clearer, NULL), 0);
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_CHECK, check_hook, NULL));
    ASSERT_OK(evl_loop_free(loop));

    uint64_t timeouts_fired = 0;
    uint64_t lost = 0;
    uint64_t cleared = 0;
    for (uint64_t i = 0; i < n_timers; i++) {
        struct tmr *t = &tm[i];
        int was_cleared = t->cleared_by_loop || atomic_load(&requested[i]);
        cleared += was_cleared;
        if (!t->interval) {
            timeouts_fired += t->fired;
            lost += !t->fired && !was_cleared;
        } else {
            lost += t->fired < INTERVAL_RUNS && !was_cleared;
        }
    }
    printf("timers: %" PRIu64 " timers, %" PRIu64 " callbacks (%" PRIu64
           " timeouts fired), cleared %" PRIu64 " (loop thread %" PRIu64 ", other thread %" PRIu64
           "), loop clears answered ENOENT %" PRIu64 ", %.2f s\n",
           n_timers, bad.fires, timeouts_fired, cleared, bad.loop_clears_ok, n_cross,
           bad.loop_clears_enoent, (double)(stress_now_ns() - t0) / 1e9);
    ASSERT_UEQ(bad.early, 0);
    ASSERT_UEQ(bad.twice, 0);
    ASSERT_UEQ(bad.after_loop_clear, 0);
    ASSERT_UEQ(bad.after_cross_clear, 0);
    ASSERT_UEQ(bad.bad_enoent, 0);
    ASSERT_UEQ(bad.bad_clear_rc, 0);
    ASSERT_UEQ(bad.out_of_order, 0);
    ASSERT_UEQ(lost, 0);
    ASSERT_UGE(bad.loop_clears_ok, 1);
    for (uint32_t b = 0; b < DELAY_BUCKETS; b++) {
        free(bucket_items[b]);
    }
    free(cross_order);
    free(requested);
    free(tm);
}

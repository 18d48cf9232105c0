/* Timer policies and the predecessor's timer mistakes (GUIDE §3: 1, 2, 3, 4, 10), plus
 * cross-thread set and clear. Fake clock unless labelled real-time. */
#include "evl_test.h"

#include <pthread.h>
#include <time.h>

struct fix {
    struct evl_test_clock clock;
    struct evl_loop *loop;
};

static void fix_init(struct fix *f, enum evl_timer_clamp clamp)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    f->clock.now_ns = 5000000000u;
    o.clock = evl_test_clock_read;
    o.clock_ud = &f->clock;
    o.timer_clamp = clamp;
    ASSERT_OK(evl_loop_new(&f->loop, &o));
}

static void fix_advance(struct fix *f, uint64_t ms)
{
    evl_test_clock_advance_ms(&f->clock, ms);
    (void)evl_loop_run(f->loop, EVL_RUN_NOWAIT);
}

static int fired;
static uint64_t last_id;

static void on_fire(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)arg;
    fired++;
    last_id = id;
}

/* HTML: a chain of zero-delay timers is clamped to 4 ms from the 7th link (nesting > 5). */
static int chain_links;

static void html_chain(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    chain_links++;
    ASSERT_OK(evl_timer_set(loop, html_chain, NULL, 0, 0, NULL));
}

TEST(clamp_html_nesting_per_chain)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_HTML);
    chain_links = 0;
    ASSERT_OK(evl_timer_set(f.loop, html_chain, NULL, 0, 0, NULL));
    for (int i = 0; i < 20; i++) {
        fix_advance(&f, 0);
    }
    ASSERT_EQ(chain_links, 6); /* levels 1..6 unclamped; the 7th waits 4 ms */
    fix_advance(&f, 3);
    ASSERT_EQ(chain_links, 6);
    fix_advance(&f, 1);
    ASSERT_EQ(chain_links, 7);
    fix_advance(&f, 4);
    ASSERT_EQ(chain_links, 8);
    ASSERT_OK(evl_loop_close(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

/* HTML intervals: each run is one more nesting level, so a 0 ms interval becomes 4 ms. */
TEST(clamp_html_interval)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_HTML);
    fired = 0;
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 0, 1, &id));
    for (int i = 0; i < 10; i++) {
        fix_advance(&f, 1);
    }
    /* runs at t=1..6 (levels 1..6); level 6 re-arms clamped to 4 ms: t=10 */
    ASSERT_EQ(fired, 7);
    ASSERT_OK(evl_timer_clear(f.loop, id));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(clamp_none_keeps_zero_and_rejects_huge)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    chain_links = 0;
    ASSERT_OK(evl_timer_set(f.loop, html_chain, NULL, 0, 0, NULL));
    for (int i = 0; i < 20; i++) {
        fix_advance(&f, 0);
    }
    ASSERT_EQ(chain_links, 20);
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(f.loop, on_fire, NULL, EVL_TIMER_DELAY_MAX + 1, 0, NULL));
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(f.loop, on_fire, NULL, 1, EVL_TIMER_DELAY_MAX + 1, NULL));
    ASSERT_OK(evl_loop_close(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(clamp_node_coerces_to_one_ms)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NODE);
    fired = 0;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 0, 0, NULL));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, (uint64_t)1 << 31, 0, NULL));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, EVL_TIMER_DELAY_MAX * 2, 0, NULL));
    fix_advance(&f, 0);
    ASSERT_EQ(fired, 0);
    fix_advance(&f, 1);
    ASSERT_EQ(fired, 3);
    ASSERT_OK(evl_loop_free(f.loop));
}

/* Intervals re-arm from the start of their callback: a slow callback adds no drift. */
static struct evl_test_clock *slow_clock;
static int slow_runs;

static void slow_interval(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    slow_runs++;
    evl_test_clock_advance_ms(slow_clock, 3);
}

TEST(interval_rearms_from_callback_start)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    slow_clock = &f.clock;
    slow_runs = 0;
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, slow_interval, NULL, 10, 10, &id));
    fix_advance(&f, 10); /* runs at t=10, clock now 13 */
    ASSERT_EQ(slow_runs, 1);
    fix_advance(&f, 6); /* t=19 */
    ASSERT_EQ(slow_runs, 1);
    fix_advance(&f, 1); /* t=20: due (not 23) */
    ASSERT_EQ(slow_runs, 2);
    ASSERT_OK(evl_timer_clear(f.loop, id));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(refresh_restarts_countdown)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 10, 0, &id));
    fix_advance(&f, 6);
    ASSERT_OK(evl_timer_refresh(f.loop, id));
    fix_advance(&f, 6);
    ASSERT_EQ(fired, 0);
    fix_advance(&f, 4);
    ASSERT_EQ(fired, 1);
    ASSERT_ERR(EVL_ENOENT, evl_timer_refresh(f.loop, id));
    ASSERT_OK(evl_loop_free(f.loop));
}

/* GUIDE §3.10: one id space; clearing an id never touches another kind's entry. */
TEST(one_id_space_for_timeouts_intervals_immediates)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    uint64_t t, iv, im;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &t));
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 5, &iv));
    ASSERT_OK(evl_immediate_set(f.loop, on_fire, NULL, &im));
    ASSERT_TRUE(t != iv && iv != im && t != im);
    ASSERT_OK(evl_immediate_clear(f.loop, iv)); /* any clear works on any id */
    ASSERT_OK(evl_timer_clear(f.loop, im));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, iv));
    fix_advance(&f, 5);
    ASSERT_EQ(fired, 1);
    ASSERT_UEQ(last_id, t);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

/* Phase order within one iteration: due timers, then submitted tasks, then immediates. And a
 * new immediate scheduled from a timer runs before a new zero timer (Node). */
static char order[32];
static size_t olen;

static void orec(char c)
{
    order[olen++] = c;
    order[olen] = '\0';
}

static void t_rec(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    orec((char)(uintptr_t)arg);
}

static void task_rec(struct evl_loop *loop, void *arg)
{
    (void)loop;
    orec((char)(uintptr_t)arg);
}

static void timer_schedules_both(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    orec('T');
    ASSERT_OK(evl_timer_set(loop, t_rec, (void *)(uintptr_t)'z', 0, 0, NULL));
    ASSERT_OK(evl_immediate_set(loop, t_rec, (void *)(uintptr_t)'i', NULL));
}

TEST(phase_order_timer_task_immediate)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    olen = 0;
    ASSERT_OK(evl_immediate_set(f.loop, t_rec, (void *)(uintptr_t)'I', NULL));
    ASSERT_OK(evl_loop_submit(f.loop, task_rec, (void *)(uintptr_t)'S'));
    ASSERT_OK(evl_timer_set(f.loop, timer_schedules_both, NULL, 0, 0, NULL));
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 1);
    ASSERT_STR_EQ(order, "TSIi");
    ASSERT_EQ(evl_loop_run(f.loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "TSIiz");
    ASSERT_OK(evl_loop_free(f.loop));
}

/* GUIDE §3.1: a timer of >= 1 s fires on an otherwise idle loop (real clock). */
TEST(long_timer_fires_on_idle_loop) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    fired = 0;
    uint64_t t0 = evl_loop_now_ns(loop);
    ASSERT_OK(evl_timer_set(loop, on_fire, NULL, 1100, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(fired, 1);
    ASSERT_UGE(evl_loop_now_ns(loop) - t0, 1100u * 1000000u); /* never early */
    ASSERT_OK(evl_loop_free(loop));
}

/* GUIDE §3.2: deadlines use a fresh clock read, so after an idle period a timer set from
 * another thread (or the loop thread) does not fire early. */
struct setter {
    struct evl_loop *loop;
    uint64_t delay;
    uint64_t id;
    int rc;
};

static void *set_from_thread(void *p)
{
    struct setter *s = p;
    s->rc = evl_timer_set(s->loop, on_fire, NULL, s->delay, 0, &s->id);
    return NULL;
}

TEST(deadline_from_fresh_clock_after_idle)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    fix_advance(&f, 0);
    evl_test_clock_advance_ms(&f.clock, 10000); /* idle: the loop did not run */
    struct setter s = {f.loop, 50, 0, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 50, 0, NULL));
    fix_advance(&f, 0);
    ASSERT_EQ(fired, 0);
    fix_advance(&f, 49);
    ASSERT_EQ(fired, 0);
    fix_advance(&f, 1);
    ASSERT_EQ(fired, 2);
    ASSERT_OK(evl_loop_free(f.loop));
}

/* Cross-thread set and clear, and GUIDE §3.3: a clear never waits for the loop. */
static void *clear_from_thread(void *p)
{
    struct setter *s = p;
    s->rc = evl_timer_clear(s->loop, s->id);
    return NULL;
}

TEST(cross_thread_clear_never_waits_and_wins)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    uint64_t id;
    ASSERT_OK(evl_timer_set(f.loop, on_fire, NULL, 5, 0, &id));
    /* The loop is not running: a clear that waited for it would hang here. */
    struct setter s = {f.loop, 0, id, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, clear_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    evl_test_clock_advance_ms(&f.clock, 10); /* due, but the clear returned first */
    (void)evl_loop_run(f.loop, EVL_RUN_NOWAIT);
    fix_advance(&f, 10);
    ASSERT_EQ(fired, 0);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_OK(evl_loop_free(f.loop));
}

TEST(cross_thread_set_then_clear_from_thread)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    struct setter s = {f.loop, 5, 0, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    ASSERT_EQ(pthread_create(&t, NULL, clear_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    fix_advance(&f, 10);
    fix_advance(&f, 10);
    ASSERT_EQ(fired, 0);
    ASSERT_OK(evl_loop_free(f.loop));
}

/* A loop-thread clear of an id whose cross-thread set is still queued: it never arms. */
TEST(loop_clear_before_foreign_set_arrives)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_NONE);
    fired = 0;
    struct setter s = {f.loop, 5, 0, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_timer_clear(f.loop, s.id));
    fix_advance(&f, 10);
    fix_advance(&f, 10);
    ASSERT_EQ(fired, 0);
    ASSERT_FALSE(evl_loop_alive(f.loop));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(f.loop, s.id));
    ASSERT_OK(evl_loop_free(f.loop));
}

/* GUIDE §3.4: nesting is per chain; a foreign thread's timer is never clamped by the loop
 * thread's nesting level. */
static struct evl_loop *g_loop;
static int deep_links;
static uint64_t foreign_id;
static uint64_t local_id;

static void deep_chain(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    if (++deep_links < 8) {
        ASSERT_OK(evl_timer_set(loop, deep_chain, NULL, 0, 0, NULL));
        return;
    }
    /* Level 8: a loop-thread zero timer is clamped, a foreign one is not. */
    struct setter s = {loop, 0, 0, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, &s), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    foreign_id = s.id;
    ASSERT_OK(evl_timer_set(loop, on_fire, NULL, 0, 0, &local_id));
}

TEST(foreign_timers_not_clamped_by_loop_nesting)
{
    struct fix f;
    fix_init(&f, EVL_TIMER_CLAMP_HTML);
    g_loop = f.loop;
    fired = 0;
    deep_links = 0;
    ASSERT_OK(evl_timer_set(f.loop, deep_chain, NULL, 0, 0, NULL));
    for (int i = 0; i < 12 && deep_links < 8; i++) {
        fix_advance(&f, 4);
    }
    ASSERT_EQ(deep_links, 8);
    fix_advance(&f, 0); /* process the foreign set; run what is due now */
    fix_advance(&f, 0);
    ASSERT_EQ(fired, 1);
    ASSERT_UEQ(last_id, foreign_id);
    fix_advance(&f, 4);
    ASSERT_EQ(fired, 2);
    ASSERT_UEQ(last_id, local_id);
    ASSERT_OK(evl_loop_free(f.loop));
}

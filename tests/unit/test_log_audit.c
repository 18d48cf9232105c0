/* The timer audit (evl_log_timer_audit): create, fire and clear records with id, delay,
 * repeat and nesting level; off by default, per timer from its creation, level-filtered. */
#include "evl_test.h"

#include <pthread.h>
#include <stdio.h>

struct audit_log {
    char line[64][128];
    int n;
};

/* One line per timer record: "event id delay_ns repeat_ns nesting level". */
static void sink_cb(void *ud, const struct evl_log_record *r)
{
    struct audit_log *a = ud;
    if (strcmp(r->component, "timer") != 0 || a->n >= 64) {
        return;
    }
    uint64_t v[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < r->nfields && i < 4; i++) {
        v[i] = r->fields[i].v.u;
    }
    ASSERT_UEQ(r->nfields, 4);
    ASSERT_STR_EQ(r->fields[0].key, "id");
    ASSERT_STR_EQ(r->fields[1].key, "delay");
    ASSERT_EQ(r->fields[1].type, EVL_LOG_T_DURATION);
    ASSERT_STR_EQ(r->fields[2].key, "repeat");
    ASSERT_STR_EQ(r->fields[3].key, "nesting");
    snprintf(a->line[a->n++], sizeof(a->line[0]), "%s %llu %llu %llu %llu %s", r->event,
             (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
             (unsigned long long)v[3], evl_log_level_name(r->level));
}

static struct evl_test_clock clk;

static struct evl_loop *new_loop(struct audit_log *a, int level)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = evl_test_clock_read;
    o.clock_ud = &clk;
    o.log_level = level;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    memset(a, 0, sizeof(*a));
    ASSERT_OK(evl_logger_add_callback(loop, sink_cb, a, EVL_LOG_DEBUG));
    return loop;
}

static void noop_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

/* Runs the loop's timers up to `ms` of fake time, 1 ms at a time. */
static void advance(struct evl_loop *loop, int ms)
{
    for (int i = 0; i < ms; i++) {
        evl_test_clock_advance_ms(&clk, 1);
        ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    }
}

TEST(audit_is_off_by_default)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    ASSERT_EQ(evl_log_timer_audit_level(loop), EVL_LOG_OFF);
    uint64_t id1, id2;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 5, 0, &id1));
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 50, 0, &id2));
    advance(loop, 6);
    ASSERT_OK(evl_timer_clear(loop, id2));
    ASSERT_EQ(a.n, 0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(create_fire_clear_records)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_WARN);
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_WARN));
    ASSERT_EQ(evl_log_timer_audit_level(loop), EVL_LOG_WARN);
    uint64_t t1, t2, imm;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 5, 0, &t1));
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 30, 0, &t2));
    ASSERT_OK(evl_immediate_set(loop, noop_cb, NULL, &imm)); /* immediates are not audited */
    advance(loop, 5);
    ASSERT_OK(evl_timer_clear(loop, t2));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, t1)); /* fired: no record either */
    char want[4][128];
    snprintf(want[0], 128, "create %llu 5000000 0 1 warn", (unsigned long long)t1);
    snprintf(want[1], 128, "create %llu 30000000 0 1 warn", (unsigned long long)t2);
    snprintf(want[2], 128, "fire %llu 5000000 0 1 warn", (unsigned long long)t1);
    snprintf(want[3], 128, "clear %llu 30000000 0 1 warn", (unsigned long long)t2);
    ASSERT_EQ(a.n, 4);
    for (int i = 0; i < 4; i++) {
        ASSERT_STR_EQ(a.line[i], want[i]);
    }
    ASSERT_OK(evl_loop_free(loop));
}

struct chain {
    struct evl_loop *loop;
    uint64_t inner;
    uint64_t interval;
    int runs;
};

static void interval_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct chain *c = arg;
    if (++c->runs == 3) {
        ASSERT_OK(evl_timer_clear(loop, id)); /* from its own callback */
    }
}

static void outer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct chain *c = arg;
    /* Set inside a timer callback: nesting one more than the running timer's. */
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 0, 0, &c->inner));
    ASSERT_OK(evl_timer_set(loop, interval_cb, c, 2, 2, &c->interval));
}

TEST(nesting_and_interval_runs)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_DEBUG));
    struct chain c = {loop, 0, 0, 0};
    uint64_t outer;
    ASSERT_OK(evl_timer_set(loop, outer_cb, &c, 1, 0, &outer));
    advance(loop, 10);
    ASSERT_EQ(c.runs, 3);
    char want[9][128];
    int k = 0;
    snprintf(want[k++], 128, "create %llu 1000000 0 1 debug", (unsigned long long)outer);
    snprintf(want[k++], 128, "fire %llu 1000000 0 1 debug", (unsigned long long)outer);
    snprintf(want[k++], 128, "create %llu 0 0 2 debug", (unsigned long long)c.inner);
    snprintf(want[k++], 128, "create %llu 2000000 2000000 2 debug", (unsigned long long)c.interval);
    snprintf(want[k++], 128, "fire %llu 0 0 2 debug", (unsigned long long)c.inner);
    /* Each run of an interval nests one level deeper (HTML). */
    snprintf(want[k++], 128, "fire %llu 2000000 2000000 2 debug", (unsigned long long)c.interval);
    snprintf(want[k++], 128, "fire %llu 2000000 2000000 3 debug", (unsigned long long)c.interval);
    snprintf(want[k++], 128, "fire %llu 2000000 2000000 4 debug", (unsigned long long)c.interval);
    snprintf(want[k++], 128, "clear %llu 2000000 2000000 4 debug", (unsigned long long)c.interval);
    ASSERT_EQ(a.n, k);
    for (int i = 0; i < k; i++) {
        ASSERT_STR_EQ(a.line[i], want[i]);
    }
    ASSERT_OK(evl_loop_free(loop));
}

TEST(only_timers_created_under_the_audit_and_only_while_on)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    uint64_t before, during;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 3, 0, &before));
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_INFO));
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 3, 0, &during));
    ASSERT_EQ(a.n, 1); /* during's create */
    advance(loop, 3);
    ASSERT_EQ(a.n, 2); /* during's fire; before's is not audited */
    uint64_t late;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 3, 0, &late));
    ASSERT_EQ(a.n, 3);
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_OFF));
    ASSERT_EQ(evl_log_timer_audit_level(loop), EVL_LOG_OFF);
    ASSERT_OK(evl_timer_clear(loop, late)); /* switched off: nothing */
    ASSERT_EQ(a.n, 3);
    char want[128];
    snprintf(want, sizeof(want), "fire %llu 3000000 0 1 info", (unsigned long long)during);
    ASSERT_STR_EQ(a.line[1], want);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(records_below_the_threshold_go_nowhere)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_WARN);
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_WARN));
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_DEBUG));
    uint64_t id;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 1, 0, &id));
    advance(loop, 2);
    ASSERT_EQ(a.n, 0);
    ASSERT_OK(evl_loop_free(loop));
}

struct foreign {
    struct evl_loop *loop;
    uint64_t id;
};

static void *set_from_thread(void *arg)
{
    struct foreign *f = arg;
    ASSERT_OK(evl_timer_set(f->loop, noop_cb, NULL, 4, 0, &f->id));
    return NULL;
}

TEST(sets_from_another_thread_are_audited_when_applied)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_DEBUG));
    struct foreign f = {loop, 0};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, set_from_thread, &f), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(a.n, 0); /* queued: the loop applies it */
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    advance(loop, 5);
    ASSERT_EQ(a.n, 2);
    char want[128];
    snprintf(want, sizeof(want), "create %llu 4000000 0 1 debug", (unsigned long long)f.id);
    ASSERT_STR_EQ(a.line[0], want);
    snprintf(want, sizeof(want), "fire %llu 4000000 0 1 debug", (unsigned long long)f.id);
    ASSERT_STR_EQ(a.line[1], want);
    ASSERT_OK(evl_loop_free(loop));
}

static void *audit_from_thread(void *arg)
{
    ASSERT_ERR(EVL_EPERM, evl_log_timer_audit(arg, EVL_LOG_DEBUG));
    return NULL;
}

TEST(audit_errors)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    ASSERT_ERR(EVL_EINVAL, evl_log_timer_audit(NULL, EVL_LOG_DEBUG));
    ASSERT_ERR(EVL_EINVAL, evl_log_timer_audit(loop, -1));
    ASSERT_EQ(evl_log_timer_audit_level(NULL), EVL_LOG_OFF);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, audit_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(evl_log_timer_audit_level(loop), EVL_LOG_OFF);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(audit_with_metrics_on_both_record)
{
    struct audit_log a;
    struct evl_loop *loop = new_loop(&a, EVL_LOG_DEBUG);
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    ASSERT_OK(evl_metrics_enable(loop, &mo));
    ASSERT_OK(evl_log_timer_audit(loop, EVL_LOG_DEBUG));
    uint64_t id;
    ASSERT_OK(evl_timer_set(loop, noop_cb, NULL, 1, 0, &id));
    advance(loop, 2);
    ASSERT_EQ(a.n, 2);
    struct evl_metrics_snapshot s;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    ASSERT_OK(evl_metrics_snapshot(loop, &s));
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 1);
    ASSERT_OK(evl_loop_free(loop));
}

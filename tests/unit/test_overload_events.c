/* Admission refusals and queue pressure as log events: component "overload", warn, with
 * queue, reason, limit, depth, total and suppressed; rate-limited so a storm of refusals
 * writes one record per second, not one per refusal. */
#include "evl_test.h"

#include <pthread.h>

struct seen {
    int refused;
    int pressure;
    int limit_refused;
    uint64_t last_total;
    char line[1024];
};

static void sink_cb(void *ud, const struct evl_log_record *r)
{
    struct seen *s = ud;
    if (strcmp(r->component, "overload") != 0 || r->event == NULL) {
        return;
    }
    ASSERT_EQ(r->level, EVL_LOG_WARN);
    ASSERT_UEQ(r->nfields, 6);
    ASSERT_STR_EQ(r->fields[0].key, "queue");
    ASSERT_STR_EQ(r->fields[4].key, "total");
    if (strcmp(r->event, "queue_pressure") == 0) {
        s->pressure++;
        ASSERT_STR_EQ(r->fields[1].v.s, "high_water");
    } else if (strcmp(r->fields[0].v.s, "submit") == 0) {
        ASSERT_STR_EQ(r->event, "refused");
        s->refused++;
        snprintf(s->line, sizeof(s->line), "%s", r->line);
    } else {
        s->limit_refused++;
        snprintf(s->line, sizeof(s->line), "%s", r->line);
    }
    s->last_total = r->fields[4].v.u;
}

static void noop(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

struct flood {
    struct evl_loop *loop;
    int accepted;
    int refused;
};

static void *flood(void *arg)
{
    struct flood *f = arg;
    for (int i = 0; i < 5000; i++) {
        int rc = evl_loop_submit(f->loop, noop, NULL);
        if (rc == 0) {
            f->accepted++;
        } else {
            ASSERT_EQ(rc, EVL_EAGAIN);
            f->refused++;
        }
    }
    return NULL;
}

TEST(a_refusal_storm_logs_once_with_pressure_before_it)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_queued_tasks = 256;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    ASSERT_OK(evl_logger_add_callback(loop, sink_cb, &seen, EVL_LOG_WARN));
    struct flood f = {loop, 0, 0};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, flood, &f), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_GT(f.refused, 4000);
    ASSERT_EQ(seen.pressure, 1);
    ASSERT_EQ(seen.refused, 1); /* the rest are held back for the next record */
    ASSERT_NOT_NULL(strstr(seen.line, "\"event\":\"refused\",\"msg\":\"submit refused: queue bound "
                                      "reached\",\"queue\":\"submit\",\"reason\":\"bound\","
                                      "\"limit\":256,"));
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    struct evl_overload_stats st;
    memset(&st, 0, sizeof(st));
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.refused_full, (uint64_t)f.refused); /* counts stay exact */
    ASSERT_OK(evl_loop_free(loop));
}

static void tcb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

TEST(sandbox_limit_refusals_are_events)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_timers = 2;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    ASSERT_OK(evl_logger_add_callback(loop, sink_cb, &seen, EVL_LOG_WARN));
    ASSERT_OK(evl_timer_set(loop, tcb, NULL, 100, 0, NULL));
    ASSERT_OK(evl_timer_set(loop, tcb, NULL, 100, 0, NULL));
    for (int i = 0; i < 100; i++) {
        ASSERT_ERR(EVL_ELIMIT, evl_timer_set(loop, tcb, NULL, 100, 0, NULL));
    }
    ASSERT_EQ(seen.limit_refused, 1);
    ASSERT_NOT_NULL(strstr(seen.line, "\"queue\":\"timers\",\"reason\":\"limit\",\"limit\":2,"));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
}

/* The fast path's switches (the adaptive spin engaging and disengaging): each one is logged
 * ("loop" "fastpath", debug, with direction, path and reason) and counted in the metrics. */
#include "evl_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

struct seen {
    int enter;
    int leave;
    char first[256];
};

static void sink_cb(void *ud, const struct evl_log_record *r)
{
    struct seen *s = ud;
    if (r->event == NULL || strcmp(r->event, "fastpath") != 0) {
        return;
    }
    ASSERT_EQ(r->level, EVL_LOG_DEBUG);
    ASSERT_STR_EQ(r->fields[0].key, "direction");
    ASSERT_STR_EQ(r->fields[1].key, "path");
    ASSERT_STR_EQ(r->fields[2].key, "reason");
    if (strcmp(r->fields[0].v.s, "enter") == 0) {
        ASSERT_STR_EQ(r->fields[2].v.s, "short_gaps");
        if (s->enter++ == 0) {
            snprintf(s->first, sizeof(s->first), "%s", r->line);
        }
    } else {
        ASSERT_STR_EQ(r->fields[0].v.s, "leave");
        ASSERT_STR_EQ(r->fields[2].v.s, "long_gaps");
        s->leave++;
    }
}

static _Atomic int done;

static void pong(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    atomic_fetch_add(&done, 1);
}

static void finish(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_unref(loop));
}

/* A client waiting for each answer: the loop's idle gaps are short. */
static void *client(void *arg)
{
    struct evl_loop *loop = arg;
    for (int i = 0; i < 400; i++) {
        int want = atomic_load(&done) + 1;
        ASSERT_OK(evl_loop_submit(loop, pong, NULL));
        while (atomic_load(&done) < want) {
        }
    }
    ASSERT_OK(evl_loop_submit(loop, finish, NULL));
    return NULL;
}

static void tick(struct evl_loop *loop, uint64_t id, void *arg)
{
    int *n = arg;
    if (++*n == 12) {
        ASSERT_OK(evl_timer_clear(loop, id));
    }
}

TEST(fastpath_switches_are_logged_and_counted) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    ASSERT_OK(evl_logger_add_callback(loop, sink_cb, &seen, EVL_LOG_DEBUG));
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_DEBUG));
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    ASSERT_OK(evl_metrics_enable(loop, &mo));
    atomic_store(&done, 0);
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, client, loop), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    if (seen.enter == 0) {
        /* The client could not answer within 10 us of the loop going idle (a sanitizer build,
         * or both threads squeezed onto one busy CPU): the spin rightly stayed off. */
        evl_loop_free(loop);
        TEST_SKIP("no short idle gaps on this machine now: the fast path never engaged");
    }
    ASSERT_NOT_NULL(strstr(seen.first, "\"event\":\"fastpath\",\"direction\":\"enter\",\"path\":"
                                       "\"task\",\"reason\":\"short_gaps\",\"gap\":"));
    /* Then only timers wake it: sleeps that end by a timeout are long gaps. */
    int n = 0;
    ASSERT_OK(evl_timer_set(loop, tick, &n, 1, 1, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    ASSERT_GE(seen.leave, 1);
    struct evl_metrics_snapshot s;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    ASSERT_OK(evl_metrics_snapshot(loop, &s));
    ASSERT_UEQ(s.fastpath_enter, (uint64_t)seen.enter);
    ASSERT_UEQ(s.fastpath_leave, (uint64_t)seen.leave);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(a_fixed_spin_never_switches) /* labels: real-time */
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.spin_ns = 5000;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    ASSERT_OK(evl_logger_add_callback(loop, sink_cb, &seen, EVL_LOG_DEBUG));
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_DEBUG));
    atomic_store(&done, 0);
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, client, loop), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(seen.enter + seen.leave, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* Thread-safe submission: per-producer FIFO, conservation, discard on close, wake dedup. */
#include "evl_test.h"

#include "core/loop_internal.h"

#include <pthread.h>

enum { NPROD = 4, NTASKS = 20000 };

struct prod {
    struct evl_loop *loop;
    int index;
    uint64_t accepted;
};

static uint64_t last_seen[16];
static uint64_t runs;
static int order_errors;

/* arg encodes producer index (high bits) and sequence number (low 40 bits). */
static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    uint64_t v = (uint64_t)(uintptr_t)arg;
    unsigned p = (unsigned)(v >> 40);
    uint64_t seq = v & ((UINT64_C(1) << 40) - 1);
    if (seq != last_seen[p] + 1) {
        order_errors++;
    }
    last_seen[p] = seq;
    runs++;
}

static void *producer(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= NTASKS; i++) {
        uint64_t v = ((uint64_t)pr->index << 40) | i;
        while (evl_loop_submit(pr->loop, count_task, (void *)(uintptr_t)v) != 0) {
            /* only ENOMEM could get here; never expected */
            evl_test_fail(__FILE__, __LINE__, "submit failed");
        }
        pr->accepted++;
    }
    return NULL;
}

static void unref_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_unref(loop));
}

struct waiter {
    pthread_t *threads;
    int n;
    struct evl_loop *loop;
};

static void *join_then_unref(void *p)
{
    struct waiter *w = p;
    for (int i = 0; i < w->n; i++) {
        pthread_join(w->threads[i], NULL);
    }
    /* Submitted after every producer's last task: runs after all of them (FIFO). */
    ASSERT_OK(evl_loop_submit(w->loop, unref_task, NULL));
    return NULL;
}

TEST(producers_all_tasks_run_in_fifo) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    memset(last_seen, 0, sizeof(last_seen));
    runs = 0;
    order_errors = 0;
    ASSERT_OK(evl_loop_ref(loop));
    struct prod prods[NPROD];
    pthread_t th[NPROD];
    for (int i = 0; i < NPROD; i++) {
        prods[i] = (struct prod){loop, i, 0};
        ASSERT_EQ(pthread_create(&th[i], NULL, producer, &prods[i]), 0);
    }
    struct waiter w = {th, NPROD, loop};
    pthread_t wt;
    ASSERT_EQ(pthread_create(&wt, NULL, join_then_unref, &w), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(wt, NULL), 0);
    ASSERT_UEQ(runs, (uint64_t)NPROD * NTASKS);
    ASSERT_EQ(order_errors, 0);
    ASSERT_OK(evl_loop_free(loop));
}

static int discarded;
static int ran_after_close;

static void never(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    ran_after_close++;
}

static void discard_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    evl_free(arg);
    discarded++;
}

TEST(close_discards_queued_tasks)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    discarded = 0;
    ran_after_close = 0;
    for (int i = 0; i < 600; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, never, discard_cb, evl_malloc(8)));
    }
    ASSERT_OK(evl_loop_submit(loop, never, NULL));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(discarded, 600);
    ASSERT_EQ(ran_after_close, 0);
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(loop, never, NULL));
    ASSERT_ERR(EVL_EALREADY, evl_loop_close(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

static void *submit_from_thread(void *p)
{
    struct evl_loop *loop = p;
    for (int i = 0; i < 300; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, never, discard_cb, evl_malloc(8)));
    }
    return NULL;
}

TEST(close_discards_cross_thread_tasks)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    discarded = 0;
    ran_after_close = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, submit_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(discarded, 300);
    ASSERT_EQ(ran_after_close, 0);
    ASSERT_OK(evl_loop_free(loop));
}

static int chain_left;

static void chain(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (chain_left-- > 0) {
        ASSERT_OK(evl_loop_submit(loop, chain, NULL));
    }
}

TEST(shutdown_runs_work_queued_by_work)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    chain_left = 1000;
    ASSERT_OK(evl_loop_submit(loop, chain, NULL));
    /* On the loop thread with the loop idle, shutdown drains right here. */
    ASSERT_OK(evl_loop_shutdown(loop));
    ASSERT_UEQ(runs, 1001);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(submit_rejects_null)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(NULL, never, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(loop, NULL, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

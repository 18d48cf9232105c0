/*
 * evl side of the worker-pool workloads, against uv_queue_work in uv_bench.c with the same
 * thread count (4): a batch of small jobs submitted at once, and one job at a time (round
 * trip: submit, run on a worker, settle the promise on the loop thread). A job's completion
 * is observed through a then() on its promise, the equivalent of libuv's after_work_cb.
 */
#include "bench_common.h"

#include <evl.h>

#define EVL_CHECK(expr)                                            \
    do {                                                           \
        int rc_ = (expr);                                          \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, evl_strerror(rc_)); \
    } while (0)

#define POOL_THREADS 4

struct job {
    uint64_t in;
    uint64_t t_submit;
};

static struct evl_pool *pool;
static struct job *jobs;
static uint64_t pool_done;
static uint64_t pool_total;
static uint64_t pool_t0;
static uint64_t pool_end;
static uint64_t pool_deadline;
static uint64_t *samples;

static int work_cb(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    struct job *j = arg;
    (void)dtor_out;
    *value_out = (void *)(uintptr_t)(j->in * 2 + 1);
    return 0;
}

static void check_job(const struct job *j, void *value)
{
    BENCH_CHECK((uint64_t)(uintptr_t)value == j->in * 2 + 1, "bad job result");
}

static void batch_done(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    check_job(arg, value);
    if (++pool_done == pool_total) {
        pool_end = bench_now_ns();
    }
}

static void submit_job(struct evl_loop *loop, struct job *j, evl_reaction_cb done)
{
    struct evl_promise *p = NULL;
    EVL_CHECK(evl_pool_submit(pool, loop, work_cb, j, &p));
    EVL_CHECK(evl_promise_then(p, done, NULL, j, NULL, NULL));
    evl_promise_release(p);
}

static void batch_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    pool_t0 = bench_now_ns();
    for (uint64_t i = 0; i < pool_total; i++) {
        submit_job(loop, &jobs[i], batch_done);
    }
}

static double batch_once(struct evl_loop *loop)
{
    pool_done = 0;
    EVL_CHECK(evl_loop_submit(loop, batch_body, NULL));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    BENCH_CHECK(pool_done == pool_total, "%" PRIu64 " of %" PRIu64 " jobs", pool_done, pool_total);
    return (double)(pool_end - pool_t0) / (double)pool_total;
}

static void w_pool_batch(uint64_t n)
{
    struct evl_loop *loop = NULL;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    EVL_CHECK(evl_pool_new(&pool, POOL_THREADS));
    jobs = bench_alloc(n, sizeof(*jobs));
    pool_total = n;
    for (uint64_t i = 0; i < n; i++) {
        jobs[i].in = i;
    }
    double cold = bench_warmup ? batch_once(loop) : 0;
    double warm = batch_once(loop);
    bench_report("pool_batch", n, warm, "threads %d cold_ns %.2f", POOL_THREADS, cold);
    EVL_CHECK(evl_pool_free(pool));
    EVL_CHECK(evl_loop_free(loop));
    free(jobs);
}

static void rt_done(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    struct job *j = arg;
    (void)result;
    check_job(j, value);
    samples[pool_done] = bench_now_ns() - j->t_submit;
    if (++pool_done == pool_total) {
        return;
    }
    if (pool_done >= 100 && bench_now_ns() > pool_deadline) {
        pool_total = pool_done; /* over the time budget: report what was measured */
        return;
    }
    struct job *next = &jobs[pool_done];
    next->t_submit = bench_now_ns();
    submit_job(loop, next, rt_done);
}

static void rt_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    pool_deadline = bench_now_ns() + bench_budget_ns();
    jobs[0].t_submit = bench_now_ns();
    submit_job(loop, &jobs[0], rt_done);
}

static void w_pool_rt(uint64_t n)
{
    struct evl_loop *loop = NULL;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    EVL_CHECK(evl_pool_new(&pool, POOL_THREADS));
    jobs = bench_alloc(n, sizeof(*jobs));
    samples = bench_alloc(n, sizeof(*samples));
    pool_total = n;
    pool_done = 0;
    for (uint64_t i = 0; i < n; i++) {
        jobs[i].in = i;
    }
    EVL_CHECK(evl_loop_submit(loop, rt_body, NULL));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    BENCH_CHECK(pool_done == pool_total, "%" PRIu64 " of %" PRIu64 " jobs", pool_done, pool_total);
    n = pool_total;
    uint64_t p50 = bench_quantile(samples, n, 0.5, 0);
    bench_report("pool_rt", n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(samples, n, 0.1, 1), bench_quantile(samples, n, 0.99, 1));
    EVL_CHECK(evl_pool_free(pool));
    EVL_CHECK(evl_loop_free(loop));
    free(jobs);
    free(samples);
}

static const struct bench_workload workloads[] = {
    {"pool_batch", w_pool_batch, 400000, 50000},
    {"pool_rt", w_pool_rt, 20000, 5000},
};

int main(int argc, char **argv)
{
    bench_lib = "evl";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

/*
 * libuv side of the benchmark suite: the workloads of peer_common.h, each written with
 * libuv's best idiom, plus the worker-pool rows only libuv has a peer for. See
 * bench_common.h for the output format and docs/performance.md for what each workload
 * measures.
 */
#define _GNU_SOURCE 1
#include <uv.h>

#define PEER_CHAIN_IMMEDIATE_NOTE "idiom uv_idle"
#define PEER_CHAIN_TIMER_NOTE     "starves_io 1 idiom uv_timer(runs-again-in-same-timer-phase)"
#define PEER_PP_NOTE              "idiom uv_poll"
#define PEER_MEM_TIMER_BYTES      sizeof(uv_timer_t)
#define PEER_MEM_TIMER_HOW        "sizeof(uv_timer_t)"
#define PEER_MEM_FD_BYTES         sizeof(uv_poll_t)
#define PEER_MEM_FD_HOW           "sizeof(uv_poll_t)"
struct peer_timers {
    uv_timer_t *t;
    uint64_t *delay; /* the delay each start passes (NULL for zero-delay timers) */
};
#include "peer_common.h"

#define UV_CHECK(expr)                                            \
    do {                                                          \
        int rc_ = (expr);                                         \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, uv_strerror(rc_)); \
    } while (0)

static uv_loop_t loop;

static void peer_loop_new(void)
{
    UV_CHECK(uv_loop_init(&loop));
}

static void close_all_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void peer_loop_finish(void)
{
    uv_walk(&loop, close_all_cb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    UV_CHECK(uv_loop_close(&loop));
}

static void peer_run(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void peer_run_nowait(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* ---- wake-up: uv_async ---- */

static uv_async_t async;

static void async_cb(uv_async_t *h)
{
    (void)h;
    bench_wake();
}

static void peer_wake_new(void)
{
    UV_CHECK(uv_async_init(&loop, &async, async_cb));
}

static void peer_wake_send(void)
{
    uv_async_send(&async);
}

static void peer_wake_stop(void)
{
    uv_close((uv_handle_t *)&async, NULL);
}

static void peer_wake_run(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* ---- timers: uv_timer (the delay is given at start) ---- */

static void never_cb(uv_timer_t *t)
{
    (void)t;
    bench_timer_never();
}

static void zero_cb(uv_timer_t *t)
{
    bench_timer_zero((uint64_t)(uintptr_t)t->data);
}

static void spread_cb(uv_timer_t *t)
{
    bench_spread_fire((uint64_t)(uintptr_t)t->data);
}

static uv_timer_cb timer_cb(enum bench_timer_kind kind)
{
    return kind == BENCH_TIMER_NEVER ? never_cb : kind == BENCH_TIMER_ZERO ? zero_cb : spread_cb;
}

static struct peer_timers peer_timers_new(uint64_t n, enum bench_timer_kind kind)
{
    struct peer_timers h = {bench_alloc(n, sizeof(*h.t)), NULL};
    if (kind != BENCH_TIMER_ZERO) {
        h.delay = bench_alloc(n, sizeof(*h.delay));
    }
    return h;
}

static void peer_timer_init(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                            enum bench_timer_kind kind)
{
    if (kind != BENCH_TIMER_ZERO) {
        h->delay[i] = delay_ms;
    }
    UV_CHECK(uv_timer_init(&loop, &h->t[i]));
    if (kind != BENCH_TIMER_NEVER) {
        h->t[i].data = (void *)(uintptr_t)i;
    }
}

static void peer_timer_start(struct peer_timers *h, uint64_t i, enum bench_timer_kind kind)
{
    uv_timer_start(&h->t[i], timer_cb(kind), kind == BENCH_TIMER_ZERO ? 0 : h->delay[i], 0);
}

static void peer_timer_arm(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                           enum bench_timer_kind kind)
{
    uv_timer_start(&h->t[i], timer_cb(kind), delay_ms, 0);
}

static void peer_timer_stop(struct peer_timers *h, uint64_t i)
{
    uv_timer_stop(&h->t[i]);
}

static int peer_timer_active(struct peer_timers *h, uint64_t i)
{
    return uv_is_active((uv_handle_t *)&h->t[i]);
}

static void peer_timers_free(struct peer_timers *h)
{
    free(h->t);
    free(h->delay);
}

static void peer_update_time(void)
{
    uv_update_time(&loop);
}

/* ---- chains: uv_idle (runs once per iteration), uv_timer restarted at 0 ---- */

static uv_idle_t idle;
static uv_timer_t chain_timer;

static void idle_cb(uv_idle_t *h)
{
    if (bench_chain_step()) {
        uv_idle_stop(h);
    }
}

static void peer_chain_immediate_new(void)
{
    UV_CHECK(uv_idle_init(&loop, &idle));
}

static void peer_chain_immediate_start(void)
{
    uv_idle_start(&idle, idle_cb);
}

static void chain_timer_cb(uv_timer_t *t)
{
    if (bench_chain_step()) {
        return;
    }
    uv_timer_start(t, chain_timer_cb, 0, 0);
}

static void peer_chain_timer_new(void)
{
    UV_CHECK(uv_timer_init(&loop, &chain_timer));
}

static void peer_chain_timer_start(void)
{
    uv_timer_start(&chain_timer, chain_timer_cb, 0, 0);
}

/* ---- fd ping-pong: uv_poll ---- */

static uv_poll_t poll_a;
static uv_poll_t poll_b;

static void pp_a_cb(uv_poll_t *h, int status, int events)
{
    BENCH_CHECK(status == 0 && (events & UV_READABLE), "poll a status %d", status);
    if (bench_pp_a(&bench_sv[0])) {
        uv_poll_stop(h);
        if (uv_is_active((uv_handle_t *)&poll_b)) {
            uv_poll_stop(&poll_b);
        }
    }
}

static void pp_b_cb(uv_poll_t *h, int status, int events)
{
    (void)h;
    BENCH_CHECK(status == 0 && (events & UV_READABLE), "poll b status %d", status);
    bench_pp_b(&bench_sv[1]);
}

static void peer_pp_watch(int with_b)
{
    UV_CHECK(uv_poll_init(&loop, &poll_a, bench_sv[0]));
    UV_CHECK(uv_poll_start(&poll_a, UV_READABLE, pp_a_cb));
    if (with_b) {
        UV_CHECK(uv_poll_init(&loop, &poll_b, bench_sv[1]));
        UV_CHECK(uv_poll_start(&poll_b, UV_READABLE, pp_b_cb));
    }
}

/* ---- signal: uv_signal ---- */

static uv_signal_t sig_h;

static void sig_cb(uv_signal_t *h, int signum)
{
    (void)signum;
    if (bench_sig_delivered(1)) {
        uv_signal_stop(h);
        uv_close((uv_handle_t *)h, NULL);
    }
}

static void sig_watch(int signum)
{
    UV_CHECK(uv_signal_init(&loop, &sig_h));
    UV_CHECK(uv_signal_start(&sig_h, sig_cb, signum));
}

static void w_signal_rt(uint64_t n)
{
    bench_signal_rt(n, sig_watch, "uv_signal");
}

/* ---- worker pool: uv_queue_work ---- */

struct job {
    uv_work_t req;
    uint64_t in;
    uint64_t out;
    uint64_t t_submit;
};

static struct job *jobs;
static uint64_t pool_done;
static uint64_t pool_total;
static uint64_t pool_end;
static uint64_t pool_deadline;
static uint64_t *pool_samples;

static void work_cb(uv_work_t *req)
{
    struct job *j = req->data;
    j->out = j->in * 2 + 1;
}

static void after_batch(uv_work_t *req, int status)
{
    struct job *j = req->data;
    BENCH_CHECK(status == 0 && j->out == j->in * 2 + 1, "bad job result");
    if (++pool_done == pool_total) {
        pool_end = bench_now_ns();
    }
}

static void w_pool_batch(uint64_t n)
{
    jobs = bench_alloc(n, sizeof(*jobs));
    pool_done = 0;
    pool_total = n;
    peer_loop_new();
    for (uint64_t i = 0; i < n; i++) {
        jobs[i].req.data = &jobs[i];
        jobs[i].in = i;
    }
    uint64_t cold = 0;
    uint64_t warm = 0;
    /* The first pass also starts libuv's thread pool (lazily created on first use). */
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        pool_done = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            UV_CHECK(uv_queue_work(&loop, &jobs[i].req, work_cb, after_batch));
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        BENCH_CHECK(pool_done == n, "%" PRIu64 " of %" PRIu64 " jobs", pool_done, n);
        if (pass == 0) {
            cold = pool_end - t0;
        } else {
            warm = pool_end - t0;
        }
    }
    bench_report("pool_batch", n, (double)warm / (double)n, "threads %s cold_ns %.2f",
                 getenv("UV_THREADPOOL_SIZE"), (double)cold / (double)n);
    peer_loop_finish();
    free(jobs);
}

static void after_rt(uv_work_t *req, int status)
{
    struct job *j = req->data;
    BENCH_CHECK(status == 0 && j->out == j->in * 2 + 1, "bad job result");
    pool_samples[pool_done] = bench_now_ns() - j->t_submit;
    if (++pool_done == pool_total) {
        return;
    }
    if (pool_done >= 100 && bench_now_ns() > pool_deadline) {
        pool_total = pool_done; /* over the time budget: report what was measured */
        return;
    }
    struct job *next = &jobs[pool_done];
    next->t_submit = bench_now_ns();
    UV_CHECK(uv_queue_work(&loop, &next->req, work_cb, after_rt));
}

static void w_pool_rt(uint64_t n)
{
    jobs = bench_alloc(n, sizeof(*jobs));
    pool_samples = bench_alloc(n, sizeof(*pool_samples));
    pool_done = 0;
    pool_total = n;
    peer_loop_new();
    for (uint64_t i = 0; i < n; i++) {
        jobs[i].req.data = &jobs[i];
        jobs[i].in = i;
    }
    if (bench_warmup) {
        /* Start libuv's lazily created thread pool outside the measurement. */
        pool_total = 1;
        UV_CHECK(uv_queue_work(&loop, &jobs[0].req, work_cb, after_batch));
        uv_run(&loop, UV_RUN_DEFAULT);
        pool_done = 0;
        pool_total = n;
    }
    pool_deadline = bench_now_ns() + bench_budget_ns();
    jobs[0].t_submit = bench_now_ns();
    UV_CHECK(uv_queue_work(&loop, &jobs[0].req, work_cb, after_rt));
    uv_run(&loop, UV_RUN_DEFAULT);
    BENCH_CHECK(pool_done == pool_total, "%" PRIu64 " of %" PRIu64 " jobs", pool_done, pool_total);
    n = pool_total;
    uint64_t p50 = bench_quantile(pool_samples, n, 0.5, 0);
    bench_report("pool_rt", n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(pool_samples, n, 0.1, 1), bench_quantile(pool_samples, n, 0.99, 1));
    peer_loop_finish();
    free(jobs);
    free(pool_samples);
}

static void w_mem_pool_job(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_pool_job", 1, (double)sizeof(uv_work_t), "sizeof(uv_work_t)");
}

static const struct bench_workload workloads[] = {
    {"signal_rt", w_signal_rt, 3000, 300},
    BENCH_PEER_WORKLOADS,
    {"pool_batch", w_pool_batch, 400000, 50000},
    {"pool_rt", w_pool_rt, 20000, 5000},
    BENCH_PEER_MEM_WORKLOADS,
    {"mem_pool_job", w_mem_pool_job, 1, 1},
};

int main(int argc, char **argv)
{
    bench_lib = "libuv";
    /* Same worker count as evl's pool benchmark; must be set before the pool starts. */
    if (getenv("UV_THREADPOOL_SIZE") == NULL) {
        setenv("UV_THREADPOOL_SIZE", "4", 1);
    }
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

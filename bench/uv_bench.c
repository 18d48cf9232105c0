/*
 * libuv side of the benchmark suite: the same workloads as evl_core.c / evl_io.c /
 * evl_pool.c, each written with libuv's best idiom. See bench_common.h for the output
 * format and docs/performance.md for what each workload measures.
 */
#define _GNU_SOURCE 1
#include "bench_common.h"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <uv.h>

#define UV_CHECK(expr)                                            \
    do {                                                          \
        int rc_ = (expr);                                         \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, uv_strerror(rc_)); \
    } while (0)

static uv_loop_t loop;

static void close_all_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void loop_finish(void)
{
    uv_walk(&loop, close_all_cb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    UV_CHECK(uv_loop_close(&loop));
}

/* ---- submit throughput: preallocated mutex queue + uv_async_send ---- */

static struct bench_mq mq;
static uv_async_t async;
static struct bench_gate gate;

struct producer {
    pthread_t thread;
    unsigned id;
    uint64_t count;
};

static void submit_task(void *arg)
{
    bench_submit_account(arg);
}

static void on_async(uv_async_t *h)
{
    bench_mq_drain(&mq);
    if (bench_sub.done == bench_sub.total) {
        uv_close((uv_handle_t *)h, NULL);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    bench_gate_wait(&gate);
    for (uint64_t i = 0; i < p->count; i++) {
        bench_mq_push(&mq, submit_task, bench_submit_arg(p->id, i));
        uv_async_send(&async);
    }
    return NULL;
}

static void submit_run(const char *name, unsigned producers, uint64_t n)
{
    struct producer prod[BENCH_MAX_PRODUCERS];
    uint64_t per = n / producers;
    bench_submit_reset(per * producers);
    bench_mq_init(&mq, per * producers);
    atomic_store(&gate.open, 0);
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_async_init(&loop, &async, on_async));
    for (unsigned i = 0; i < producers; i++) {
        prod[i].id = i;
        prod[i].count = per;
        pthread_create(&prod[i].thread, NULL, producer_main, &prod[i]);
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&gate.open, 1, memory_order_release);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < producers; i++) {
        pthread_join(prod[i].thread, NULL);
    }
    bench_submit_verify(producers, per);
    bench_report(name, bench_sub.total, (double)(bench_sub.t_end - t0) / (double)bench_sub.total,
                 "producers %u", producers);
    loop_finish();
    bench_mq_deinit(&mq);
}

static void w_submit_1p(uint64_t n)
{
    submit_run("submit_1p", 1, n);
}

static void w_submit_2p(uint64_t n)
{
    submit_run("submit_2p", 2, n);
}

/* ---- cross-thread round trip ---- */

static atomic_uint_fast64_t rt_answer;
static sem_t rt_sem;
static int rt_sleeping;
static uint64_t *rt_samples;
static uint64_t rt_count;

static void rt_reply(void *arg)
{
    if (rt_sleeping) {
        sem_post(&rt_sem);
    } else {
        atomic_store_explicit(&rt_answer, (uint64_t)(uintptr_t)arg, memory_order_release);
    }
}

static void rt_quit(void *arg)
{
    (void)arg;
    uv_close((uv_handle_t *)&async, NULL);
}

static void rt_async(uv_async_t *h)
{
    (void)h;
    bench_mq_drain(&mq);
}

static void *rt_client(void *arg)
{
    (void)arg;
    uint64_t begin = bench_now_ns();
    uint64_t deadline = begin + bench_budget_ns();
    for (uint64_t i = 0; i < rt_count; i++) {
        uint64_t t0 = bench_now_ns();
        if (i >= 100 && t0 > deadline) {
            rt_count = i;
            break;
        }
        bench_mq_push(&mq, rt_reply, (void *)(uintptr_t)(i + 1));
        uv_async_send(&async);
        if (rt_sleeping) {
            while (sem_wait(&rt_sem) != 0) {
            }
        } else {
            while (atomic_load_explicit(&rt_answer, memory_order_acquire) != i + 1) {
                BENCH_CPU_RELAX();
            }
        }
        rt_samples[i] = bench_now_ns() - t0;
    }
    bench_mq_push(&mq, rt_quit, NULL);
    uv_async_send(&async);
    return NULL;
}

static void rt_run(const char *name, int sleeping, uint64_t n)
{
    pthread_t client;
    rt_sleeping = sleeping;
    rt_count = n;
    rt_samples = bench_alloc(n, sizeof(*rt_samples));
    atomic_store(&rt_answer, 0);
    sem_init(&rt_sem, 0, 0);
    bench_mq_init(&mq, 16);
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_async_init(&loop, &async, rt_async));
    pthread_create(&client, NULL, rt_client, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(client, NULL);
    n = rt_count;
    uint64_t p50 = bench_quantile(rt_samples, n, 0.5, 0);
    bench_report(name, n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(rt_samples, n, 0.10, 1), bench_quantile(rt_samples, n, 0.99, 1));
    loop_finish();
    bench_mq_deinit(&mq);
    sem_destroy(&rt_sem);
    free(rt_samples);
}

static void w_rt_spin(uint64_t n)
{
    rt_run("rt_spin", 0, n);
}

static void w_rt_sleep(uint64_t n)
{
    rt_run("rt_sleep", 1, n);
}

/* ---- timers ---- */

static uint64_t fired;

static void never_cb(uv_timer_t *t)
{
    (void)t;
    fired++;
}

static void w_timer_startstop(uint64_t n)
{
    uv_timer_t *t = bench_alloc(n, sizeof(*t));
    uint64_t *delay = bench_alloc(n, sizeof(*delay));
    uint64_t rng = 42;
    fired = 0;
    UV_CHECK(uv_loop_init(&loop));
    for (uint64_t i = 0; i < n; i++) {
        delay[i] = 1000 + bench_rand(&rng) % 1000000;
        UV_CHECK(uv_timer_init(&loop, &t[i]));
    }
    uint64_t start_ns = 0;
    uint64_t stop_ns = 0;
    uint64_t cold_start = 0;
    uint64_t cold_stop = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            uv_timer_start(&t[i], never_cb, delay[i], 0);
        }
        uint64_t t1 = bench_now_ns();
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(uv_is_active((uv_handle_t *)&t[i]), "timer %" PRIu64 " not active", i);
        }
        uint64_t t2 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            uv_timer_stop(&t[i]);
        }
        uint64_t t3 = bench_now_ns();
        uv_run(&loop, UV_RUN_NOWAIT);
        BENCH_CHECK(fired == 0, "%" PRIu64 " stopped timers fired", fired);
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(!uv_is_active((uv_handle_t *)&t[i]), "timer %" PRIu64 " still active", i);
        }
        if (pass == 0) {
            cold_start = t1 - t0;
            cold_stop = t3 - t2;
        } else {
            start_ns = t1 - t0;
            stop_ns = t3 - t2;
        }
    }
    bench_report("timer_start", n, (double)start_ns / (double)n, "cold_ns %.2f",
                 (double)cold_start / (double)n);
    bench_report("timer_stop", n, (double)stop_ns / (double)n, "cold_ns %.2f",
                 (double)cold_stop / (double)n);
    loop_finish();
    free(t);
    free(delay);
}

static uint64_t zero_next;
static uint64_t zero_violations;
static uint64_t zero_total;
static uint64_t zero_end;

static void zero_cb(uv_timer_t *t)
{
    uint64_t seq = (uint64_t)(uintptr_t)t->data;
    if (seq != zero_next) {
        zero_violations++;
    }
    zero_next = seq + 1;
    if (++fired == zero_total) {
        zero_end = bench_now_ns();
    }
}

static void w_timers_zero(uint64_t n)
{
    uv_timer_t *t = bench_alloc(n, sizeof(*t));
    fired = 0;
    zero_next = 0;
    zero_violations = 0;
    zero_total = n;
    UV_CHECK(uv_loop_init(&loop));
    for (uint64_t i = 0; i < n; i++) {
        UV_CHECK(uv_timer_init(&loop, &t[i]));
        t[i].data = (void *)(uintptr_t)i;
    }
    uint64_t cold = 0;
    uint64_t warm = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        zero_next = 0;
        zero_violations = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            uv_timer_start(&t[i], zero_cb, 0, 0);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        BENCH_CHECK(fired == n, "fired %" PRIu64 " of %" PRIu64, fired, n);
        if (pass == 0) {
            cold = zero_end - t0;
        } else {
            warm = zero_end - t0;
        }
    }
    bench_report("timers_zero", n, (double)warm / (double)n, "order_viol %" PRIu64 " cold_ns %.2f",
                 zero_violations, (double)cold / (double)n);
    loop_finish();
    free(t);
}

static void spread_cb(uv_timer_t *t)
{
    bench_spread_fire((uint64_t)(uintptr_t)t->data);
}

static void w_timers_spread(uint64_t n)
{
    uv_timer_t *t = bench_alloc(n, sizeof(*t));
    uint64_t rng = 7;
    bench_spread_init(n);
    UV_CHECK(uv_loop_init(&loop));
    for (uint64_t i = 0; i < n; i++) {
        UV_CHECK(uv_timer_init(&loop, &t[i]));
        t[i].data = (void *)(uintptr_t)i;
    }
    /* Warm-up pass, as every program does: start and stop every timer once. */
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        uv_timer_start(&t[i], spread_cb, 1000000, 0);
    }
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        uv_timer_stop(&t[i]);
    }
    uv_update_time(&loop);
    uint64_t c0 = bench_thread_cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = 1 + bench_rand(&rng) % 100;
        bench_spread_schedule(i, d);
        uv_timer_start(&t[i], spread_cb, d, 0);
        bench_spread_scheduled(i, d);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t cpu = bench_thread_cpu_ns() - c0;
    bench_spread_report(n, cpu);
    loop_finish();
    free(t);
}

/* ---- zero-delay self-rescheduling chains ---- */

static uint64_t chain_left;
static uint64_t chain_end;
static uv_idle_t idle;
static uv_timer_t chain_timer;

static void idle_cb(uv_idle_t *h)
{
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        uv_idle_stop(h);
    }
}

static void w_chain_immediate(uint64_t n)
{
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_idle_init(&loop, &idle));
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    uv_idle_start(&idle, idle_cb);
    uv_run(&loop, UV_RUN_DEFAULT);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_immediate", n, (double)(chain_end - t0) / (double)n, "idiom uv_idle");
    loop_finish();
}

static void chain_timer_cb(uv_timer_t *t)
{
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    uv_timer_start(t, chain_timer_cb, 0, 0);
}

static void w_chain_timer(uint64_t n)
{
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_timer_init(&loop, &chain_timer));
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    uv_timer_start(&chain_timer, chain_timer_cb, 0, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_timer", n, (double)(chain_end - t0) / (double)n,
                 "starves_io 1 idiom uv_timer(runs-again-in-same-timer-phase)");
    loop_finish();
}

/* ---- fd ping-pong over a socketpair (uv_poll) ---- */

static int sv[2];
static uv_poll_t poll_a;
static uv_poll_t poll_b;
static uint64_t pp_count;
static uint64_t pp_total;
static uint64_t pp_end;

static void make_pair(int nonblock_b)
{
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (nonblock_b) {
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
    }
}

static void send_byte(int fd, unsigned char b)
{
    BENCH_CHECK(write(fd, &b, 1) == 1, "write: %s", strerror(errno));
}

static void pp_a_cb(uv_poll_t *h, int status, int events)
{
    unsigned char b = 0;
    BENCH_CHECK(status == 0 && (events & UV_READABLE), "poll a status %d", status);
    BENCH_CHECK(read(sv[0], &b, 1) == 1, "read a: %s", strerror(errno));
    BENCH_CHECK(b == (unsigned char)pp_count, "echo %u != %u", b, (unsigned char)pp_count);
    if (++pp_count == pp_total) {
        pp_end = bench_now_ns();
        uv_poll_stop(h);
        if (uv_is_active((uv_handle_t *)&poll_b)) {
            uv_poll_stop(&poll_b);
        }
        return;
    }
    send_byte(sv[0], (unsigned char)pp_count);
}

static void pp_b_cb(uv_poll_t *h, int status, int events)
{
    (void)h;
    unsigned char b = 0;
    BENCH_CHECK(status == 0 && (events & UV_READABLE), "poll b status %d", status);
    BENCH_CHECK(read(sv[1], &b, 1) == 1, "read b: %s", strerror(errno));
    send_byte(sv[1], b);
}

static void *echo_peer(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char b = 0;
        if (read(sv[1], &b, 1) != 1) {
            break;
        }
        send_byte(sv[1], b);
    }
    return NULL;
}

static void pingpong(const char *name, int threaded, uint64_t n)
{
    pthread_t peer;
    make_pair(!threaded);
    pp_count = 0;
    pp_total = n;
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_poll_init(&loop, &poll_a, sv[0]));
    UV_CHECK(uv_poll_start(&poll_a, UV_READABLE, pp_a_cb));
    if (threaded) {
        pthread_create(&peer, NULL, echo_peer, &pp_total);
    } else {
        UV_CHECK(uv_poll_init(&loop, &poll_b, sv[1]));
        UV_CHECK(uv_poll_start(&poll_b, UV_READABLE, pp_b_cb));
    }
    uint64_t t0 = bench_now_ns();
    send_byte(sv[0], 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (threaded) {
        pthread_join(peer, NULL);
    }
    BENCH_CHECK(pp_count == n, "%" PRIu64 " of %" PRIu64 " round trips", pp_count, n);
    bench_report(name, n, (double)(pp_end - t0) / (double)n, "idiom uv_poll");
    loop_finish();
    close(sv[0]);
    close(sv[1]);
}

static void w_fd_local(uint64_t n)
{
    pingpong("fd_pingpong_local", 0, n);
}

static void w_fd_thread(uint64_t n)
{
    pingpong("fd_pingpong_thread", 1, n);
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
    UV_CHECK(uv_loop_init(&loop));
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
    loop_finish();
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
    UV_CHECK(uv_loop_init(&loop));
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
    loop_finish();
    free(jobs);
    free(pool_samples);
}

/* ---- signal delivered to an idle loop ---- */

static uv_signal_t sig_h;

static void sig_cb(uv_signal_t *h, int signum)
{
    (void)signum;
    if (bench_sig_delivered(1)) {
        uv_signal_stop(h);
        uv_close((uv_handle_t *)h, NULL);
    }
}

static void w_signal_rt(uint64_t n)
{
    UV_CHECK(uv_loop_init(&loop));
    UV_CHECK(uv_signal_init(&loop, &sig_h));
    UV_CHECK(uv_signal_start(&sig_h, sig_cb, SIGUSR1));
    pthread_t th;
    bench_sig_start(&th, SIGUSR1, n);
    uv_run(&loop, UV_RUN_DEFAULT);
    bench_sig_finish(th, "uv_signal");
    loop_finish();
}

/* ---- memory: libuv's handles are caller-owned, so their size is the cost ---- */

static void w_mem_timer(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_timer", 1, (double)sizeof(uv_timer_t), "sizeof(uv_timer_t)");
}

static void w_mem_task(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_task", 1, (double)sizeof(struct bench_item),
                       "mutex-queue-entry(fn,arg)");
}

static void w_mem_fd(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_fd", 1, (double)sizeof(uv_poll_t), "sizeof(uv_poll_t)");
}

static void w_mem_pool_job(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_pool_job", 1, (double)sizeof(uv_work_t), "sizeof(uv_work_t)");
}

static const struct bench_workload workloads[] = {
    {"signal_rt", w_signal_rt, 3000, 300},
    {"submit_1p", w_submit_1p, 4000000, 500000},
    {"submit_2p", w_submit_2p, 4000000, 500000},
    {"rt_spin", w_rt_spin, 20000, 5000},
    {"rt_sleep", w_rt_sleep, 20000, 3000},
    {"timer_startstop", w_timer_startstop, 1000000, 100000},
    {"timers_zero", w_timers_zero, 1000000, 200000},
    {"timers_spread", w_timers_spread, 100000, 100000},
    {"chain_immediate", w_chain_immediate, 2000000, 100000},
    {"chain_timer", w_chain_timer, 2000000, 100000},
    {"fd_pingpong_local", w_fd_local, 100000, 5000},
    {"fd_pingpong_thread", w_fd_thread, 100000, 5000},
    {"pool_batch", w_pool_batch, 400000, 50000},
    {"pool_rt", w_pool_rt, 20000, 5000},
    {"mem_timer", w_mem_timer, 1, 1},
    {"mem_task", w_mem_task, 1, 1},
    {"mem_fd", w_mem_fd, 1, 1},
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

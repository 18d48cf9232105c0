/*
 * libev side of the benchmark suite: the same workloads as uv_bench.c, each written with
 * libev's best idiom (ev_async for cross-thread work, ev_idle for a per-iteration turn,
 * ev_timer, ev_io). libev has no worker pool and no microtasks. See bench_common.h for the
 * output format and docs/performance.md for what each workload measures.
 */
#define _GNU_SOURCE 1
#include "bench_common.h"

#include <ev.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/socket.h>

static struct ev_loop *loop;

static void loop_new(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    BENCH_CHECK(loop != NULL, "ev_loop_new failed");
}

static void loop_finish(void)
{
    ev_loop_destroy(loop);
    loop = NULL;
}

/* ---- submit throughput: preallocated mutex queue + ev_async_send ---- */

static struct bench_mq mq;
static ev_async async;
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

static void on_async(struct ev_loop *l, ev_async *w, int revents)
{
    (void)revents;
    bench_mq_drain(&mq);
    if (bench_sub.done == bench_sub.total) {
        ev_async_stop(l, w);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    bench_gate_wait(&gate);
    for (uint64_t i = 0; i < p->count; i++) {
        bench_mq_push(&mq, submit_task, bench_submit_arg(p->id, i));
        ev_async_send(loop, &async);
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
    loop_new();
    ev_async_init(&async, on_async);
    ev_async_start(loop, &async);
    for (unsigned i = 0; i < producers; i++) {
        prod[i].id = i;
        prod[i].count = per;
        pthread_create(&prod[i].thread, NULL, producer_main, &prod[i]);
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&gate.open, 1, memory_order_release);
    ev_run(loop, 0);
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
    ev_async_stop(loop, &async);
}

static void rt_async(struct ev_loop *l, ev_async *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
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
        ev_async_send(loop, &async);
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
    ev_async_send(loop, &async);
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
    loop_new();
    ev_async_init(&async, rt_async);
    ev_async_start(loop, &async);
    pthread_create(&client, NULL, rt_client, NULL);
    ev_run(loop, 0);
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

static void never_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)t;
    (void)revents;
    fired++;
}

static void w_timer_startstop(uint64_t n)
{
    ev_timer *t = bench_alloc(n, sizeof(*t));
    uint64_t *delay = bench_alloc(n, sizeof(*delay));
    uint64_t rng = 42;
    fired = 0;
    loop_new();
    for (uint64_t i = 0; i < n; i++) {
        delay[i] = 1000 + bench_rand(&rng) % 1000000;
        ev_timer_init(&t[i], never_cb, (double)delay[i] / 1e3, 0.);
    }
    uint64_t start_ns = 0;
    uint64_t stop_ns = 0;
    uint64_t cold_start = 0;
    uint64_t cold_stop = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            ev_timer_start(loop, &t[i]);
        }
        uint64_t t1 = bench_now_ns();
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(ev_is_active(&t[i]), "timer %" PRIu64 " not active", i);
        }
        uint64_t t2 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            ev_timer_stop(loop, &t[i]);
        }
        uint64_t t3 = bench_now_ns();
        ev_run(loop, EVRUN_NOWAIT);
        BENCH_CHECK(fired == 0, "%" PRIu64 " stopped timers fired", fired);
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(!ev_is_active(&t[i]), "timer %" PRIu64 " still active", i);
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

static void zero_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)revents;
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
    ev_timer *t = bench_alloc(n, sizeof(*t));
    fired = 0;
    zero_next = 0;
    zero_violations = 0;
    zero_total = n;
    loop_new();
    for (uint64_t i = 0; i < n; i++) {
        ev_timer_init(&t[i], zero_cb, 0., 0.);
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
            ev_timer_start(loop, &t[i]);
        }
        ev_run(loop, 0);
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

static void spread_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)revents;
    bench_spread_fire((uint64_t)(uintptr_t)t->data);
}

static void w_timers_spread(uint64_t n)
{
    ev_timer *t = bench_alloc(n, sizeof(*t));
    uint64_t rng = 7;
    bench_spread_init(n);
    loop_new();
    for (uint64_t i = 0; i < n; i++) {
        t[i].data = (void *)(uintptr_t)i;
    }
    /* Warm-up pass, as every program does: start and stop every timer once. */
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        ev_timer_init(&t[i], spread_cb, 1000., 0.);
        ev_timer_start(loop, &t[i]);
    }
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        ev_timer_stop(loop, &t[i]);
    }
    ev_now_update(loop);
    uint64_t c0 = bench_thread_cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = 1 + bench_rand(&rng) % 100;
        bench_spread_schedule(i, d);
        ev_timer_init(&t[i], spread_cb, (double)d / 1e3, 0.);
        t[i].data = (void *)(uintptr_t)i;
        ev_timer_start(loop, &t[i]);
        bench_spread_scheduled(i, d);
    }
    ev_run(loop, 0);
    uint64_t cpu = bench_thread_cpu_ns() - c0;
    bench_spread_report(n, cpu);
    loop_finish();
    free(t);
}

/* ---- zero-delay self-rescheduling chains ---- */

static uint64_t chain_left;
static uint64_t chain_end;
static ev_idle idle;
static ev_timer chain_timer;

static void idle_cb(struct ev_loop *l, ev_idle *w, int revents)
{
    (void)revents;
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        ev_idle_stop(l, w);
    }
}

static void w_chain_immediate(uint64_t n)
{
    loop_new();
    ev_idle_init(&idle, idle_cb);
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    ev_idle_start(loop, &idle);
    ev_run(loop, 0);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_immediate", n, (double)(chain_end - t0) / (double)n, "idiom ev_idle");
    loop_finish();
}

static void chain_timer_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)revents;
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    ev_timer_set(t, 0., 0.);
    ev_timer_start(l, t);
}

static void w_chain_timer(uint64_t n)
{
    loop_new();
    ev_timer_init(&chain_timer, chain_timer_cb, 0., 0.);
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    ev_timer_start(loop, &chain_timer);
    ev_run(loop, 0);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_timer", n, (double)(chain_end - t0) / (double)n, NULL);
    loop_finish();
}

/* ---- fd ping-pong over a socketpair (ev_io) ---- */

static int sv[2];
static ev_io io_a;
static ev_io io_b;
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

static void pp_a_cb(struct ev_loop *l, ev_io *w, int revents)
{
    unsigned char b = 0;
    BENCH_CHECK(revents & EV_READ, "io a revents %d", revents);
    BENCH_CHECK(read(sv[0], &b, 1) == 1, "read a: %s", strerror(errno));
    BENCH_CHECK(b == (unsigned char)pp_count, "echo %u != %u", b, (unsigned char)pp_count);
    if (++pp_count == pp_total) {
        pp_end = bench_now_ns();
        ev_io_stop(l, w);
        ev_io_stop(l, &io_b);
        return;
    }
    send_byte(sv[0], (unsigned char)pp_count);
}

static void pp_b_cb(struct ev_loop *l, ev_io *w, int revents)
{
    (void)l;
    (void)w;
    unsigned char b = 0;
    BENCH_CHECK(revents & EV_READ, "io b revents %d", revents);
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
    loop_new();
    ev_io_init(&io_a, pp_a_cb, sv[0], EV_READ);
    ev_io_start(loop, &io_a);
    ev_io_init(&io_b, pp_b_cb, sv[1], EV_READ);
    if (threaded) {
        pthread_create(&peer, NULL, echo_peer, &pp_total);
    } else {
        ev_io_start(loop, &io_b);
    }
    uint64_t t0 = bench_now_ns();
    send_byte(sv[0], 0);
    ev_run(loop, 0);
    if (threaded) {
        pthread_join(peer, NULL);
    }
    BENCH_CHECK(pp_count == n, "%" PRIu64 " of %" PRIu64 " round trips", pp_count, n);
    bench_report(name, n, (double)(pp_end - t0) / (double)n, "idiom ev_io");
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

/* ---- signal delivered to an idle loop ---- */

static ev_signal sig_w;

static void sig_cb(struct ev_loop *l, ev_signal *w, int revents)
{
    (void)revents;
    if (bench_sig_delivered(1)) {
        ev_signal_stop(l, w);
    }
}

static void w_signal_rt(uint64_t n)
{
    loop_new();
    ev_signal_init(&sig_w, sig_cb, SIGUSR1);
    ev_signal_start(loop, &sig_w);
    pthread_t th;
    bench_sig_start(&th, SIGUSR1, n);
    ev_run(loop, 0);
    bench_sig_finish(th, "ev_signal");
    loop_finish();
}

/* ---- memory: libev's watchers are caller-owned, so their size is the cost ---- */

static void w_mem_timer(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_timer", 1, (double)(sizeof(ev_timer) + sizeof(double) + sizeof(void *)),
                       "sizeof(ev_timer)+16B-heap-slot");
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
    bench_report_bytes("mem_fd", 1, (double)sizeof(ev_io), "sizeof(ev_io)");
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
    {"mem_timer", w_mem_timer, 1, 1},
    {"mem_task", w_mem_task, 1, 1},
    {"mem_fd", w_mem_fd, 1, 1},
};

int main(int argc, char **argv)
{
    bench_lib = "libev";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

/*
 * libevent side of the benchmark suite: the same workloads as uv_bench.c, each written with
 * libevent's best idiom (event_active on a user event from other threads with
 * evthread_use_pthreads, evtimer_add, persistent read events). libevent has no worker pool
 * and no microtasks. See bench_common.h for the output format and docs/performance.md.
 */
#define _GNU_SOURCE 1
#include "bench_common.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/socket.h>

static struct event_base *base;

static void base_new(void)
{
    base = event_base_new();
    BENCH_CHECK(base != NULL, "event_base_new failed");
}

static void base_finish(void)
{
    event_base_free(base);
    base = NULL;
}

/* ---- submit throughput: preallocated mutex queue + event_active from the producer ---- */

static struct bench_mq mq;
static struct event *wake;
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

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    bench_mq_drain(&mq);
    if (bench_sub.done == bench_sub.total) {
        event_base_loopbreak(base);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    bench_gate_wait(&gate);
    for (uint64_t i = 0; i < p->count; i++) {
        bench_mq_push(&mq, submit_task, bench_submit_arg(p->id, i));
        event_active(wake, EV_READ, 0);
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
    base_new();
    wake = event_new(base, -1, 0, on_wake, NULL);
    for (unsigned i = 0; i < producers; i++) {
        prod[i].id = i;
        prod[i].count = per;
        pthread_create(&prod[i].thread, NULL, producer_main, &prod[i]);
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&gate.open, 1, memory_order_release);
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    for (unsigned i = 0; i < producers; i++) {
        pthread_join(prod[i].thread, NULL);
    }
    bench_submit_verify(producers, per);
    bench_report(name, bench_sub.total, (double)(bench_sub.t_end - t0) / (double)bench_sub.total,
                 "producers %u", producers);
    event_free(wake);
    base_finish();
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
    event_base_loopbreak(base);
}

static void rt_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
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
        event_active(wake, EV_READ, 0);
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
    event_active(wake, EV_READ, 0);
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
    base_new();
    wake = event_new(base, -1, 0, rt_wake, NULL);
    pthread_create(&client, NULL, rt_client, NULL);
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    pthread_join(client, NULL);
    n = rt_count;
    uint64_t p50 = bench_quantile(rt_samples, n, 0.5, 0);
    bench_report(name, n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(rt_samples, n, 0.10, 1), bench_quantile(rt_samples, n, 0.99, 1));
    event_free(wake);
    base_finish();
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

static void never_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fired++;
}

static struct event *events_new(uint64_t n)
{
    /* One block of n events: libevent's struct event is opaque in size, ask for it. */
    size_t size = event_get_struct_event_size();
    return bench_alloc(n, size);
}

static struct event *event_at(struct event *evs, uint64_t i)
{
    return (struct event *)(void *)((char *)evs + i * event_get_struct_event_size());
}

static void w_timer_startstop(uint64_t n)
{
    struct event *evs = events_new(n);
    struct timeval *tv = bench_alloc(n, sizeof(*tv));
    uint64_t rng = 42;
    fired = 0;
    base_new();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ms = 1000 + bench_rand(&rng) % 1000000;
        tv[i].tv_sec = (time_t)(ms / 1000);
        tv[i].tv_usec = (suseconds_t)((ms % 1000) * 1000);
        evtimer_assign(event_at(evs, i), base, never_cb, NULL);
    }
    uint64_t start_ns = 0;
    uint64_t stop_ns = 0;
    uint64_t cold_start = 0;
    uint64_t cold_stop = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            evtimer_add(event_at(evs, i), &tv[i]);
        }
        uint64_t t1 = bench_now_ns();
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(evtimer_pending(event_at(evs, i), NULL), "timer %" PRIu64 " not pending",
                        i);
        }
        uint64_t t2 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            evtimer_del(event_at(evs, i));
        }
        uint64_t t3 = bench_now_ns();
        event_base_loop(base, EVLOOP_NONBLOCK);
        BENCH_CHECK(fired == 0, "%" PRIu64 " stopped timers fired", fired);
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(!evtimer_pending(event_at(evs, i), NULL), "timer %" PRIu64 " still pending",
                        i);
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
    base_finish();
    free(evs);
    free(tv);
}

static uint64_t zero_next;
static uint64_t zero_violations;
static uint64_t zero_total;
static uint64_t zero_end;

static void zero_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    uint64_t seq = (uint64_t)(uintptr_t)arg;
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
    struct event *evs = events_new(n);
    struct timeval zero = {0, 0};
    fired = 0;
    zero_next = 0;
    zero_violations = 0;
    zero_total = n;
    base_new();
    for (uint64_t i = 0; i < n; i++) {
        evtimer_assign(event_at(evs, i), base, zero_cb, (void *)(uintptr_t)i);
    }
    uint64_t cold = 0;
    uint64_t warm = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        zero_next = 0;
        zero_violations = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            evtimer_add(event_at(evs, i), &zero);
        }
        event_base_loop(base, 0);
        BENCH_CHECK(fired == n, "fired %" PRIu64 " of %" PRIu64, fired, n);
        if (pass == 0) {
            cold = zero_end - t0;
        } else {
            warm = zero_end - t0;
        }
    }
    bench_report("timers_zero", n, (double)warm / (double)n, "order_viol %" PRIu64 " cold_ns %.2f",
                 zero_violations, (double)cold / (double)n);
    base_finish();
    free(evs);
}

static void spread_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bench_spread_fire((uint64_t)(uintptr_t)arg);
}

static void w_timers_spread(uint64_t n)
{
    struct event *evs = events_new(n);
    uint64_t rng = 7;
    bench_spread_init(n);
    base_new();
    for (uint64_t i = 0; i < n; i++) {
        evtimer_assign(event_at(evs, i), base, spread_cb, (void *)(uintptr_t)i);
    }
    /* Warm-up pass, as every program does: add and delete every timer once. */
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        struct timeval far = {1000, 0};
        evtimer_add(event_at(evs, i), &far);
    }
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        evtimer_del(event_at(evs, i));
    }
    uint64_t c0 = bench_thread_cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = 1 + bench_rand(&rng) % 100;
        struct timeval tv = {0, (suseconds_t)(d * 1000)};
        bench_spread_schedule(i, d);
        evtimer_add(event_at(evs, i), &tv);
        bench_spread_scheduled(i, d);
    }
    event_base_loop(base, 0);
    uint64_t cpu = bench_thread_cpu_ns() - c0;
    bench_spread_report(n, cpu);
    base_finish();
    free(evs);
}

/* ---- zero-delay self-rescheduling chains ---- */

static uint64_t chain_left;
static uint64_t chain_end;
static struct event *chain_ev;

static void active_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    event_active(chain_ev, EV_TIMEOUT, 0);
}

static void w_chain_immediate(uint64_t n)
{
    base_new();
    chain_ev = event_new(base, -1, 0, active_cb, NULL);
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    event_active(chain_ev, EV_TIMEOUT, 0);
    event_base_loop(base, 0);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_immediate", n, (double)(chain_end - t0) / (double)n,
                 "starves_io 1 idiom event_active(same-pass)");
    event_free(chain_ev);
    base_finish();
}

static void chain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    static const struct timeval zero = {0, 0};
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    evtimer_add(chain_ev, &zero);
}

static void w_chain_timer(uint64_t n)
{
    static const struct timeval zero = {0, 0};
    base_new();
    chain_ev = evtimer_new(base, chain_timer_cb, NULL);
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    evtimer_add(chain_ev, &zero);
    event_base_loop(base, 0);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_timer", n, (double)(chain_end - t0) / (double)n, NULL);
    event_free(chain_ev);
    base_finish();
}

/* ---- fd ping-pong over a socketpair (persistent read events) ---- */

static int sv[2];
static struct event *ev_a;
static struct event *ev_b;
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

static void pp_a_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    unsigned char b = 0;
    BENCH_CHECK(what & EV_READ, "event a flags %d", what);
    BENCH_CHECK(read(fd, &b, 1) == 1, "read a: %s", strerror(errno));
    BENCH_CHECK(b == (unsigned char)pp_count, "echo %u != %u", b, (unsigned char)pp_count);
    if (++pp_count == pp_total) {
        pp_end = bench_now_ns();
        event_del(ev_a);
        if (ev_b != NULL) {
            event_del(ev_b);
        }
        return;
    }
    send_byte(fd, (unsigned char)pp_count);
}

static void pp_b_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    unsigned char b = 0;
    BENCH_CHECK(what & EV_READ, "event b flags %d", what);
    BENCH_CHECK(read(fd, &b, 1) == 1, "read b: %s", strerror(errno));
    send_byte(fd, b);
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
    base_new();
    ev_a = event_new(base, sv[0], EV_READ | EV_PERSIST, pp_a_cb, NULL);
    event_add(ev_a, NULL);
    ev_b = NULL;
    if (threaded) {
        pthread_create(&peer, NULL, echo_peer, &pp_total);
    } else {
        ev_b = event_new(base, sv[1], EV_READ | EV_PERSIST, pp_b_cb, NULL);
        event_add(ev_b, NULL);
    }
    uint64_t t0 = bench_now_ns();
    send_byte(sv[0], 0);
    event_base_loop(base, 0);
    if (threaded) {
        pthread_join(peer, NULL);
    }
    BENCH_CHECK(pp_count == n, "%" PRIu64 " of %" PRIu64 " round trips", pp_count, n);
    bench_report(name, n, (double)(pp_end - t0) / (double)n, "idiom EV_PERSIST");
    event_free(ev_a);
    if (ev_b != NULL) {
        event_free(ev_b);
    }
    base_finish();
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

/* ---- memory ---- */

static void w_mem_timer(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_timer", 1, (double)event_get_struct_event_size(),
                       "event_get_struct_event_size()");
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
    bench_report_bytes("mem_fd", 1, (double)event_get_struct_event_size(),
                       "event_get_struct_event_size()");
}

static const struct bench_workload workloads[] = {
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
    bench_lib = "libevent";
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "evthread_use_pthreads failed\n");
        return 1;
    }
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

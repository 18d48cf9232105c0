/*
 * The workloads the peer programs (uv_bench.c, ev_bench.c, event_bench.c) share, written
 * once: set-up, timing, result checks and the result line. A peer program holds only the
 * calls into its own library: it includes this file, then defines the peer_* hooks declared
 * below and one small callback per watcher kind, whose body calls back into the bench_*
 * step functions here.
 *
 * Everything is static in one translation unit, so the compiler inlines the hooks and step
 * functions where the code was written inline: the measured paths cost what the library
 * costs, not what this indirection would cost as real calls.
 *
 * A peer also defines, before including this file, its timer arrays and the strings its
 * result lines carry:
 *   struct peer_timers                                                (see peer_timers_new)
 *   PEER_CHAIN_IMMEDIATE_NOTE, PEER_CHAIN_TIMER_NOTE, PEER_PP_NOTE    (extra fields or NULL)
 *   PEER_MEM_TIMER_BYTES/_HOW, PEER_MEM_FD_BYTES/_HOW                 (memory rows)
 */
#ifndef EVL_BENCH_PEER_COMMON_H
#define EVL_BENCH_PEER_COMMON_H

#include "bench_common.h"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/socket.h>

/* ---- hooks every peer program defines ---- */

/* The loop: created per workload; finish closes every watcher the workload made, then it. */
static void peer_loop_new(void);
static void peer_loop_finish(void);
/* Runs until no watcher is left; nowait: one non-blocking pass. */
static void peer_run(void);
static void peer_run_nowait(void);

/*
 * The cross-thread wake-up: a watcher whose callback calls bench_wake(). send from any
 * thread; wake_run runs the loop until wake_stop (called on the loop thread).
 */
static void peer_wake_new(void);
static void peer_wake_send(void);
static void peer_wake_stop(void);
static void peer_wake_run(void);

/* What a timer's callback does: one peer callback per kind. */
enum bench_timer_kind {
    BENCH_TIMER_NEVER,  /* must not fire: bench_timer_never() */
    BENCH_TIMER_ZERO,   /* bench_timer_zero(its index) */
    BENCH_TIMER_SPREAD, /* bench_spread_fire(its index) */
};

/*
 * n timers addressed by index, in the peer's `struct peer_timers` (defined before this file
 * is included), which the workloads keep in a local: once the hooks are inlined, the arrays
 * stay in registers through the timed loops, as in code written for one library. init
 * prepares timer i with its delay and callback, outside any measurement (a timer of a kind
 * other than NEVER knows its index: the callback's argument); start arms it with that delay;
 * arm (re)starts it with a new delay.
 */
static struct peer_timers peer_timers_new(uint64_t n, enum bench_timer_kind kind);
static void peer_timer_init(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                            enum bench_timer_kind kind);
static void peer_timer_start(struct peer_timers *h, uint64_t i, enum bench_timer_kind kind);
static void peer_timer_arm(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                           enum bench_timer_kind kind);
static void peer_timer_stop(struct peer_timers *h, uint64_t i);
static int peer_timer_active(struct peer_timers *h, uint64_t i);
static void peer_timers_free(struct peer_timers *h);
/* Refreshes the loop's cached time where the library caches it (before a scheduling burst). */
static void peer_update_time(void);

/* Zero-delay chains: the callbacks call bench_chain_step() and re-arm until it returns 1. */
static void peer_chain_immediate_new(void);
static void peer_chain_immediate_start(void);
static void peer_chain_timer_new(void);
static void peer_chain_timer_start(void);

/*
 * fd ping-pong over bench_sv: a read watcher on bench_sv[0] whose callback calls
 * bench_pp_a(&fd) and stops both watchers when it returns 1; with_b adds the echo watcher on
 * bench_sv[1], whose callback calls bench_pp_b(&fd).
 */
static void peer_pp_watch(int with_b);

/* ---- submit throughput: preallocated mutex queue + the library's wake-up ---- */

static struct bench_mq bench_peer_mq;
static struct bench_gate bench_peer_gate;

/* The wake-up watcher's callback body: runs the queued tasks, stops once all have run. */
static void bench_wake(void)
{
    bench_mq_drain(&bench_peer_mq);
    if (bench_sub.done == bench_sub.total) {
        peer_wake_stop();
    }
}

struct bench_producer {
    pthread_t thread;
    unsigned id;
    uint64_t count;
};

static void bench_submit_task(void *arg)
{
    bench_submit_account(arg);
}

static void *bench_producer_main(void *arg)
{
    struct bench_producer *p = arg;
    bench_gate_wait(&bench_peer_gate);
    for (uint64_t i = 0; i < p->count; i++) {
        bench_mq_push(&bench_peer_mq, bench_submit_task, bench_submit_arg(p->id, i));
        peer_wake_send();
    }
    return NULL;
}

static void bench_submit_run(const char *name, unsigned producers, uint64_t n)
{
    struct bench_producer prod[BENCH_MAX_PRODUCERS];
    uint64_t per = n / producers;
    bench_submit_reset(per * producers);
    bench_mq_init(&bench_peer_mq, per * producers);
    atomic_store(&bench_peer_gate.open, 0);
    peer_loop_new();
    peer_wake_new();
    for (unsigned i = 0; i < producers; i++) {
        prod[i].id = i;
        prod[i].count = per;
        pthread_create(&prod[i].thread, NULL, bench_producer_main, &prod[i]);
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&bench_peer_gate.open, 1, memory_order_release);
    peer_wake_run();
    for (unsigned i = 0; i < producers; i++) {
        pthread_join(prod[i].thread, NULL);
    }
    bench_submit_verify(producers, per);
    bench_report(name, bench_sub.total, (double)(bench_sub.t_end - t0) / (double)bench_sub.total,
                 "producers %u", producers);
    peer_loop_finish();
    bench_mq_deinit(&bench_peer_mq);
}

static void w_submit_1p(uint64_t n)
{
    bench_submit_run("submit_1p", 1, n);
}

static void w_submit_2p(uint64_t n)
{
    bench_submit_run("submit_2p", 2, n);
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
    peer_wake_stop();
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
        bench_mq_push(&bench_peer_mq, rt_reply, (void *)(uintptr_t)(i + 1));
        peer_wake_send();
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
    bench_mq_push(&bench_peer_mq, rt_quit, NULL);
    peer_wake_send();
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
    /* Round-trip tasks are not submit-accounted: a total never reached leaves bench_wake()
     * running until rt_quit stops the wake-up. */
    bench_submit_reset(UINT64_MAX);
    bench_mq_init(&bench_peer_mq, 16);
    peer_loop_new();
    peer_wake_new();
    pthread_create(&client, NULL, rt_client, NULL);
    peer_wake_run();
    pthread_join(client, NULL);
    n = rt_count;
    uint64_t p50 = bench_quantile(rt_samples, n, 0.5, 0);
    bench_report(name, n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(rt_samples, n, 0.10, 1), bench_quantile(rt_samples, n, 0.99, 1));
    peer_loop_finish();
    bench_mq_deinit(&bench_peer_mq);
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
static uint64_t zero_next;
static uint64_t zero_violations;
static uint64_t zero_total;
static uint64_t zero_end;

/* BENCH_TIMER_NEVER's callback body. */
static void bench_timer_never(void)
{
    fired++;
}

/* BENCH_TIMER_ZERO's callback body: zero-delay timers fire in the order they were started. */
static void bench_timer_zero(uint64_t seq)
{
    if (seq != zero_next) {
        zero_violations++;
    }
    zero_next = seq + 1;
    if (++fired == zero_total) {
        zero_end = bench_now_ns();
    }
}

static void w_timer_startstop(uint64_t n)
{
    struct peer_timers h = peer_timers_new(n, BENCH_TIMER_NEVER);
    uint64_t rng = 42;
    fired = 0;
    peer_loop_new();
    for (uint64_t i = 0; i < n; i++) {
        peer_timer_init(&h, i, 1000 + bench_rand(&rng) % 1000000, BENCH_TIMER_NEVER);
    }
    uint64_t start_ns = 0;
    uint64_t stop_ns = 0;
    uint64_t cold_start = 0;
    uint64_t cold_stop = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            peer_timer_start(&h, i, BENCH_TIMER_NEVER);
        }
        uint64_t t1 = bench_now_ns();
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(peer_timer_active(&h, i), "timer %" PRIu64 " not active", i);
        }
        uint64_t t2 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            peer_timer_stop(&h, i);
        }
        uint64_t t3 = bench_now_ns();
        peer_run_nowait();
        BENCH_CHECK(fired == 0, "%" PRIu64 " stopped timers fired", fired);
        for (uint64_t i = 0; i < n; i += 97) {
            BENCH_CHECK(!peer_timer_active(&h, i), "timer %" PRIu64 " still active", i);
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
    peer_loop_finish();
    peer_timers_free(&h);
}

static void w_timers_zero(uint64_t n)
{
    struct peer_timers h = peer_timers_new(n, BENCH_TIMER_ZERO);
    fired = 0;
    zero_next = 0;
    zero_violations = 0;
    zero_total = n;
    peer_loop_new();
    for (uint64_t i = 0; i < n; i++) {
        peer_timer_init(&h, i, 0, BENCH_TIMER_ZERO);
    }
    uint64_t cold = 0;
    uint64_t warm = 0;
    for (int pass = bench_warmup ? 0 : 1; pass < 2; pass++) {
        fired = 0;
        zero_next = 0;
        zero_violations = 0;
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++) {
            peer_timer_start(&h, i, BENCH_TIMER_ZERO);
        }
        peer_run();
        BENCH_CHECK(fired == n, "fired %" PRIu64 " of %" PRIu64, fired, n);
        if (pass == 0) {
            cold = zero_end - t0;
        } else {
            warm = zero_end - t0;
        }
    }
    bench_report("timers_zero", n, (double)warm / (double)n, "order_viol %" PRIu64 " cold_ns %.2f",
                 zero_violations, (double)cold / (double)n);
    peer_loop_finish();
    peer_timers_free(&h);
}

static void w_timers_spread(uint64_t n)
{
    struct peer_timers h = peer_timers_new(n, BENCH_TIMER_SPREAD);
    uint64_t rng = 7;
    bench_spread_init(n);
    peer_loop_new();
    for (uint64_t i = 0; i < n; i++) {
        peer_timer_init(&h, i, 1000000, BENCH_TIMER_SPREAD);
    }
    /* Warm-up pass, as every program does: start and stop every timer once. */
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        peer_timer_start(&h, i, BENCH_TIMER_SPREAD);
    }
    for (uint64_t i = 0; bench_warmup && i < n; i++) {
        peer_timer_stop(&h, i);
    }
    peer_update_time();
    uint64_t c0 = bench_thread_cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = 1 + bench_rand(&rng) % 100;
        bench_spread_schedule(i, d);
        peer_timer_arm(&h, i, d, BENCH_TIMER_SPREAD);
        bench_spread_scheduled(i, d);
    }
    peer_run();
    uint64_t cpu = bench_thread_cpu_ns() - c0;
    bench_spread_report(n, cpu);
    peer_loop_finish();
    peer_timers_free(&h);
}

/* ---- zero-delay self-rescheduling chains ---- */

static uint64_t chain_left;
static uint64_t chain_end;

/* A chain callback's body: returns 1 once the last step ran (the callback then stops). */
static int bench_chain_step(void)
{
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return 1;
    }
    return 0;
}

static void w_chain_immediate(uint64_t n)
{
    peer_loop_new();
    peer_chain_immediate_new();
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    peer_chain_immediate_start();
    peer_run();
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_immediate", n, (double)(chain_end - t0) / (double)n,
                 PEER_CHAIN_IMMEDIATE_NOTE);
    peer_loop_finish();
}

static void w_chain_timer(uint64_t n)
{
    peer_loop_new();
    peer_chain_timer_new();
    chain_left = n;
    uint64_t t0 = bench_now_ns();
    peer_chain_timer_start();
    peer_run();
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report("chain_timer", n, (double)(chain_end - t0) / (double)n, PEER_CHAIN_TIMER_NOTE);
    peer_loop_finish();
}

/* ---- fd ping-pong over a socketpair ---- */

static int bench_sv[2];
static uint64_t pp_count;
static uint64_t pp_total;
static uint64_t pp_end;

static void bench_send_byte(int fd, unsigned char b)
{
    BENCH_CHECK(write(fd, &b, 1) == 1, "write: %s", strerror(errno));
}

/*
 * The fd callbacks' bodies take the fd by address (&bench_sv[0], or the address of the
 * callback's own fd argument) and read it at each use, so that once inlined each peer's
 * callback compiles to what it would be written by hand: callgrind counts these
 * instructions in every round trip.
 */

/* Side a's callback body: checks the echo, sends the next byte; 1 once all round trips ran. */
static int bench_pp_a(const int *fd)
{
    unsigned char b = 0;
    BENCH_CHECK(read(*fd, &b, 1) == 1, "read a: %s", strerror(errno));
    BENCH_CHECK(b == (unsigned char)pp_count, "echo %u != %u", b, (unsigned char)pp_count);
    if (++pp_count == pp_total) {
        pp_end = bench_now_ns();
        return 1;
    }
    bench_send_byte(*fd, (unsigned char)pp_count);
    return 0;
}

/* Side b's callback body, when the echo runs on the loop too. */
static void bench_pp_b(const int *fd)
{
    unsigned char b = 0;
    BENCH_CHECK(read(*fd, &b, 1) == 1, "read b: %s", strerror(errno));
    bench_send_byte(*fd, b);
}

/* Side b on its own thread, blocking reads. */
static void *bench_echo_peer(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char b = 0;
        if (read(bench_sv[1], &b, 1) != 1) {
            break;
        }
        bench_send_byte(bench_sv[1], b);
    }
    return NULL;
}

static void bench_pingpong(const char *name, int threaded, uint64_t n)
{
    pthread_t peer;
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, bench_sv) == 0, "socketpair: %s",
                strerror(errno));
    fcntl(bench_sv[0], F_SETFL, O_NONBLOCK);
    if (!threaded) {
        fcntl(bench_sv[1], F_SETFL, O_NONBLOCK);
    }
    pp_count = 0;
    pp_total = n;
    peer_loop_new();
    peer_pp_watch(!threaded);
    if (threaded) {
        pthread_create(&peer, NULL, bench_echo_peer, &pp_total);
    }
    uint64_t t0 = bench_now_ns();
    bench_send_byte(bench_sv[0], 0);
    peer_run();
    if (threaded) {
        pthread_join(peer, NULL);
    }
    BENCH_CHECK(pp_count == n, "%" PRIu64 " of %" PRIu64 " round trips", pp_count, n);
    bench_report(name, n, (double)(pp_end - t0) / (double)n, PEER_PP_NOTE);
    peer_loop_finish();
    close(bench_sv[0]);
    close(bench_sv[1]);
}

static void w_fd_local(uint64_t n)
{
    bench_pingpong("fd_pingpong_local", 0, n);
}

static void w_fd_thread(uint64_t n)
{
    bench_pingpong("fd_pingpong_thread", 1, n);
}

/* ---- signal delivered to an idle loop (peers with a signal watcher) ---- */

/* watch starts the library's watcher for signum; its callback stops it once
 * bench_sig_delivered() returns nonzero. */
static inline void bench_signal_rt(uint64_t n, void (*watch)(int signum), const char *idiom)
{
    peer_loop_new();
    watch(SIGUSR1);
    pthread_t th;
    bench_sig_start(&th, SIGUSR1, n);
    peer_run();
    bench_sig_finish(th, idiom);
    peer_loop_finish();
}

/* ---- memory: what one timer, task and fd watcher costs the caller ---- */

static void w_mem_timer(uint64_t n)
{
    (void)n;
    bench_report_bytes("mem_timer", 1, (double)(PEER_MEM_TIMER_BYTES), PEER_MEM_TIMER_HOW);
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
    bench_report_bytes("mem_fd", 1, (double)(PEER_MEM_FD_BYTES), PEER_MEM_FD_HOW);
}

/* The rows every peer runs, in table order; a peer adds its own around them. */
#define BENCH_PEER_WORKLOADS                                                                  \
    {"submit_1p", w_submit_1p, 4000000, 500000}, {"submit_2p", w_submit_2p, 4000000, 500000}, \
        {"rt_spin", w_rt_spin, 20000, 5000}, {"rt_sleep", w_rt_sleep, 20000, 3000},           \
        {"timer_startstop", w_timer_startstop, 1000000, 100000},                              \
        {"timers_zero", w_timers_zero, 1000000, 200000},                                      \
        {"timers_spread", w_timers_spread, 100000, 100000},                                   \
        {"chain_immediate", w_chain_immediate, 2000000, 100000},                              \
        {"chain_timer", w_chain_timer, 2000000, 100000},                                      \
        {"fd_pingpong_local", w_fd_local, 100000, 5000},                                      \
    {                                                                                         \
        "fd_pingpong_thread", w_fd_thread, 100000, 5000                                       \
    }
#define BENCH_PEER_MEM_WORKLOADS                                      \
    {"mem_timer", w_mem_timer, 1, 1}, {"mem_task", w_mem_task, 1, 1}, \
    {                                                                 \
        "mem_fd", w_mem_fd, 1, 1                                      \
    }

#endif

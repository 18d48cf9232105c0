/*
 * libev side of the benchmark suite: the workloads of peer_common.h, each written with
 * libev's best idiom (ev_async for cross-thread work, ev_idle for a per-iteration turn,
 * ev_timer, ev_io). libev has no worker pool and no microtasks. See bench_common.h for the
 * output format and docs/performance.md for what each workload measures.
 */
#define _GNU_SOURCE 1
#include <ev.h>

#define PEER_CHAIN_IMMEDIATE_NOTE "idiom ev_idle"
#define PEER_CHAIN_TIMER_NOTE     NULL
#define PEER_PP_NOTE              "idiom ev_io"
/* libev keeps a heap slot (the deadline and the watcher pointer) per active timer. */
#define PEER_MEM_TIMER_BYTES (sizeof(ev_timer) + sizeof(double) + sizeof(void *))
#define PEER_MEM_TIMER_HOW   "sizeof(ev_timer)+16B-heap-slot"
#define PEER_MEM_FD_BYTES    sizeof(ev_io)
#define PEER_MEM_FD_HOW      "sizeof(ev_io)"
struct peer_timers {
    ev_timer *t;
};
#include "peer_common.h"

static struct ev_loop *loop;

static void peer_loop_new(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    BENCH_CHECK(loop != NULL, "ev_loop_new failed");
}

static void peer_loop_finish(void)
{
    ev_loop_destroy(loop);
    loop = NULL;
}

static void peer_run(void)
{
    ev_run(loop, 0);
}

static void peer_run_nowait(void)
{
    ev_run(loop, EVRUN_NOWAIT);
}

/* ---- wake-up: ev_async ---- */

static ev_async async;

static void async_cb(struct ev_loop *l, ev_async *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    bench_wake();
}

static void peer_wake_new(void)
{
    ev_async_init(&async, async_cb);
    ev_async_start(loop, &async);
}

static void peer_wake_send(void)
{
    ev_async_send(loop, &async);
}

static void peer_wake_stop(void)
{
    ev_async_stop(loop, &async);
}

static void peer_wake_run(void)
{
    ev_run(loop, 0);
}

/* ---- timers: ev_timer (the delay is part of the watcher) ---- */

static void never_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)t;
    (void)revents;
    bench_timer_never();
}

static void zero_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)revents;
    bench_timer_zero((uint64_t)(uintptr_t)t->data);
}

static void spread_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)revents;
    bench_spread_fire((uint64_t)(uintptr_t)t->data);
}

typedef void (*timer_cb_fn)(struct ev_loop *l, ev_timer *t, int revents);

static timer_cb_fn timer_cb(enum bench_timer_kind kind)
{
    return kind == BENCH_TIMER_NEVER ? never_cb : kind == BENCH_TIMER_ZERO ? zero_cb : spread_cb;
}

static struct peer_timers peer_timers_new(uint64_t n, enum bench_timer_kind kind)
{
    (void)kind;
    struct peer_timers h = {bench_alloc(n, sizeof(*h.t))};
    return h;
}

static void peer_timer_init(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                            enum bench_timer_kind kind)
{
    ev_timer_init(&h->t[i], timer_cb(kind), (double)delay_ms / 1e3, 0.);
    if (kind != BENCH_TIMER_NEVER) {
        h->t[i].data = (void *)(uintptr_t)i;
    }
}

static void peer_timer_start(struct peer_timers *h, uint64_t i, enum bench_timer_kind kind)
{
    (void)kind;
    ev_timer_start(loop, &h->t[i]);
}

static void peer_timer_arm(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                           enum bench_timer_kind kind)
{
    ev_timer_init(&h->t[i], timer_cb(kind), (double)delay_ms / 1e3, 0.);
    h->t[i].data = (void *)(uintptr_t)i;
    ev_timer_start(loop, &h->t[i]);
}

static void peer_timer_stop(struct peer_timers *h, uint64_t i)
{
    ev_timer_stop(loop, &h->t[i]);
}

static int peer_timer_active(struct peer_timers *h, uint64_t i)
{
    return ev_is_active(&h->t[i]);
}

static void peer_timers_free(struct peer_timers *h)
{
    free(h->t);
}

static void peer_update_time(void)
{
    ev_now_update(loop);
}

/* ---- chains: ev_idle (runs once per iteration), ev_timer re-armed at 0 ---- */

static ev_idle idle;
static ev_timer chain_timer;

static void idle_cb(struct ev_loop *l, ev_idle *w, int revents)
{
    (void)revents;
    if (bench_chain_step()) {
        ev_idle_stop(l, w);
    }
}

static void peer_chain_immediate_new(void)
{
    ev_idle_init(&idle, idle_cb);
}

static void peer_chain_immediate_start(void)
{
    ev_idle_start(loop, &idle);
}

static void chain_timer_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)revents;
    if (bench_chain_step()) {
        return;
    }
    ev_timer_set(t, 0., 0.);
    ev_timer_start(l, t);
}

static void peer_chain_timer_new(void)
{
    ev_timer_init(&chain_timer, chain_timer_cb, 0., 0.);
}

static void peer_chain_timer_start(void)
{
    ev_timer_start(loop, &chain_timer);
}

/* ---- fd ping-pong: ev_io ---- */

static ev_io io_a;
static ev_io io_b;

static void pp_a_cb(struct ev_loop *l, ev_io *w, int revents)
{
    BENCH_CHECK(revents & EV_READ, "io a revents %d", revents);
    if (bench_pp_a(&bench_sv[0])) {
        ev_io_stop(l, w);
        ev_io_stop(l, &io_b);
    }
}

static void pp_b_cb(struct ev_loop *l, ev_io *w, int revents)
{
    (void)l;
    (void)w;
    BENCH_CHECK(revents & EV_READ, "io b revents %d", revents);
    bench_pp_b(&bench_sv[1]);
}

static void peer_pp_watch(int with_b)
{
    ev_io_init(&io_a, pp_a_cb, bench_sv[0], EV_READ);
    ev_io_start(loop, &io_a);
    ev_io_init(&io_b, pp_b_cb, bench_sv[1], EV_READ);
    if (with_b) {
        ev_io_start(loop, &io_b);
    }
}

/* ---- signal: ev_signal ---- */

static ev_signal sig_w;

static void sig_cb(struct ev_loop *l, ev_signal *w, int revents)
{
    (void)revents;
    if (bench_sig_delivered(1)) {
        ev_signal_stop(l, w);
    }
}

static void sig_watch(int signum)
{
    ev_signal_init(&sig_w, sig_cb, signum);
    ev_signal_start(loop, &sig_w);
}

static void w_signal_rt(uint64_t n)
{
    bench_signal_rt(n, sig_watch, "ev_signal");
}

static const struct bench_workload workloads[] = {
    {"signal_rt", w_signal_rt, 3000, 300},
    BENCH_PEER_WORKLOADS,
    BENCH_PEER_MEM_WORKLOADS,
};

int main(int argc, char **argv)
{
    bench_lib = "libev";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

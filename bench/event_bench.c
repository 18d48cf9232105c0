/*
 * libevent side of the benchmark suite: the workloads of peer_common.h, each written with
 * libevent's best idiom (event_active on a user event from other threads with
 * evthread_use_pthreads, evtimer_add, persistent read events). libevent has no worker pool
 * and no microtasks. See bench_common.h for the output format and docs/performance.md.
 */
#define _GNU_SOURCE 1
#include <event2/event.h>
#include <event2/thread.h>

#define PEER_CHAIN_IMMEDIATE_NOTE "starves_io 1 idiom event_active(same-pass)"
#define PEER_CHAIN_TIMER_NOTE     NULL
#define PEER_PP_NOTE              "idiom EV_PERSIST"
#define PEER_MEM_TIMER_BYTES      event_get_struct_event_size()
#define PEER_MEM_TIMER_HOW        "event_get_struct_event_size()"
#define PEER_MEM_FD_BYTES         event_get_struct_event_size()
#define PEER_MEM_FD_HOW           "event_get_struct_event_size()"
struct peer_timers {
    struct event *evs;  /* n events of event_get_struct_event_size() bytes */
    struct timeval *tv; /* the delay each start passes (NULL for zero-delay timers) */
};
#include "peer_common.h"

static struct event_base *base;

/* The events a workload made with event_new, freed with the base. */
static struct event *owned[4];
static unsigned owned_len;

static struct event *own(struct event *ev)
{
    BENCH_CHECK(ev != NULL && owned_len < sizeof(owned) / sizeof(owned[0]), "event_new failed");
    owned[owned_len++] = ev;
    return ev;
}

static void peer_loop_new(void)
{
    base = event_base_new();
    BENCH_CHECK(base != NULL, "event_base_new failed");
}

static void peer_loop_finish(void)
{
    while (owned_len > 0) {
        event_free(owned[--owned_len]);
    }
    event_base_free(base);
    base = NULL;
}

static void peer_run(void)
{
    event_base_loop(base, 0);
}

static void peer_run_nowait(void)
{
    event_base_loop(base, EVLOOP_NONBLOCK);
}

/* ---- wake-up: a user event made active from other threads ---- */

static struct event *wake;

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    bench_wake();
}

static void peer_wake_new(void)
{
    wake = own(event_new(base, -1, 0, wake_cb, NULL));
}

static void peer_wake_send(void)
{
    event_active(wake, EV_READ, 0);
}

static void peer_wake_stop(void)
{
    event_base_loopbreak(base);
}

static void peer_wake_run(void)
{
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
}

/* ---- timers: evtimer in one block (struct event's size is opaque: ask for it) ---- */

static const struct timeval zero_tv = {0, 0};

static struct event *event_at(struct event *evs, uint64_t i)
{
    return (struct event *)(void *)((char *)evs + i * event_get_struct_event_size());
}

static struct timeval ms_to_tv(uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

static void never_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    bench_timer_never();
}

static void zero_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bench_timer_zero((uint64_t)(uintptr_t)arg);
}

static void spread_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bench_spread_fire((uint64_t)(uintptr_t)arg);
}

static struct peer_timers peer_timers_new(uint64_t n, enum bench_timer_kind kind)
{
    struct peer_timers h = {bench_alloc(n, event_get_struct_event_size()), NULL};
    if (kind != BENCH_TIMER_ZERO) {
        h.tv = bench_alloc(n, sizeof(*h.tv));
    }
    return h;
}

static void peer_timer_init(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                            enum bench_timer_kind kind)
{
    if (kind != BENCH_TIMER_ZERO) {
        h->tv[i] = ms_to_tv(delay_ms);
    }
    evtimer_assign(event_at(h->evs, i), base,
                   kind == BENCH_TIMER_NEVER  ? never_cb
                   : kind == BENCH_TIMER_ZERO ? zero_cb
                                              : spread_cb,
                   kind == BENCH_TIMER_NEVER ? NULL : (void *)(uintptr_t)i);
}

static void peer_timer_start(struct peer_timers *h, uint64_t i, enum bench_timer_kind kind)
{
    evtimer_add(event_at(h->evs, i), kind == BENCH_TIMER_ZERO ? &zero_tv : &h->tv[i]);
}

static void peer_timer_arm(struct peer_timers *h, uint64_t i, uint64_t delay_ms,
                           enum bench_timer_kind kind)
{
    (void)kind;
    struct timeval tv = ms_to_tv(delay_ms);
    evtimer_add(event_at(h->evs, i), &tv);
}

static void peer_timer_stop(struct peer_timers *h, uint64_t i)
{
    evtimer_del(event_at(h->evs, i));
}

static int peer_timer_active(struct peer_timers *h, uint64_t i)
{
    return evtimer_pending(event_at(h->evs, i), NULL);
}

static void peer_timers_free(struct peer_timers *h)
{
    free(h->evs);
    free(h->tv);
}

/* libevent reads its clock at every loop pass: nothing cached to refresh. */
static void peer_update_time(void)
{
}

/* ---- chains: event_active from the callback (same pass), evtimer re-added at 0 ---- */

static struct event *chain_ev;

static void active_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (bench_chain_step()) {
        return;
    }
    event_active(chain_ev, EV_TIMEOUT, 0);
}

static void peer_chain_immediate_new(void)
{
    chain_ev = own(event_new(base, -1, 0, active_cb, NULL));
}

static void peer_chain_immediate_start(void)
{
    event_active(chain_ev, EV_TIMEOUT, 0);
}

static void chain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (bench_chain_step()) {
        return;
    }
    evtimer_add(chain_ev, &zero_tv);
}

static void peer_chain_timer_new(void)
{
    chain_ev = own(evtimer_new(base, chain_timer_cb, NULL));
}

static void peer_chain_timer_start(void)
{
    evtimer_add(chain_ev, &zero_tv);
}

/* ---- fd ping-pong: persistent read events ---- */

static struct event *ev_a;
static struct event *ev_b;

static void pp_a_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    BENCH_CHECK(what & EV_READ, "event a flags %d", what);
    if (bench_pp_a(&fd)) {
        event_del(ev_a);
        if (ev_b != NULL) {
            event_del(ev_b);
        }
    }
}

static void pp_b_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    BENCH_CHECK(what & EV_READ, "event b flags %d", what);
    bench_pp_b(&fd);
}

static void peer_pp_watch(int with_b)
{
    ev_a = own(event_new(base, bench_sv[0], EV_READ | EV_PERSIST, pp_a_cb, NULL));
    event_add(ev_a, NULL);
    ev_b = NULL;
    if (with_b) {
        ev_b = own(event_new(base, bench_sv[1], EV_READ | EV_PERSIST, pp_b_cb, NULL));
        event_add(ev_b, NULL);
    }
}

static const struct bench_workload workloads[] = {
    BENCH_PEER_WORKLOADS,
    BENCH_PEER_MEM_WORKLOADS,
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

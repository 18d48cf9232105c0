/*
 * Loop metrics: what a running loop does, per callback kind, per queue and for the loop as
 * a whole, readable from any thread as a consistent snapshot and as Prometheus text.
 * Everything hangs off one loop; nothing is global. docs/observability.md lists every
 * metric with its unit and meaning, and which recording points the loop feeds.
 *
 * Off by default. While off, each recording point costs the loop one predictable branch.
 * While on, counts are exact; the latency and CPU time of a callback are measured for one
 * callback in `sample_every` of each kind (and CPU time for one timed callback in
 * `cpu_sample_every`), so the clock is read rarely on a busy loop.
 */
#ifndef EVL_METRICS_H
#define EVL_METRICS_H

#include "common.h"
#include "loop.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Callback kinds, each with its own counters and latency histogram. */
enum evl_metrics_kind {
    EVL_METRICS_TASK = 0,      /* submitted tasks (evl_loop_submit) */
    EVL_METRICS_TIMER = 1,     /* timeouts and intervals */
    EVL_METRICS_IMMEDIATE = 2, /* immediates (check phase) */
    EVL_METRICS_IO = 3,        /* fd callbacks (poll phase) */
    EVL_METRICS_MICROTASK = 4, /* microtasks and promise jobs */
    EVL_METRICS_NEXTTICK = 5,  /* nextTick callbacks */
    EVL_METRICS_POOL = 6,      /* worker pool completions (run on the loop) */
    EVL_METRICS_KINDS = 7
};

/* Queues whose depth is tracked as a gauge (now, max, moving average). */
enum evl_metrics_queue {
    EVL_METRICS_Q_SUBMIT = 0,     /* tasks queued by other threads */
    EVL_METRICS_Q_MICROTASK = 1,  /* microtasks */
    EVL_METRICS_Q_NEXTTICK = 2,   /* nextTick callbacks */
    EVL_METRICS_Q_TIMERS = 3,     /* pending timers */
    EVL_METRICS_Q_IMMEDIATES = 4, /* pending immediates */
    EVL_METRICS_Q_FDS = 5,        /* fd registrations */
    EVL_METRICS_Q_POOL = 6,       /* pool jobs submitted and not completed */
    EVL_METRICS_QUEUES = 7
};

/* Why a sleeping loop woke up. */
enum evl_metrics_wake {
    EVL_METRICS_WAKE_TASK = 0,  /* a task or timer message from another thread */
    EVL_METRICS_WAKE_TIMER = 1, /* the wait timed out for a timer deadline */
    EVL_METRICS_WAKE_IO = 2,    /* fd readiness (signals and child exits included) */
    EVL_METRICS_WAKE_OTHER = 3, /* stop, shutdown, unref, or a spurious return */
    EVL_METRICS_WAKES = 4
};

/* Run-time settings. Initialise with evl_metrics_options_init. */
struct evl_metrics_options {
    size_t size;               /* sizeof(struct evl_metrics_options) */
    uint32_t sample_every;     /* time 1 callback in N of each kind; 0: default 64; 1: all */
    uint32_t cpu_sample_every; /* thread CPU time for 1 callback in N; 0: off (default 0) */
    uint64_t slow_ns;          /* a timed callback at least this long is slow; 0: 50 ms */
    /* Lateness probe (Node's monitorEventLoopDelay): a timer every resolution ms whose
     * lateness feeds the loop-delay histogram, as the timed timers' lateness always does.
     * 0 (default) or UINT32_MAX: no probe (an idle probe timer costs every iteration a
     * clock read). */
    uint32_t delay_resolution_ms;
    /* The longest a cross-thread snapshot may lag behind a busy loop: the loop publishes
     * at most this often while callbacks run, and always before it sleeps. 0: 50 ms. */
    uint64_t publish_ns;
    /* The `loop` label in Prometheus output (copied, up to 63 bytes); NULL: "default". Set
     * by the first enable, or by a later one on the loop thread. */
    const char *name;
};

/* Fills *options with the defaults. Thread-safe. */
EVL_API void evl_metrics_options_init(struct evl_metrics_options *options);

/*
 * Starts recording with options (NULL: defaults); enabling again applies new options and
 * keeps what was recorded. Thread-safe. On the loop thread (or the creating thread before
 * the first run) everything takes effect at once; from another thread the counters start
 * at once and the loop installs its publish point and delay probe when it next runs tasks.
 * Errors: EVL_EINVAL (NULL loop, bad options size), EVL_ENOMEM, EVL_ECLOSED (terminated).
 */
EVL_API int evl_metrics_enable(struct evl_loop *loop, const struct evl_metrics_options *options);

/* Stops recording; what was recorded stays readable. Thread-safe. Errors: EVL_EINVAL. */
EVL_API int evl_metrics_disable(struct evl_loop *loop);

/* 1 while recording, 0 if not (or NULL). Thread-safe. */
EVL_API int evl_metrics_enabled(const struct evl_loop *loop);

/*
 * Idle-time accounting on its own, as libuv's UV_METRICS_IDLE_TIME (what Node's
 * performance.eventLoopUtilization() reads): the time the loop spends blocked in the poll
 * phase's wait, and when the loop first ran. Independent of evl_metrics_enable and much
 * cheaper: only a wait that may block reads the clock (twice); otherwise a poll phase pays
 * one load and one predictable branch. Idempotent and, as in libuv, never turned off.
 * Enabled before the first evl_loop_run, the start is that run's; enabled during a run, the
 * start is the enabling time. Thread-safe. Errors: EVL_EINVAL (NULL loop), EVL_ENOMEM.
 */
EVL_API int evl_metrics_idle_enable(struct evl_loop *loop);

/*
 * Reads the accounting: *idle_ns the total time blocked in the poll wait (a wait in
 * progress is not included), *start_ns (may be NULL) the CLOCK_MONOTONIC time (ns) the loop
 * started, 0 if it has not run since the accounting was enabled. Busy time is then
 * now - start - idle, now read from CLOCK_MONOTONIC. Thread-safe (another thread may read
 * figures one wait old). Errors: EVL_EINVAL (NULL), EVL_ENOENT (accounting not enabled).
 */
EVL_API int evl_metrics_idle_time(const struct evl_loop *loop, uint64_t *idle_ns,
                                  uint64_t *start_ns);

/* Zeroes every counter, histogram and maximum (gauges keep their current depth). Loop
 * thread only. Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT (never enabled). */
EVL_API int evl_metrics_reset(struct evl_loop *loop);

/* Quantiles of a latency distribution, in nanoseconds. */
struct evl_metrics_quantiles {
    uint64_t p50, p90, p99, p999;
};

/* One callback kind. */
struct evl_metrics_kind_stats {
    uint64_t count;   /* callbacks run (exact) */
    uint64_t sampled; /* of them, timed */
    uint64_t slow;    /* timed callbacks >= slow_ns */
    uint64_t sum_ns;  /* total time of the timed ones */
    uint64_t min_ns;  /* of the timed ones (0 if none) */
    uint64_t max_ns;
    double mean_ns;
    struct evl_metrics_quantiles q; /* exact while sampled <= 64, then within 3.2% */
    uint64_t cpu_sampled;           /* callbacks whose thread CPU time was measured */
    uint64_t cpu_ns;                /* their total CPU time */
};

/* A queue gauge. */
struct evl_metrics_queue_stats {
    uint64_t depth;    /* at the last observation */
    uint64_t max;      /* highest observed */
    double avg;        /* exponentially weighted moving average (weight 1/16 per sample) */
    uint64_t refusals; /* admission refusals counted against this queue */
    uint64_t observed; /* observations */
};

/* A whole snapshot. Plain data: the caller owns it. */
struct evl_metrics_snapshot {
    size_t size;           /* set by the caller: sizeof(struct evl_metrics_snapshot) */
    int enabled;           /* recording at the time of the snapshot */
    uint64_t published_ns; /* CLOCK_MONOTONIC time this state was published (from a
                              foreign thread: at most publish_ns behind a busy loop) */
    uint64_t sample_every;
    uint64_t slow_ns;
    struct evl_metrics_kind_stats kind[EVL_METRICS_KINDS];
    struct evl_metrics_queue_stats queue[EVL_METRICS_QUEUES];
    /* The loop. */
    uint64_t iterations;
    uint64_t idle_ns;   /* time blocked in the poll phase's wait */
    uint64_t busy_ns;   /* time from the end of one wait to the start of the next */
    double utilization; /* busy / (busy + idle), as Node's eventLoopUtilization() */
    uint64_t wakeups[EVL_METRICS_WAKES];
    uint64_t fastpath_enter; /* transitions from the poller to the fast path */
    uint64_t fastpath_leave; /* ... and back */
    /* Event-loop delay (timer lateness), ns. */
    uint64_t delay_count, delay_min_ns, delay_max_ns;
    double delay_mean_ns, delay_stddev_ns;
    struct evl_metrics_quantiles delay_q;
    /* Promises (as evl_loop_promise_stats, plus rejections). */
    uint64_t promises_created, promises_settled, promises_pending;
    uint64_t unhandled_rejections, handled_late;
};

/*
 * Copies a consistent snapshot into *out (out->size must be set). Any thread, without
 * taking a lock the loop takes: on the loop thread it reads the live state; from another
 * thread the state the loop last published (see publish_ns), read under a sequence lock.
 * A loop that was never enabled gives zeroes with enabled 0.
 * Errors: EVL_EINVAL (NULL, size too small).
 */
EVL_API int evl_metrics_snapshot(struct evl_loop *loop, struct evl_metrics_snapshot *out);

/*
 * Renders the loop's metrics (a snapshot, as above) in the Prometheus text exposition format
 * 0.0.4 into buf (NUL-terminated). Thread-safe like evl_metrics_snapshot. Returns the length
 * written (excluding the NUL), or, when cap is too small, EVL_ERANGE with *needed set to
 * the size required, NUL included (needed may be NULL). Errors: EVL_EINVAL.
 */
EVL_API int evl_metrics_write_prometheus(struct evl_loop *loop, char *buf, size_t cap,
                                         size_t *needed);

/* The Content-Type of that text. */
#define EVL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Limits of the built-in HTTP server (evl_metrics_serve_ex). Initialise with _init. */
struct evl_metrics_serve_options {
    size_t size;
    uint32_t max_connections;    /* 0: 256; past it, new connections are closed at once */
    uint32_t max_request_bytes;  /* request line + headers; 0: 8192 (431 past it) */
    uint32_t max_body_bytes;     /* a GET may carry none; 0: 0 (413 for any body) */
    uint32_t request_timeout_ms; /* whole request must arrive in time; 0: 5000 */
    uint32_t idle_timeout_ms;    /* keep-alive between requests; 0: 30000 */
    uint32_t max_requests;       /* per connection; 0: 1000 */
};

EVL_API void evl_metrics_serve_options_init(struct evl_metrics_serve_options *options);

/*
 * Serves GET /metrics over HTTP/1.1 on the loop itself (non-blocking sockets through the fd
 * API; the loop never blocks on a client). address is "HOST:PORT" with a numeric IPv4 or
 * [IPv6] host; port 0 picks a free port (see evl_metrics_serve_port). Responses: 200 with
 * EVL_METRICS_CONTENT_TYPE, 404 other paths, 405 other methods (HEAD is served), 400
 * malformed requests, 431 oversize headers, 413 a request body, 408 a request that does not
 * arrive in time; keep-alive unless the client asks to close. The listener does not keep the
 * loop alive. One server per loop; it stops at loop teardown or with
 * evl_metrics_serve_stop. Loop thread only.
 * Errors: EVL_EINVAL (NULL, bad address), EVL_EEXIST (already serving), EVL_EPERM (wrong
 * thread), EVL_ENOMEM, or a system code (EVL_ESYS(EADDRINUSE) ...).
 */
EVL_API int evl_metrics_serve(struct evl_loop *loop, const char *address);
EVL_API int evl_metrics_serve_ex(struct evl_loop *loop, const char *address,
                                 const struct evl_metrics_serve_options *options);

/* The bound port, or EVL_ENOENT if not serving. Loop thread only. */
EVL_API int evl_metrics_serve_port(struct evl_loop *loop);

/* Closes the listener and every connection. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT (not serving). */
EVL_API int evl_metrics_serve_stop(struct evl_loop *loop);

/* Counters of the server. */
struct evl_metrics_serve_stats {
    uint64_t accepted;   /* connections accepted */
    uint64_t rejected;   /* connections closed at once: max_connections reached */
    uint64_t requests;   /* responses sent */
    uint64_t status_2xx; /* ... by class */
    uint64_t status_4xx;
    uint64_t status_5xx;
    uint64_t timeouts; /* connections that hit a deadline (408 or closed) */
    uint64_t open;     /* connections open now */
};

/* Copies the server's counters. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT (not serving). */
EVL_API int evl_metrics_serve_stats(struct evl_loop *loop, struct evl_metrics_serve_stats *out);

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID), 0 if unavailable. */
EVL_API uint64_t evl_thread_cpu_ns(void);

#ifdef __cplusplus
}
#endif

#endif

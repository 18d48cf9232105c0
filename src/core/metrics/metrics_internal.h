/*
 * Private interface of the metrics module: the recording points the loop calls and the
 * state behind them. Each recording point starts with the "enabled" test (one load and one
 * predictable branch of loop->obs); everything after it runs only while metrics record.
 *
 * Recording points are loop thread only and write plain (non-atomic) fields of the live
 * state; other threads read the published copy (see evl__metrics_publish), so the hot path
 * takes no lock and makes no atomic read-modify-write.
 */
#ifndef EVL_CORE_METRICS_INTERNAL_H
#define EVL_CORE_METRICS_INTERNAL_H

#include "core/loop_state.h"
#include "evl/metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- log-bucketed histogram ---------------------------------------------------------------
 * Values (ns) below 16 have a bucket each; above, every power of two is split into 16 equal
 * buckets, so a bucket's width is at most 1/16 of its lower bound and its midpoint is within
 * 1/32 (3.125%) of any value in it. Values from 2^40 ns (about 18 minutes) share the last
 * bucket; the exact maximum is kept apart. The first EVL__HIST_EXACT values are also kept
 * as they are, so quantiles of small samples are exact. */
#define EVL__HIST_SUB_BITS 4
#define EVL__HIST_SUB      (1u << EVL__HIST_SUB_BITS)
#define EVL__HIST_MAX_EXP  40
#define EVL__HIST_BUCKETS  ((EVL__HIST_MAX_EXP - EVL__HIST_SUB_BITS + 1) * EVL__HIST_SUB)
#define EVL__HIST_EXACT    64

struct evl__hist {
    uint64_t n;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
    double sumsq; /* for the standard deviation (loop delay) */
    uint64_t exact[EVL__HIST_EXACT];
    uint64_t b[EVL__HIST_BUCKETS];
};

static inline unsigned evl__hist_index(uint64_t v)
{
    if (v < EVL__HIST_SUB) {
        return (unsigned)v;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    if (e >= EVL__HIST_MAX_EXP) {
        return EVL__HIST_BUCKETS - 1;
    }
    return (e - EVL__HIST_SUB_BITS + 1) * EVL__HIST_SUB +
           (unsigned)((v >> (e - EVL__HIST_SUB_BITS)) & (EVL__HIST_SUB - 1));
}

/* Lowest value of bucket i, and its width. */
uint64_t evl__hist_bucket_low(unsigned i);
uint64_t evl__hist_bucket_width(unsigned i);
/* Adds v; returns the index of its bucket. */
unsigned evl__hist_add(struct evl__hist *h, uint64_t v);
/* The nearest-rank quantile q (0 < q <= 1): exact while n <= EVL__HIST_EXACT, else the
 * midpoint of the bucket holding that rank, clamped to [min, max]. 0 when empty. */
uint64_t evl__hist_quantile(const struct evl__hist *h, double q);

/* Bucket bounds of the exported loop-delay histogram, ns (Prometheus `le`). */
#define EVL__DELAY_BOUNDS 13
extern const uint64_t evl__delay_bounds_ns[EVL__DELAY_BOUNDS];

/* ---- the recorded data (live on the loop thread, and the published copy) ---------------- */
struct evl__kind_data {
    uint64_t count;
    uint64_t sampled;
    uint64_t slow;
    uint64_t cpu_sampled;
    uint64_t cpu_ns;
    struct evl__hist h;
};

struct evl__queue_data {
    uint64_t depth;
    uint64_t max;
    uint64_t observed;
    uint64_t refusals;
    double avg;
};

struct evl__mdata {
    uint64_t published_ns;
    uint64_t enabled;
    uint64_t sample_every;
    uint64_t slow_ns;
    uint64_t iterations;
    uint64_t idle_ns;
    uint64_t busy_ns;
    uint64_t wakeups[EVL_METRICS_WAKES];
    uint64_t fast_enter;
    uint64_t fast_leave;
    uint64_t promises_created;
    uint64_t promises_settled;
    uint64_t promises_pending;
    uint64_t unhandled;
    uint64_t handled_late;
    struct evl__queue_data queue[EVL_METRICS_QUEUES];
    struct evl__hist delay;
    uint64_t delay_le[EVL__DELAY_BOUNDS]; /* Prometheus buckets: values <= each bound */
    struct evl__kind_data kind[EVL_METRICS_KINDS];
};

#define EVL__MDATA_WORDS (sizeof(struct evl__mdata) / sizeof(uint64_t))

/* What publication has to copy of one histogram besides its counters: the exact values
 * from pub_n on, and the buckets lo..hi (none when lo > hi) touched since the last copy. */
struct evl__hist_track {
    uint64_t pub_n;
    uint32_t lo;
    uint32_t hi;
};

/* The histograms in track order: the kinds', then the loop delay's. */
#define EVL__TRACK_DELAY EVL_METRICS_KINDS
#define EVL__TRACKS      (EVL_METRICS_KINDS + 1)

struct evl__metrics {
    struct evl__mdata live; /* loop thread; the counts behind loop->mtick lag (see armed) */
    /* Loop-thread bookkeeping. The exact count of a kind is live.kind[k].count + armed[k] -
     * loop->mtick.left[k]: the countdown's start value minus what is left of it (iterations
     * likewise with iter_armed); evl__metrics_fold moves that difference into live. */
    uint32_t armed[EVL_METRICS_KINDS];
    uint32_t iter_armed;
    uint32_t cpu_countdown; /* timed callbacks until the next CPU-timed one */
    int in_cpu;             /* a CPU-timed callback is running (no nested CPU timing) */
    int dirty;              /* live differs from the published copy */
    int full;               /* the next publication copies every word (after a reset) */
    struct evl__hist_track track[EVL__TRACKS];
    int hooked; /* publish hook and delay probe installed */
    uint64_t cpu_start;
    uint64_t poll_start_ns; /* 0: not in a wait */
    uint64_t busy_start_ns;
    uint64_t last_publish_ns;
    uint64_t delay_timer;    /* the lateness probe's timer id, 0 if none */
    uint64_t delay_expected; /* loop clock ns the probe is due */
    uint32_t delay_res_ms;
    /* Settings, written by any thread (evl_metrics_enable), read relaxed by the loop. */
    _Atomic uint32_t sample_every;
    _Atomic uint32_t cpu_sample_every;
    _Atomic uint64_t slow_ns;
    _Atomic uint64_t publish_ns;
    _Atomic uint32_t want_delay_res_ms;
    char name[64];
    /* Published copy under a sequence lock: odd while being written. */
    _Atomic uint32_t seq;
    _Atomic uint64_t pub[EVL__MDATA_WORDS];
};

/* What hangs off loop->obs (allocated once, freed by evl_loop_free). */
struct evl__obs {
    void *raw; /* what the allocator returned (the block is aligned inside it) */
    struct evl_loop *loop;
    _Atomic(struct evl__metrics *) metrics;
    struct evl__metrics_server *server;
    int server_hooked;                    /* the server's teardown hook is registered */
    struct evl__context *context;         /* context slots and the current correlation id */
    _Atomic(struct evl__logger *) logger; /* structured logger (log.c); NULL: none yet */
    _Atomic uint64_t uuid_last;           /* UUIDv7 monotonic state: unix ms << 12 | counter */
    /* Idle-time accounting (evl_metrics_idle_enable), written by the loop thread only and
     * read by any thread: relaxed atomics, plain moves on the architectures we build for. */
    _Atomic uint64_t idle_ns;       /* time blocked in the poll wait */
    _Atomic uint64_t idle_start_ns; /* CLOCK_MONOTONIC time of the first run tracked; 0: none */
    uint64_t idle_since;            /* start of the wait being timed; 0: none (loop thread) */
    int audit_level; /* level of the timer audit's records (EVL_LOG_OFF: off); loop thread */
};

/* The flag bits in the low bits of loop->obs (EVL__OBS_*) are defined in core/loop_state.h. */

/* Frees the structured logger (log.c). */
void evl__logger_free(struct evl_loop *loop, struct evl__logger *lg);

/* The loop's observability block, created on first use (any thread). NULL: no memory. */
struct evl__obs *evl__obs_get(struct evl_loop *loop);
/* Sets (creating the block first) or clears one of the EVL__OBS_* flags other than
 * EVL__OBS_METRICS. Returns 0 or EVL_ENOMEM. */
int evl__obs_set_flag(struct evl_loop *loop, uintptr_t flag, int on);
/* Frees the observability state; called by evl_loop_free. */
void evl__obs_free(struct evl_loop *loop);
/* The block if it exists (never creates). */
static inline struct evl__obs *evl__obs_peek(const struct evl_loop *loop)
{
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_acquire);
    return (struct evl__obs *)(v & ~EVL__OBS_FLAGS);
}

/* The metrics state while recording, else NULL: the one branch of every recording point. */
static inline struct evl__metrics *evl__metrics_on(const struct evl_loop *loop)
{
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_acquire);
    if (__builtin_expect((v & EVL__OBS_METRICS) == 0, 1)) {
        return NULL;
    }
    return atomic_load_explicit(&((struct evl__obs *)(v & ~EVL__OBS_FLAGS))->metrics,
                                memory_order_relaxed);
}

/*
 * Idle-time accounting around the poll phase's wait, as libuv's UV_METRICS_IDLE_TIME: only
 * a wait that may block (timeout != 0) reads the clock, so a busy loop pays one load and
 * one predictable branch per poll phase. begin returns the token for end (0: not timed).
 * Loop thread.
 */
void evl__idle_begin_slow(struct evl_loop *loop);
void evl__idle_run_begin_slow(struct evl_loop *loop);
void evl__obs_wait_returned_slow(struct evl_loop *loop);

static inline void evl__idle_begin(struct evl_loop *loop, int64_t timeout_ns)
{
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_relaxed);
    if (__builtin_expect((v & EVL__OBS_IDLE) != 0, 0) && timeout_ns != 0) {
        evl__idle_begin_slow(loop);
    }
}

/*
 * The backend's wait returned: the idle time (and the metrics' idle time) ends here, before
 * the fd callbacks the same call runs, as libuv stops its idle clock when epoll returns.
 * Called by the I/O wait right after the system call and again by the poll phase after
 * any wait (a no-op when the first call ended the window). Loop thread.
 */
static inline void evl__obs_wait_returned(struct evl_loop *loop)
{
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_relaxed);
    if (__builtin_expect((v & (EVL__OBS_IDLE | EVL__OBS_METRICS)) != 0, 0)) {
        evl__obs_wait_returned_slow(loop);
    }
}

/* evl_loop_run begins: the first tracked run sets the loop's start time. Loop thread. */
static inline void evl__idle_run_begin(struct evl_loop *loop)
{
    if (__builtin_expect(
            (atomic_load_explicit(&loop->obs, memory_order_relaxed) & EVL__OBS_IDLE) != 0, 0)) {
        evl__idle_run_begin_slow(loop);
    }
}

/* Adds one loop-delay sample (ns). */
void evl__metrics_delay_add(struct evl__metrics *m, uint64_t ns);
/* Records a timed callback's duration (returned, ns). */
uint64_t evl__metrics_sample_end(struct evl__metrics *m, unsigned kind, uint64_t token);
/* Moves the counts the loop's countdowns consumed into live (so live is exact); returns
 * nonzero if any count moved. Loop thread. */
int evl__metrics_fold(struct evl_loop *loop, struct evl__metrics *m);
/* Samples every queue's depth and publishes if due (see evl__metrics_iteration). */
void evl__metrics_iteration_slow(struct evl_loop *loop);
void evl__metrics_poll_begin_slow(struct evl_loop *loop, struct evl__metrics *m, int may_block);
void evl__metrics_poll_end_slow(struct evl__metrics *m, unsigned cause);
void evl__metrics_queue_slow(struct evl__metrics *m, unsigned q, uint64_t depth);
/* Publishes the live state for other threads if it changed and (unless force) publish_ns
 * passed since the last publication. Loop thread. */
void evl__metrics_publish(struct evl_loop *loop, struct evl__metrics *m, int force);

/*
 * Around every user callback (the loop uses evl__loop_cb_enter/leave, which add the depth
 * counter to these):
 *     uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_TIMER);
 *     fn(loop, arg);
 *     evl__metrics_cb_end(loop, EVL_METRICS_TIMER, t);
 * begin counts the callback and, for one in sample_every of each kind, returns a nonzero
 * token holding the start time; end then records the duration (and CPU time when sampled).
 * Loop thread.
 */
static inline uint64_t evl__metrics_cb_begin(struct evl_loop *loop, enum evl_metrics_kind kind)
{
    return evl__loop_metrics_begin(loop, (unsigned)kind);
}

static inline void evl__metrics_cb_end(struct evl_loop *loop, enum evl_metrics_kind kind,
                                       uint64_t token)
{
    if (token == 0) {
        return;
    }
    struct evl__obs *obs = evl__obs_peek(loop);
    evl__metrics_sample_end(atomic_load_explicit(&obs->metrics, memory_order_relaxed), kind, token);
}

/* Around the poll phase's wait. may_block: the wait may sleep (timeout != 0); the state is
 * then published first, so a snapshot from another thread is current while the loop
 * sleeps. cause: why the wait returned (enum evl_metrics_wake). Loop thread. */
static inline void evl__metrics_poll_begin(struct evl_loop *loop, int may_block)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        evl__metrics_poll_begin_slow(loop, m, may_block);
    }
}

static inline void evl__metrics_poll_end(struct evl_loop *loop, enum evl_metrics_wake cause)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        evl__metrics_poll_end_slow(m, (unsigned)cause);
    }
}

/* A busy loop turns thousands of times a millisecond: queue depths are sampled (and a
 * publication considered) at the first iteration and every EVL__METRICS_ITER_SAMPLE after. */
#define EVL__METRICS_ITER_SAMPLE 256u

/* One loop iteration began: counts it (a countdown, as for callbacks) and, at the first and
 * then every EVL__METRICS_ITER_SAMPLE, samples every queue's depth. Loop thread. */
static inline void evl__metrics_iteration(struct evl_loop *loop)
{
    if (__builtin_expect((atomic_load_explicit(&loop->obs, memory_order_relaxed) & 1) != 0, 0) &&
        __builtin_expect(--loop->mtick.iter_left == 0, 0)) {
        evl__metrics_iteration_slow(loop);
    }
}

/* evl_loop_run returns: publishes what the run recorded, so another thread's snapshot of
 * a loop that is no longer run is complete. Loop thread. */
static inline void evl__metrics_run_end(struct evl_loop *loop)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        evl__metrics_publish(loop, m, 1);
    }
}

/* A queue's depth as seen now. Loop thread. */
static inline void evl__metrics_queue_depth(struct evl_loop *loop, enum evl_metrics_queue q,
                                            uint64_t depth)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        evl__metrics_queue_slow(m, (unsigned)q, depth);
    }
}

/* An admission refusal against queue q. Loop thread. */
static inline void evl__metrics_refusal(struct evl_loop *loop, enum evl_metrics_queue q)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        m->live.queue[q].refusals++;
        m->dirty = 1;
    }
}

/* A timer ran late_ns after its deadline (the event-loop delay histogram). Loop thread. */
static inline void evl__metrics_timer_late(struct evl_loop *loop, uint64_t late_ns)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        evl__metrics_delay_add(m, late_ns);
    }
}

/* The loop entered (enter 1) or left (0) the fast path that skips the poller. */
static inline void evl__metrics_fastpath(struct evl_loop *loop, int enter)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        if (enter) {
            m->live.fast_enter++;
        } else {
            m->live.fast_leave++;
        }
        m->dirty = 1;
    }
}

/* An unhandled rejection was reported (late 0), or a rejection was handled late (1). */
static inline void evl__metrics_rejection(struct evl_loop *loop, int late)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL) {
        if (late) {
            m->live.handled_late++;
        } else {
            m->live.unhandled++;
        }
        m->dirty = 1;
    }
}

/* Builds a public snapshot from recorded data (shared by the snapshot and the writer). */
void evl__metrics_fill(const struct evl__mdata *d, struct evl_metrics_snapshot *out);
/* Copies the current data: live on the loop thread, else the published copy. Returns 0, or
 * EVL_ENOENT when the loop never enabled metrics. */
int evl__metrics_read(struct evl_loop *loop, struct evl__mdata *out, char *name, size_t name_cap);
/* evl_metrics_write_prometheus without the argument checks (the server's renderer). */
int evl__metrics_render(struct evl_loop *loop, char *buf, size_t cap, size_t *needed);

#endif

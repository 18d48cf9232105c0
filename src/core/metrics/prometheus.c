/*
 * The Prometheus text exposition format 0.0.4 for a loop's metrics. Names follow the
 * Prometheus conventions: an `evl_` prefix, base units in the name (`_seconds`), counters
 * ending in `_total`, one HELP and one TYPE line per family, and every sample carrying the
 * `loop` label. Callback latencies are summaries (the quantiles come from the loop's own
 * streaming histogram); the event-loop delay is a histogram with fixed buckets, counted
 * exactly at record time so its buckets can be aggregated across loops.
 */
#include "core/metrics/metrics_internal.h"

#include "evl/errno.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[EVL_METRICS_KINDS] = {
    "task", "timer", "immediate", "io", "microtask", "nexttick", "pool"};
static const char *const queue_names[EVL_METRICS_QUEUES] = {
    "submit", "microtask", "nexttick", "timers", "immediates", "fds", "pool"};
static const char *const wake_names[EVL_METRICS_WAKES] = {"task", "timer", "io", "other"};

struct out {
    char *buf;
    size_t cap;
    size_t len; /* what the whole text needs, even past cap */
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    char *dst = room ? o->buf + o->len : NULL;
    /* va_start is just above; clang-analyzer reports a false "uninitialized va_list" on the
     * x86-64 va_list array type. */
    int n = vsnprintf(dst, room, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* A label value with \, " and newline escaped as the format requires. */
static void escape_label(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in[i] != '\0' && j + 2 < cap; i++) {
        char c = in[i];
        if (c == '\\' || c == '"') {
            out[j++] = '\\';
            out[j++] = c;
        } else if (c == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = c;
        }
    }
    out[j] = '\0';
}

static void per_kind_u64(struct out *o, const char *lp, const char *name, const char *type,
                         const char *help, const struct evl__mdata *d, size_t field_off)
{
    family(o, name, type, help);
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        uint64_t v;
        memcpy(&v, (const char *)&d->kind[k] + field_off, sizeof(v));
        put(o, "%s{%s,kind=\"%s\"} %llu\n", name, lp, kind_names[k], (unsigned long long)v);
    }
}

static void render(struct out *o, const struct evl__mdata *d, const char *loop_name)
{
    char esc[160];
    escape_label(loop_name, esc, sizeof(esc));
    char lp[200];
    snprintf(lp, sizeof(lp), "loop=\"%s\"", esc);

    family(o, "evl_metrics_enabled", "gauge", "1 while the loop records metrics.");
    put(o, "evl_metrics_enabled{%s} %d\n", lp, d->enabled ? 1 : 0);
    family(o, "evl_metrics_sample_every", "gauge",
           "One callback in this many is timed (counts are exact).");
    put(o, "evl_metrics_sample_every{%s} %llu\n", lp, (unsigned long long)d->sample_every);

    per_kind_u64(o, lp, "evl_callbacks_total", "counter", "Callbacks run, by kind.", d,
                 offsetof(struct evl__kind_data, count));
    per_kind_u64(o, lp, "evl_callbacks_sampled_total", "counter",
                 "Callbacks whose duration was measured, by kind.", d,
                 offsetof(struct evl__kind_data, sampled));
    per_kind_u64(o, lp, "evl_slow_callbacks_total", "counter",
                 "Timed callbacks that ran at least the slow threshold, by kind.", d,
                 offsetof(struct evl__kind_data, slow));

    family(o, "evl_callback_duration_seconds", "summary",
           "Wall time of timed callbacks, by kind (quantiles over the loop's life).");
    static const double qs[4] = {0.5, 0.9, 0.99, 0.999};
    static const char *const qn[4] = {"0.5", "0.9", "0.99", "0.999"};
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        const struct evl__hist *h = &d->kind[k].h;
        for (unsigned i = 0; i < 4; i++) {
            if (h->n == 0) {
                put(o, "evl_callback_duration_seconds{%s,kind=\"%s\",quantile=\"%s\"} NaN\n", lp,
                    kind_names[k], qn[i]);
            } else {
                put(o, "evl_callback_duration_seconds{%s,kind=\"%s\",quantile=\"%s\"} %.9g\n", lp,
                    kind_names[k], qn[i], secs(evl__hist_quantile(h, qs[i])));
            }
        }
        put(o, "evl_callback_duration_seconds_sum{%s,kind=\"%s\"} %.9g\n", lp, kind_names[k],
            secs(h->sum));
        put(o, "evl_callback_duration_seconds_count{%s,kind=\"%s\"} %llu\n", lp, kind_names[k],
            (unsigned long long)h->n);
    }
    family(o, "evl_callback_duration_max_seconds", "gauge", "Longest timed callback, by kind.");
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        put(o, "evl_callback_duration_max_seconds{%s,kind=\"%s\"} %.9g\n", lp, kind_names[k],
            secs(d->kind[k].h.max));
    }
    family(o, "evl_callback_cpu_seconds_total", "counter",
           "Thread CPU time of CPU-sampled callbacks, by kind.");
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        put(o, "evl_callback_cpu_seconds_total{%s,kind=\"%s\"} %.9g\n", lp, kind_names[k],
            secs(d->kind[k].cpu_ns));
    }
    per_kind_u64(o, lp, "evl_callbacks_cpu_sampled_total", "counter",
                 "Callbacks whose thread CPU time was measured, by kind.", d,
                 offsetof(struct evl__kind_data, cpu_sampled));

    family(o, "evl_loop_iterations_total", "counter", "Loop iterations.");
    put(o, "evl_loop_iterations_total{%s} %llu\n", lp, (unsigned long long)d->iterations);
    family(o, "evl_loop_idle_seconds_total", "counter", "Time blocked in the poll phase's wait.");
    put(o, "evl_loop_idle_seconds_total{%s} %.9g\n", lp, secs(d->idle_ns));
    family(o, "evl_loop_busy_seconds_total", "counter",
           "Time outside the poll phase's wait (running callbacks and the loop itself).");
    put(o, "evl_loop_busy_seconds_total{%s} %.9g\n", lp, secs(d->busy_ns));
    family(o, "evl_loop_utilization_ratio", "gauge",
           "busy / (busy + idle) since metrics were enabled or reset.");
    uint64_t total = d->busy_ns + d->idle_ns;
    put(o, "evl_loop_utilization_ratio{%s} %.6g\n", lp,
        total ? (double)d->busy_ns / (double)total : 0.0);
    family(o, "evl_loop_wakeups_total", "counter", "Returns from a sleeping wait, by cause.");
    for (unsigned i = 0; i < EVL_METRICS_WAKES; i++) {
        put(o, "evl_loop_wakeups_total{%s,cause=\"%s\"} %llu\n", lp, wake_names[i],
            (unsigned long long)d->wakeups[i]);
    }
    family(o, "evl_loop_fastpath_transitions_total", "counter",
           "Transitions between the fast path and the poller, by direction.");
    put(o, "evl_loop_fastpath_transitions_total{%s,direction=\"enter\"} %llu\n", lp,
        (unsigned long long)d->fast_enter);
    put(o, "evl_loop_fastpath_transitions_total{%s,direction=\"leave\"} %llu\n", lp,
        (unsigned long long)d->fast_leave);

    family(o, "evl_loop_delay_seconds", "histogram",
           "Event-loop delay: how late timers ran after their deadline.");
    for (unsigned i = 0; i < EVL__DELAY_BOUNDS; i++) {
        put(o, "evl_loop_delay_seconds_bucket{%s,le=\"%.9g\"} %llu\n", lp,
            secs(evl__delay_bounds_ns[i]), (unsigned long long)d->delay_le[i]);
    }
    put(o, "evl_loop_delay_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lp,
        (unsigned long long)d->delay.n);
    put(o, "evl_loop_delay_seconds_sum{%s} %.9g\n", lp, secs(d->delay.sum));
    put(o, "evl_loop_delay_seconds_count{%s} %llu\n", lp, (unsigned long long)d->delay.n);
    family(o, "evl_loop_delay_max_seconds", "gauge", "Largest event-loop delay seen.");
    put(o, "evl_loop_delay_max_seconds{%s} %.9g\n", lp, secs(d->delay.max));

    family(o, "evl_queue_depth", "gauge", "Queue depth at the last observation, by queue.");
    for (unsigned q = 0; q < EVL_METRICS_QUEUES; q++) {
        put(o, "evl_queue_depth{%s,queue=\"%s\"} %llu\n", lp, queue_names[q],
            (unsigned long long)d->queue[q].depth);
    }
    family(o, "evl_queue_depth_max", "gauge", "Highest queue depth observed, by queue.");
    for (unsigned q = 0; q < EVL_METRICS_QUEUES; q++) {
        put(o, "evl_queue_depth_max{%s,queue=\"%s\"} %llu\n", lp, queue_names[q],
            (unsigned long long)d->queue[q].max);
    }
    family(o, "evl_queue_depth_avg", "gauge",
           "Moving average of the queue depth (weight 1/16 per observation), by queue.");
    for (unsigned q = 0; q < EVL_METRICS_QUEUES; q++) {
        put(o, "evl_queue_depth_avg{%s,queue=\"%s\"} %.6g\n", lp, queue_names[q], d->queue[q].avg);
    }
    family(o, "evl_queue_refusals_total", "counter",
           "Admissions refused by a bound, rate or limit, by queue.");
    for (unsigned q = 0; q < EVL_METRICS_QUEUES; q++) {
        put(o, "evl_queue_refusals_total{%s,queue=\"%s\"} %llu\n", lp, queue_names[q],
            (unsigned long long)d->queue[q].refusals);
    }

    family(o, "evl_promises_created_total", "counter", "Promises created on the loop.");
    put(o, "evl_promises_created_total{%s} %llu\n", lp, (unsigned long long)d->promises_created);
    family(o, "evl_promises_pending", "gauge", "Live promises still pending.");
    put(o, "evl_promises_pending{%s} %llu\n", lp, (unsigned long long)d->promises_pending);
    family(o, "evl_promises_settled", "gauge", "Live promises already settled.");
    put(o, "evl_promises_settled{%s} %llu\n", lp, (unsigned long long)d->promises_settled);
    family(o, "evl_promise_unhandled_rejections_total", "counter",
           "Rejections reported as unhandled.");
    put(o, "evl_promise_unhandled_rejections_total{%s} %llu\n", lp,
        (unsigned long long)d->unhandled);
    family(o, "evl_promise_rejections_handled_late_total", "counter",
           "Rejections handled after they were reported as unhandled.");
    put(o, "evl_promise_rejections_handled_late_total{%s} %llu\n", lp,
        (unsigned long long)d->handled_late);
}

int evl__metrics_render(struct evl_loop *loop, char *buf, size_t cap, size_t *needed)
{
    struct evl__mdata *d = evl__loop_malloc(loop, sizeof(*d));
    if (d == NULL) {
        return EVL_ENOMEM;
    }
    char name[64];
    (void)evl__metrics_read(loop, d, name, sizeof(name));
    struct out o = {buf, cap, 0};
    render(&o, d, name);
    evl__loop_free(loop, d);
    if (needed != NULL) {
        *needed = o.len + 1;
    }
    if (o.len >= cap || o.len > (size_t)INT32_MAX) {
        return EVL_ERANGE;
    }
    return (int)o.len;
}

int evl_metrics_write_prometheus(struct evl_loop *loop, char *buf, size_t cap, size_t *needed)
{
    if (loop == NULL || (buf == NULL && cap != 0)) {
        return EVL_EINVAL;
    }
    return evl__metrics_render(loop, buf, cap, needed);
}

/*
 * The natives behind js/perf_hooks.js: the loop's idle-time accounting (Node's
 * eventLoopUtilization reads libuv's, this reads libevl's), a nanosecond clock for the
 * event-loop delay histogram, and the metrics snapshot as a plain object (process.metrics).
 */
#include "duktape/perf_hooks.h"

#include "duktape/bootstrap.h"

#include "evl/errno.h"
#include "evl/metrics.h"

#include "evl_js_perf_hooks.h"

#include <stdint.h>
#include <string.h>

static struct evl_duk *binding(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        (void)duk_error(ctx, DUK_ERR_ERROR, "evl: the heap is not bound to a loop");
    }
    return d;
}

/* native.eluRaw(): [idle ms, active ms] since the loop started, or null before it started
 * (Node's loopStart <= 0 case). active = now - start - idle, all on CLOCK_MONOTONIC. */
static duk_ret_t native_elu_raw(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    uint64_t idle = 0;
    uint64_t start = 0;
    if (evl_metrics_idle_time(d->loop, &idle, &start) != 0 || start == 0) {
        duk_push_null(ctx);
        return 1;
    }
    uint64_t now = evl__duk_now_ns();
    double active = (double)(now > start ? now - start : 0) - (double)idle;
    duk_push_array(ctx);
    duk_push_number(ctx, (double)idle / 1e6);
    duk_put_prop_index(ctx, -2, 0);
    duk_push_number(ctx, active / 1e6);
    duk_put_prop_index(ctx, -2, 1);
    return 1;
}

/* native.hrns(): CLOCK_MONOTONIC in nanoseconds (exact as a double for 104 days of uptime
 * counted from boot; the histogram only takes differences). */
static duk_ret_t native_hrns(duk_context *ctx)
{
    duk_push_number(ctx, (double)evl__duk_now_ns());
    return 1;
}

static void put_num(duk_context *ctx, const char *key, double v)
{
    duk_push_number(ctx, v);
    duk_put_prop_string(ctx, -2, key);
}

static void put_u64(duk_context *ctx, const char *key, uint64_t v)
{
    put_num(ctx, key, (double)v);
}

static void put_quantiles(duk_context *ctx, const struct evl_metrics_quantiles *q)
{
    put_u64(ctx, "p50Ns", q->p50);
    put_u64(ctx, "p90Ns", q->p90);
    put_u64(ctx, "p99Ns", q->p99);
    put_u64(ctx, "p999Ns", q->p999);
}

/* Keys of the snapshot's arrays, in enum order (camelCase, as JavaScript names go). */
static const char *const kind_keys[EVL_METRICS_KINDS] = {"task",      "timer",    "immediate", "io",
                                                         "microtask", "nextTick", "pool"};
static const char *const queue_keys[EVL_METRICS_QUEUES] = {
    "submit", "microtask", "nextTick", "timers", "immediates", "fds", "pool"};
static const char *const wake_keys[EVL_METRICS_WAKES] = {"task", "timer", "io", "other"};

/* native.metrics(): the loop's metrics snapshot as a plain object (+1). A loop whose
 * metrics were never enabled gives the same shape, enabled false and zeroes. */
static duk_ret_t native_metrics(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    struct evl_metrics_snapshot s;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    if (evl_metrics_snapshot(d->loop, &s) != 0) {
        memset(&s, 0, sizeof(s));
    }
    duk_push_object(ctx);
    duk_push_boolean(ctx, s.enabled != 0);
    duk_put_prop_string(ctx, -2, "enabled");
    put_u64(ctx, "sampleEvery", s.sample_every);
    put_u64(ctx, "slowNs", s.slow_ns);
    put_u64(ctx, "iterations", s.iterations);
    put_u64(ctx, "idleNs", s.idle_ns);
    put_u64(ctx, "busyNs", s.busy_ns);
    put_num(ctx, "utilization", s.utilization);
    duk_push_object(ctx);
    for (unsigned i = 0; i < EVL_METRICS_WAKES; i++) {
        put_u64(ctx, wake_keys[i], s.wakeups[i]);
    }
    duk_put_prop_string(ctx, -2, "wakeups");
    duk_push_object(ctx);
    put_u64(ctx, "enter", s.fastpath_enter);
    put_u64(ctx, "leave", s.fastpath_leave);
    duk_put_prop_string(ctx, -2, "fastPath");
    duk_push_object(ctx);
    for (unsigned i = 0; i < EVL_METRICS_KINDS; i++) {
        const struct evl_metrics_kind_stats *k = &s.kind[i];
        duk_push_object(ctx);
        put_u64(ctx, "count", k->count);
        put_u64(ctx, "sampled", k->sampled);
        put_u64(ctx, "slow", k->slow);
        put_u64(ctx, "sumNs", k->sum_ns);
        put_u64(ctx, "minNs", k->min_ns);
        put_u64(ctx, "maxNs", k->max_ns);
        put_num(ctx, "meanNs", k->mean_ns);
        put_quantiles(ctx, &k->q);
        put_u64(ctx, "cpuSampled", k->cpu_sampled);
        put_u64(ctx, "cpuNs", k->cpu_ns);
        duk_put_prop_string(ctx, -2, kind_keys[i]);
    }
    duk_put_prop_string(ctx, -2, "callbacks");
    duk_push_object(ctx);
    for (unsigned i = 0; i < EVL_METRICS_QUEUES; i++) {
        const struct evl_metrics_queue_stats *q = &s.queue[i];
        duk_push_object(ctx);
        put_u64(ctx, "depth", q->depth);
        put_u64(ctx, "max", q->max);
        put_num(ctx, "avg", q->avg);
        put_u64(ctx, "refusals", q->refusals);
        put_u64(ctx, "observed", q->observed);
        duk_put_prop_string(ctx, -2, queue_keys[i]);
    }
    duk_put_prop_string(ctx, -2, "queues");
    duk_push_object(ctx);
    put_u64(ctx, "count", s.delay_count);
    put_u64(ctx, "minNs", s.delay_min_ns);
    put_u64(ctx, "maxNs", s.delay_max_ns);
    put_num(ctx, "meanNs", s.delay_mean_ns);
    put_num(ctx, "stddevNs", s.delay_stddev_ns);
    put_quantiles(ctx, &s.delay_q);
    duk_put_prop_string(ctx, -2, "delay");
    duk_push_object(ctx);
    put_u64(ctx, "created", s.promises_created);
    put_u64(ctx, "settled", s.promises_settled);
    put_u64(ctx, "pending", s.promises_pending);
    put_u64(ctx, "unhandledRejections", s.unhandled_rejections);
    put_u64(ctx, "handledLate", s.handled_late);
    duk_put_prop_string(ctx, -2, "promises");
    return 1;
}

/* native.metricsEnable(sampleEvery, cpuSampleEvery, slowNs, delayResolutionMs): numbers
 * the script side validated (0: the default). Throws only on a libevl error. */
static duk_ret_t native_metrics_enable(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.sample_every = (uint32_t)duk_require_number(ctx, 0);
    o.cpu_sample_every = (uint32_t)duk_require_number(ctx, 1);
    o.slow_ns = (uint64_t)duk_require_number(ctx, 2);
    o.delay_resolution_ms = (uint32_t)duk_require_number(ctx, 3);
    int rc = evl_metrics_enable(d->loop, &o);
    if (rc != 0) {
        return duk_error(ctx, DUK_ERR_ERROR, "cannot enable the loop metrics: %s",
                         evl_strerror(rc));
    }
    return 0;
}

static duk_ret_t native_metrics_disable(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    (void)evl_metrics_disable(d->loop);
    return 0;
}

int evl__duk_perf_hooks_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    int rc = evl_metrics_idle_enable(d->loop);
    if (rc != 0) {
        return rc;
    }
    evl__duk_push_natives(d);
    evl__duk_put_native(ctx, "eluRaw", native_elu_raw, 0);
    evl__duk_put_native(ctx, "hrns", native_hrns, 0);
    evl__duk_put_native(ctx, "metrics", native_metrics, 0);
    evl__duk_put_native(ctx, "metricsEnable", native_metrics_enable, 4);
    evl__duk_put_native(ctx, "metricsDisable", native_metrics_disable, 0);
    duk_pop(ctx);
    evl__duk_run_feature_bootstrap(d, evl_js_perf_hooks, evl_js_perf_hooks_len);
    return 0;
}

/*
 * Loop observability at the embedding level (perf_hooks.c): eventLoopUtilization on the
 * plain performance object of a heap without EVL_DUK_WEB, reading the idle-time
 * accounting the install turned on; process.metrics for an embedder that enables metrics
 * in C. Node-facing behaviour is covered by tests/js/oracle/perf_*.js.
 */
#include "duk_env.h"

TEST(install_turns_on_idle_accounting)
{
    struct duk_env e;
    env_open(&e, 0, 0);
    uint64_t idle = 1;
    uint64_t start = 1;
    ASSERT_OK(evl_metrics_idle_time(e.loop, &idle, &start));
    ASSERT_UEQ(0, start);                      /* not run yet */
    ASSERT_EQ(0, evl_metrics_enabled(e.loop)); /* full metrics stay off */
    env_close(&e);
}

TEST(elu_on_the_plain_performance_object) /* labels: real-time */
{
    struct duk_env e;
    env_open(&e, 0, 0);
    ASSERT_STR_EQ(env_str(&e, "typeof performance.mark + ' ' +"
                              " typeof performance.eventLoopUtilization + ' ' +"
                              " Object.keys(performance).indexOf('eventLoopUtilization')"),
                  "undefined function -1");
    ASSERT_STR_EQ(env_str(&e, "JSON.stringify(performance.eventLoopUtilization())"),
                  "{\"idle\":0,\"active\":0,\"utilization\":0}");
    env_eval(
        &e,
        "var u = null; setTimeout(function () { u = performance.eventLoopUtilization(); }, 30);");
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(env_str(&e, "String(u.idle >= 20 && u.active > 0 && u.utilization > 0 &&"
                              " u.utilization < 1)"),
                  "true");
    env_close(&e);
}

TEST(metrics_enabled_by_the_embedder)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_STR_EQ(env_str(&e, "String(process.metrics().enabled)"), "false");
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    mo.sample_every = 1;
    ASSERT_OK(evl_metrics_enable(e.loop, &mo));
    env_eval(&e, "for (var i = 0; i < 3; i++) setImmediate(function () {});");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e,
                          "var m = process.metrics(); [m.enabled, m.sampleEvery,"
                          " m.callbacks.immediate.count, m.callbacks.immediate.sampled].join()"),
                  "true,1,3,3");
    env_eval(&e, "process.metrics.disable()");
    ASSERT_EQ(0, evl_metrics_enabled(e.loop));
    env_close(&e);
}

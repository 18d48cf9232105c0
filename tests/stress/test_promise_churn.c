/*
 * Promise churn: 10,000,000 operations (API calls plus the reaction jobs they cause) in
 * rounds of the same shape: a pending promise, an 8-link then-chain through it with a
 * rejection and a recovery, an adoption of a resolved promise, finally, Promise.all over the
 * chain, a resolved promise and a plain value, then settling and releasing everything.
 * Every round's result is checked, and memory must stay flat: after a warm-up, the tracking
 * allocator's live bytes never exceed their warm-up peak (the loop's record pools are
 * bounded and reused) and the resident set grows by at most 1 MiB.
 */
#include "stress.h"

/* ASan's quarantine and valgrind's freed-block list keep freed memory resident on purpose,
 * so there the resident set says nothing about the library; live bytes still do. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

#define LINKS   8
#define SAMPLES 100
#define WARMUP  10 /* samples */

static uint64_t ops;
static uint64_t rounds_left;
static uint64_t rounds_total;
static uint64_t results_ok;
static uint64_t results_bad;
static uint64_t sample_every;
static uint64_t live_samples[SAMPLES + 1];
static uint64_t rss_samples[SAMPLES + 1];
static int n_samples;

#define V(x)  ((void *)(uintptr_t)(x))
#define U(vp) ((uint64_t)(uintptr_t)(vp))

static void reason_free(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    evl_free(ptr);
}

static void link_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    uint64_t k = U(arg);
    uint64_t v = U(value);
    ops++;
    if (k == 3) {
        uint64_t *reason = evl_malloc(sizeof(*reason));
        ASSERT_NOT_NULL(reason);
        *reason = v;
        ASSERT_OK(evl_result_reject(result, reason, reason_free));
    } else if (k == 5) {
        struct evl_promise *q;
        ASSERT_OK(evl_promise_resolved(loop, V(v + 1), NULL, &q));
        ASSERT_OK(evl_result_resolve_promise(result, q));
        evl_promise_release(q);
        ops += 3;
    } else {
        ASSERT_OK(evl_result_resolve(result, V(v + 1), NULL));
    }
    ops++;
}

static void recover_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    ops += 2;
    ASSERT_OK(evl_result_resolve(result, V(*(uint64_t *)value + 100), NULL));
}

static void finally_cb(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
    ops++;
}

static void check_all(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
    const struct evl_values *vals = value;
    ops++;
    /* 0 -> 1 -> 2 -> 3 -> rejected with 3 -> 103 -> adopts 104 -> 105 -> 106. */
    if (evl_values_count(vals) == 3 && U(evl_values_get(vals, 0)) == 106 &&
        U(evl_values_get(vals, 1)) == 7 && U(evl_values_get(vals, 2)) == 9) {
        results_ok++;
    } else {
        results_bad++;
    }
}

static void one_round(struct evl_loop *loop)
{
    struct evl_promise *root;
    ASSERT_OK(evl_promise_new(loop, &root));
    struct evl_promise *p = evl_promise_retain(root);
    ops += 2;
    for (uint64_t k = 0; k < LINKS; k++) {
        struct evl_promise *next;
        ASSERT_OK(evl_promise_then(p, link_cb, k == 4 ? recover_cb : NULL, V(k), NULL, &next));
        evl_promise_release(p);
        p = next;
        ops += 2;
    }
    struct evl_promise *fin;
    ASSERT_OK(evl_promise_finally(p, finally_cb, NULL, NULL, &fin));
    struct evl_promise *seven;
    ASSERT_OK(evl_promise_resolved(loop, V(7), NULL, &seven));
    struct evl_promise_input in[3] = {{fin, NULL, NULL}, {seven, NULL, NULL}, {NULL, V(9), NULL}};
    struct evl_promise *all;
    ASSERT_OK(evl_promise_all(loop, in, 3, &all));
    ASSERT_OK(evl_promise_then(all, check_all, NULL, NULL, NULL, NULL));
    ASSERT_OK(evl_promise_resolve(root, V(0), NULL));
    evl_promise_release(root);
    evl_promise_release(p);
    evl_promise_release(fin);
    evl_promise_release(seven);
    evl_promise_release(all);
    ops += 10;
}

static void sample(void)
{
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    live_samples[n_samples] = st.live_bytes;
    rss_samples[n_samples] = stress_rss_kib();
    n_samples++;
}

/* A batch of rounds per task: the checkpoint after it runs every job, so each sample is
 * taken with nothing in flight. */
static void batch_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    if ((rounds_total - rounds_left) % sample_every == 0 && n_samples <= SAMPLES) {
        sample();
    }
    for (uint64_t i = 0; i < sample_every && rounds_left > 0; i++, rounds_left--) {
        one_round(loop);
    }
    if (rounds_left > 0) {
        ASSERT_OK(evl_loop_submit(loop, batch_task, NULL));
    } else if (n_samples <= SAMPLES) {
        ASSERT_OK(evl_loop_submit(loop, batch_task, NULL)); /* the last sample, all settled */
    }
}

TEST(promise_churn_10m_ops_flat_memory)
{
    /* 49 operations per round (counted as they run; checked below). */
    uint64_t target = stress_count(10000000, 20000);
    rounds_total = rounds_left = target / 49 + 1;
    sample_every = rounds_total / SAMPLES + 1;
    rounds_total = rounds_left = sample_every * SAMPLES;
    ops = results_ok = results_bad = 0;
    n_samples = 0;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_submit(loop, batch_task, NULL));
    uint64_t t0 = stress_now_ns();
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    double secs = (double)(stress_now_ns() - t0) / 1e9;
    ASSERT_OK(evl_loop_free(loop));

    ASSERT_EQ(n_samples, SAMPLES + 1);
    uint64_t warm_live = 0;
    uint64_t warm_rss = 0;
    uint64_t max_live = 0;
    uint64_t max_rss = 0;
    for (int i = 0; i <= SAMPLES; i++) {
        if (i < WARMUP) {
            warm_live = live_samples[i] > warm_live ? live_samples[i] : warm_live;
            warm_rss = rss_samples[i] > warm_rss ? rss_samples[i] : warm_rss;
        } else {
            max_live = live_samples[i] > max_live ? live_samples[i] : max_live;
            max_rss = rss_samples[i] > max_rss ? rss_samples[i] : max_rss;
        }
    }
    printf("promises: %" PRIu64 " rounds, %" PRIu64 " operations (%.0f per round), %.2f s; "
           "live bytes warm-up peak %" PRIu64 ", after %" PRIu64 "; RSS warm-up %" PRIu64
           " KiB, after %" PRIu64 " KiB\n",
           rounds_total, ops, (double)ops / (double)rounds_total, secs, warm_live, max_live,
           warm_rss, max_rss);
    ASSERT_UEQ(results_ok, rounds_total);
    ASSERT_UEQ(results_bad, 0);
    ASSERT_UGE(ops, target);
    ASSERT_ULE(max_live, warm_live);
    if (RSS_MEANINGFUL && !evl_test_under_valgrind()) {
        ASSERT_ULE(max_rss, warm_rss + 1024);
    } else {
        printf("promises: RSS not checked (ASan or valgrind keeps freed memory resident)\n");
    }
}

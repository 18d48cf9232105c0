/*
 * evl side of the promise workloads: a then-chain, create + resolve + then, all over 1,000
 * promises, and bytes per pending promise with one reaction. bench/js/promise.js runs the
 * same shapes in JavaScript under node. See bench_common.h for the output format.
 *
 * Values are small integers carried in the pointer (no destructor), as a C caller passing
 * handles would do.
 */
#include "bench_common.h"

#include <evl.h>

#define EVL_CHECK(expr)                                            \
    do {                                                           \
        int rc_ = (expr);                                          \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, evl_strerror(rc_)); \
    } while (0)

#define INT_VALUE(p) ((uint64_t)(uintptr_t)(p))
#define VALUE_INT(x) ((void *)(uintptr_t)(x))

static struct evl_loop *loop_new(void)
{
    struct evl_loop *loop = NULL;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    return loop;
}

static void run_in_loop(struct evl_loop *loop, evl_task_cb body, void *arg)
{
    EVL_CHECK(evl_loop_submit(loop, body, arg));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
}

static uint64_t n_ops;
static uint64_t t_start;
static uint64_t t_end;
static uint64_t result_value;
static uint64_t counter;

/* ---- then-chain ---- */

static void inc_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    EVL_CHECK(evl_result_resolve(result, VALUE_INT(INT_VALUE(value) + 1), NULL));
}

static void chain_end_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
    t_end = bench_now_ns();
    result_value = INT_VALUE(value);
}

static void chain_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl_promise *p = NULL;
    t_start = bench_now_ns();
    EVL_CHECK(evl_promise_resolved(loop, VALUE_INT(0), NULL, &p));
    for (uint64_t i = 0; i < n_ops; i++) {
        struct evl_promise *q = NULL;
        EVL_CHECK(evl_promise_then(p, inc_cb, NULL, NULL, NULL, &q));
        evl_promise_release(p);
        p = q;
    }
    EVL_CHECK(evl_promise_then(p, chain_end_cb, NULL, NULL, NULL, NULL));
    evl_promise_release(p);
}

static double chain_once(struct evl_loop *loop)
{
    result_value = 0;
    run_in_loop(loop, chain_body, NULL);
    BENCH_CHECK(result_value == n_ops, "chain produced %" PRIu64 " of %" PRIu64, result_value,
                n_ops);
    return (double)(t_end - t_start) / (double)n_ops;
}

static void w_promise_chain(uint64_t n)
{
    struct evl_loop *loop = loop_new();
    n_ops = n;
    double cold = bench_warmup ? chain_once(loop) : 0;
    double warm = chain_once(loop);
    bench_report("promise_chain", n, warm, "cold_ns %.2f", cold);
    EVL_CHECK(evl_loop_free(loop));
}

/* ---- create + resolve + then (the derived promise is made and dropped, as in JS) ---- */

static void add_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
    counter += INT_VALUE(value);
}

static void create_done(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    t_end = bench_now_ns();
}

static void create_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    t_start = bench_now_ns();
    for (uint64_t i = 0; i < n_ops; i++) {
        struct evl_promise *p = NULL;
        struct evl_promise *q = NULL;
        EVL_CHECK(evl_promise_new(loop, &p));
        EVL_CHECK(evl_promise_resolve(p, VALUE_INT(1), NULL));
        EVL_CHECK(evl_promise_then(p, add_cb, NULL, NULL, NULL, &q));
        evl_promise_release(q);
        evl_promise_release(p);
    }
    /* Runs after this callback's checkpoint has drained every reaction. */
    EVL_CHECK(evl_loop_submit(loop, create_done, NULL));
}

static double create_once(struct evl_loop *loop)
{
    counter = 0;
    run_in_loop(loop, create_body, NULL);
    BENCH_CHECK(counter == n_ops, "ran %" PRIu64 " of %" PRIu64 " reactions", counter, n_ops);
    return (double)(t_end - t_start) / (double)n_ops;
}

static void w_promise_create(uint64_t n)
{
    struct evl_loop *loop = loop_new();
    n_ops = n;
    double cold = bench_warmup ? create_once(loop) : 0;
    double warm = create_once(loop);
    bench_report("promise_create", n, warm, "cold_ns %.2f", cold);
    EVL_CHECK(evl_loop_free(loop));
}

/* ---- all over 1,000 already-resolved promises, one round after another ---- */

#define ALL_WIDTH 1000
static struct evl_promise_input all_inputs[ALL_WIDTH];
static uint64_t rounds_left;

static void all_round(struct evl_loop *loop);

static void all_done_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)arg;
    (void)result;
    const struct evl_values *v = value;
    BENCH_CHECK(evl_values_count(v) == ALL_WIDTH, "all gave %zu values", evl_values_count(v));
    BENCH_CHECK(INT_VALUE(evl_values_get(v, ALL_WIDTH - 1)) == ALL_WIDTH - 1, "wrong value");
    counter++;
    if (--rounds_left == 0) {
        t_end = bench_now_ns();
        return;
    }
    all_round(loop);
}

static void all_round(struct evl_loop *loop)
{
    struct evl_promise *p = NULL;
    EVL_CHECK(evl_promise_all(loop, all_inputs, ALL_WIDTH, &p));
    EVL_CHECK(evl_promise_then(p, all_done_cb, NULL, NULL, NULL, NULL));
    evl_promise_release(p);
}

static void all_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ALL_WIDTH; i++) {
        if (all_inputs[i].promise == NULL) {
            EVL_CHECK(evl_promise_resolved(loop, VALUE_INT(i), NULL, &all_inputs[i].promise));
        }
    }
    t_start = bench_now_ns();
    all_round(loop);
}

static double all_once(struct evl_loop *loop)
{
    counter = 0;
    rounds_left = n_ops;
    run_in_loop(loop, all_body, NULL);
    BENCH_CHECK(counter == n_ops, "ran %" PRIu64 " of %" PRIu64 " rounds", counter, n_ops);
    return (double)(t_end - t_start) / (double)n_ops;
}

static void w_promise_all(uint64_t n)
{
    struct evl_loop *loop = loop_new();
    n_ops = n;
    memset(all_inputs, 0, sizeof(all_inputs));
    double cold = bench_warmup ? all_once(loop) : 0;
    double warm = all_once(loop);
    for (size_t i = 0; i < ALL_WIDTH; i++) {
        evl_promise_release(all_inputs[i].promise);
        all_inputs[i].promise = NULL;
    }
    bench_report("promise_all", n, warm, "width %d cold_ns %.2f", ALL_WIDTH, cold);
    EVL_CHECK(evl_loop_free(loop));
}

/* ---- bytes per pending promise with one reaction (no derived promise requested) ---- */

static uint64_t mem_bytes;

static void nop_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    (void)result;
}

static void mem_body(struct evl_loop *loop, void *arg)
{
    struct evl_promise **ps = arg;
    struct evl_alloc_stats before;
    struct evl_alloc_stats after;
    evl_alloc_stats(&before);
    for (uint64_t i = 0; i < n_ops; i++) {
        EVL_CHECK(evl_promise_new(loop, &ps[i]));
        EVL_CHECK(evl_promise_then(ps[i], nop_cb, NULL, NULL, NULL, NULL));
    }
    evl_alloc_stats(&after);
    mem_bytes = after.live_bytes - before.live_bytes;
    for (uint64_t i = 0; i < n_ops; i++) {
        evl_promise_release(ps[i]);
    }
}

static void w_mem_promise(uint64_t n)
{
    struct evl_promise **ps = bench_alloc(n, sizeof(*ps));
    n_ops = n;
    evl_alloc_tracking_enable();
    struct evl_loop *loop = loop_new();
    run_in_loop(loop, mem_body, ps);
    EVL_CHECK(evl_loop_free(loop));
    evl_alloc_tracking_disable();
    bench_report_bytes("mem_promise", n, (double)mem_bytes / (double)n,
                       "tracked-live-bytes/N(promise+reaction)");
    free(ps);
}

static const struct bench_workload workloads[] = {
    {"promise_chain", w_promise_chain, 1000000, 100000},
    {"promise_create", w_promise_create, 1000000, 100000},
    {"promise_all", w_promise_all, 2000, 500},
    {"mem_promise", w_mem_promise, 100000, 100000},
};

int main(int argc, char **argv)
{
    bench_lib = "evl";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

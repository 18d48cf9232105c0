/*
 * A C function exposed to JavaScript runs blocking work on the worker pool and returns a
 * Promise that JS awaits with then. The JS Promise is the C promise: the pool settles a C
 * promise on the loop thread, one C reaction turns the C result into a JS value, and the
 * promise it returns is pushed to JS as is (no copy, no polling).
 *
 * Build: part of the examples (cmake --build build --target example_duk_pool_promise).
 */
#include "evl_duktape.h"

#include <stdio.h>

#define POOL_KEY DUK_HIDDEN_SYMBOL("pool")

/* One request: read by the worker, freed after the reaction ran (arg destructor). */
struct job {
    duk_context *ctx;
    int32_t limit;
    uint32_t count;
};

/* Worker thread: blocking CPU work. Touches only the job, never the JS heap. */
static int count_primes(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    struct job *job = arg;
    (void)dtor_out;
    if (job->limit < 2) {
        return EVL_EINVAL; /* rejects the promise with an evl_error carrying this code */
    }
    uint32_t count = 0;
    for (int32_t n = 2; n < job->limit; n++) {
        int prime = 1;
        for (int32_t d = 2; d * d <= n; d++) {
            if (n % d == 0) {
                prime = 0;
                break;
            }
        }
        count += (uint32_t)prime;
    }
    job->count = count;
    *value_out = job; /* borrowed by the reaction below; the job is freed by its destructor */
    return 0;
}

/* Loop thread: the C result becomes a JS number, settling the promise JS holds. */
static void to_js(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    struct job *job = value;
    (void)arg;
    void *js_value = NULL;
    evl_dtor_cb dtor = NULL;
    duk_push_uint(job->ctx, job->count);
    int rc = evl_duk_value_new(job->ctx, -1, &js_value, &dtor);
    duk_pop(job->ctx);
    if (rc == 0 && evl_result_resolve(result, js_value, dtor) != 0) {
        dtor(loop, js_value);
    }
}

static void job_free(struct evl_loop *loop, void *arg)
{
    (void)loop;
    evl_free(arg);
}

/* countPrimes(limit) -> Promise<number>. */
static duk_ret_t js_count_primes(duk_context *ctx)
{
    int32_t limit = duk_to_int32(ctx, 0);
    duk_push_current_function(ctx);
    duk_get_prop_string(ctx, -1, POOL_KEY);
    struct evl_pool *pool = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    duk_push_global_stash(ctx);
    duk_get_prop_string(ctx, -1, "loop");
    struct evl_loop *loop = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);

    struct job *job = evl_calloc(1, sizeof(*job));
    if (!job) {
        return DUK_RET_RANGE_ERROR;
    }
    job->ctx = ctx;
    job->limit = limit;
    struct evl_promise *work = NULL;
    int rc = evl_pool_submit(pool, loop, count_primes, job, &work);
    if (rc != 0) {
        evl_free(job);
        return duk_error(ctx, DUK_ERR_ERROR, "pool: %s", evl_strerror(rc));
    }
    /* A rejection (no handler for it here) passes through to JS as an Error. */
    struct evl_promise *js = NULL;
    rc = evl_promise_then(work, to_js, NULL, job, job_free, &js);
    evl_promise_release(work);
    if (rc != 0) {
        /* The job stays referenced by the queued work: leak it rather than free it early. */
        return duk_error(ctx, DUK_ERR_ERROR, "then: %s", evl_strerror(rc));
    }
    rc = evl_duk_push_promise(ctx, js);
    evl_promise_release(js);
    if (rc != 0) {
        return duk_error(ctx, DUK_ERR_ERROR, "push: %s", evl_strerror(rc));
    }
    return 1;
}

static duk_ret_t js_print(duk_context *ctx)
{
    puts(duk_safe_to_string(ctx, 0));
    return 0;
}

static const char script[] =
    "print('asking the pool for two prime counts...');\n"
    "Promise.all([countPrimes(200000), countPrimes(300000)]).then(function (counts) {\n"
    "  print('primes below 200000: ' + counts[0] + ', below 300000: ' + counts[1]);\n"
    "});\n"
    "countPrimes(1).catch(function (e) {\n"
    "  print('countPrimes(1) rejected: ' + e.message + ' (' + e.code + ')');\n"
    "});\n"
    "print('meanwhile the loop thread is free');\n";

int main(void)
{
    int status = 1;
    struct evl_loop *loop = NULL;
    struct evl_pool *pool = NULL;
    duk_context *ctx = NULL;
    if (evl_loop_new(&loop, NULL) != 0) {
        fprintf(stderr, "cannot create the loop\n");
        return 1;
    }
    if (evl_pool_new(&pool, 2) != 0) {
        fprintf(stderr, "cannot create the pool\n");
        goto free_loop;
    }
    if (evl_duk_heap_new(&ctx, NULL) != 0 || evl_duk_install(ctx, loop, 0) != 0) {
        fprintf(stderr, "cannot set up the JavaScript heap\n");
        goto free_heap;
    }
    duk_push_global_stash(ctx);
    duk_push_pointer(ctx, loop);
    duk_put_prop_string(ctx, -2, "loop");
    duk_pop(ctx);
    duk_push_c_function(ctx, js_count_primes, 1);
    duk_push_pointer(ctx, pool);
    duk_put_prop_string(ctx, -2, POOL_KEY);
    duk_put_global_string(ctx, "countPrimes");
    duk_push_c_function(ctx, js_print, 1);
    duk_put_global_string(ctx, "print");

    if (duk_peval_string(ctx, script) != 0) {
        fprintf(stderr, "script failed: %s\n", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        goto free_heap;
    }
    duk_pop(ctx);
    /* Pool work keeps the loop alive until its promise settles. */
    if (evl_loop_run(loop, EVL_RUN_DEFAULT) < 0) {
        goto free_heap;
    }
    int exit_status = 0;
    status = evl_duk_terminated(ctx, &exit_status) > 0 ? exit_status : 0;
free_heap:
    evl_duk_heap_free(ctx);
    (void)evl_pool_free(pool);
free_loop:
    (void)evl_loop_free(loop);
    return status;
}

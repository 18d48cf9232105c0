/*
 * Embedding evl-duktape: JS asks C to do blocking work on another thread and gets a
 * callback when it is done. The Duktape heap is touched only on the loop thread: the worker
 * posts its result back with evl_loop_submit, and the task (run on the loop thread) calls
 * into JS. evl_loop_ref keeps the loop alive while the worker runs.
 *
 *   $ ./example_duk_worker_thread
 *   sum of 1..10000000 computed on a worker thread: 50000005000000
 */
#include "evl_duktape.h"

#include <pthread.h>
#include <stdio.h>

struct job {
    duk_context *ctx;
    struct evl_loop *loop;
    pthread_t thread;
    uint64_t n;
    double result;
    uint32_t callback; /* registry handle of the JS callback */
};

/* Loop thread: deliver the result to JS, then release everything the job held. */
static void deliver(struct evl_loop *loop, void *arg)
{
    struct job *job = arg;
    pthread_join(job->thread, NULL);
    evl_duk_push_ref(job->ctx, job->callback);
    duk_push_undefined(job->ctx);
    duk_push_number(job->ctx, job->result);
    (void)evl_duk_call_method(job->ctx, 1); /* exceptions follow Node's policy */
    duk_pop(job->ctx);
    evl_duk_unref(job->ctx, job->callback);
    evl_free(job);
    (void)evl_loop_unref(loop);
}

/* Worker thread: no Duktape calls here. */
static void *work(void *arg)
{
    struct job *job = arg;
    double sum = 0;
    for (uint64_t i = 1; i <= job->n; i++) {
        sum += (double)i;
    }
    job->result = sum;
    if (evl_loop_submit(job->loop, deliver, job) != 0) {
        fprintf(stderr, "the loop refused the result\n");
    }
    return NULL;
}

/* JS: sumInThread(n, callback). Value stack: [n callback] -> [undefined]. The loop pointer
 * rides on the function object itself. */
static duk_ret_t sum_in_thread(duk_context *ctx)
{
    double n = duk_require_number(ctx, 0);
    duk_require_function(ctx, 1);
    duk_push_current_function(ctx);
    duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("loop"));
    struct evl_loop *loop = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);

    struct job *job = evl_calloc(1, sizeof(*job));
    if (!job) {
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    job->ctx = ctx;
    job->loop = loop;
    job->n = n > 0 ? (uint64_t)n : 0;
    job->callback = evl_duk_ref(ctx, 1);
    if (!job->callback || evl_loop_ref(loop) != 0) {
        evl_duk_unref(ctx, job->callback);
        evl_free(job);
        return duk_error(ctx, DUK_ERR_ERROR, "cannot start the job");
    }
    if (pthread_create(&job->thread, NULL, work, job) != 0) {
        (void)evl_loop_unref(loop);
        evl_duk_unref(ctx, job->callback);
        evl_free(job);
        return duk_error(ctx, DUK_ERR_ERROR, "cannot start a thread");
    }
    return 0;
}

static const char script[] =
    "sumInThread(1e7, function (total) {\n"
    "  console.log('sum of 1..10000000 computed on a worker thread: ' + total);\n"
    "});\n";

int main(void)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    int status = 1;
    if (evl_loop_new(&loop, NULL) != 0) {
        return 1;
    }
    if (evl_duk_heap_new(&ctx, NULL) != 0) {
        goto free_loop;
    }
    if (evl_duk_install(ctx, loop, 0) != 0) {
        goto free_heap;
    }
    duk_push_c_function(ctx, sum_in_thread, 2);
    duk_push_pointer(ctx, loop);
    duk_put_prop_string(ctx, -2, DUK_HIDDEN_SYMBOL("loop"));
    duk_put_global_string(ctx, "sumInThread");

    if (duk_peval_string(ctx, script) != 0) {
        fprintf(stderr, "%s\n", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        goto free_heap;
    }
    duk_pop(ctx);
    if (evl_loop_run(loop, EVL_RUN_DEFAULT) == 0 && evl_duk_terminated(ctx, &status) == 0) {
        status = 0;
    }
free_heap:
    evl_duk_heap_free(ctx);
free_loop:
    (void)evl_loop_free(loop);
    return status;
}

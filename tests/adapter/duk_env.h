/*
 * Shared fixture for the adapter tests: a loop (fake clock unless asked otherwise), a heap
 * from evl_duk_heap_new and the binding. JS results are read back from globals so the tests
 * never depend on console output.
 */
#ifndef EVL_TEST_DUK_ENV_H
#define EVL_TEST_DUK_ENV_H

#include "evl_duktape.h"
#include "evl_test.h"

struct duk_env {
    struct evl_test_clock clock;
    struct evl_loop *loop;
    duk_context *ctx;
};

static inline void env_open(struct duk_env *e, int fake_clock, uint64_t max_heap)
{
    memset(e, 0, sizeof(*e));
    e->clock.now_ns = 1000000000u;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    if (fake_clock) {
        o.clock = evl_test_clock_read;
        o.clock_ud = &e->clock;
    }
    ASSERT_OK(evl_loop_new(&e->loop, &o));
    struct evl_duk_heap_options ho;
    evl_duk_heap_options_init(&ho);
    ho.max_heap_bytes = max_heap;
    ASSERT_OK(evl_duk_heap_new(&e->ctx, &ho));
    ASSERT_OK(evl_duk_install(e->ctx, e->loop, 0));
    /* These tests pin Node's behaviour; test_embed_policy covers the embedder's default. */
    ASSERT_OK(evl_duk_set_error_policy(e->ctx, EVL_DUK_POLICY_NODE, NULL, NULL));
}

/* Evaluates code at the top level (not a guarded entry); fails the test on an exception. */
static inline void env_eval(struct duk_env *e, const char *code)
{
    if (duk_peval_string(e->ctx, code) != 0) {
        evl_test_fail(__FILE__, __LINE__, "eval failed: %s", duk_safe_to_string(e->ctx, -1));
    }
    duk_pop(e->ctx);
}

/* The value of a global expression as a string (valid until the next env call). */
static inline const char *env_str(struct duk_env *e, const char *expr)
{
    static char buf[4096];
    if (duk_peval_string(e->ctx, expr) != 0) {
        evl_test_fail(__FILE__, __LINE__, "eval of %s failed: %s", expr,
                      duk_safe_to_string(e->ctx, -1));
    }
    snprintf(buf, sizeof(buf), "%s", duk_safe_to_string(e->ctx, -1));
    duk_pop(e->ctx);
    return buf;
}

/* Runs the loop on the fake clock, advancing it 1 ms per idle turn, until nothing is left
 * (or the run terminated). */
static inline void env_run_fake(struct duk_env *e)
{
    for (int guard = 0; guard < 100000; guard++) {
        int rc = evl_loop_run(e->loop, EVL_RUN_NOWAIT);
        ASSERT_TRUE(rc >= 0);
        if (rc == 0 || evl_duk_terminated(e->ctx, NULL) == 1) {
            return;
        }
        evl_test_clock_advance_ms(&e->clock, 1);
    }
    evl_test_fail(__FILE__, __LINE__, "loop did not finish");
}

static inline void env_close(struct duk_env *e)
{
    evl_duk_heap_free(e->ctx);
    ASSERT_OK(evl_loop_free(e->loop));
}

#endif

/*
 * Helpers shared by the promise tests: a token log, a microtask "ticker" that counts turns,
 * counted values with destructors, and a toy foreign-thenable hook.
 */
#ifndef EVL_TEST_PROMISE_UTIL_H
#define EVL_TEST_PROMISE_UTIL_H

#include "evl_test.h"

#include <stdatomic.h>

/* A string literal as an opaque value (const is irrelevant: values are never written). */
#define S(x) ((void *)(uintptr_t)(x))

/* ---- Token log --------------------------------------------------------------------- */

static char tlog[4096];

static inline void tlog_reset(void)
{
    tlog[0] = '\0';
}

static inline void tlog_push(const char *token)
{
    size_t n = strlen(tlog);
    snprintf(tlog + n, sizeof(tlog) - n, "%s%s", n ? " " : "", token);
}

/* A handler that logs its arg (a string) and leaves the outcome at "undefined". */
static inline void h_log(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)result;
    tlog_push(arg);
}

/* Logs its arg, then forwards the settlement (for chains that should keep the value). */
static inline void h_log_forward(struct evl_loop *loop, void *value, void *arg,
                                 struct evl_result *result)
{
    (void)loop;
    (void)value;
    tlog_push(arg);
    evl_result_forward(result);
}

static inline void fn_log(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    tlog_push(arg);
}

/* ---- Ticker: t0, t1, ... one per microtask turn -------------------------------------- */

struct ticker {
    int i;
    int n;
};

static inline void ticker_step(struct evl_loop *loop, void *arg)
{
    struct ticker *t = arg;
    char tok[16];
    snprintf(tok, sizeof(tok), "t%d", t->i);
    tlog_push(tok);
    if (++t->i < t->n) {
        ASSERT_OK(evl_queue_microtask(loop, ticker_step, t));
    }
}

static inline void ticker_start(struct evl_loop *loop, struct ticker *t, int n)
{
    t->i = 0;
    t->n = n;
    ASSERT_OK(evl_queue_microtask(loop, ticker_step, t));
}

/* ---- Counted values ------------------------------------------------------------------ */

/* Atomic: pool tests destroy values on several loop threads. */
static _Atomic int dtor_calls;

static inline void count_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    (void)ptr;
    dtor_calls++;
}

/* A heap int destroyed with free_int (counted too). */
static inline void free_int(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    dtor_calls++;
    evl_free(ptr);
}

static inline int *new_int(int v)
{
    int *p = evl_malloc(sizeof(*p));
    ASSERT_NOT_NULL(p);
    *p = v;
    return p;
}

/* ---- Loop helpers ------------------------------------------------------------------- */

static inline struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

static inline void run_loop(struct evl_loop *loop)
{
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
}

static inline void noop_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* Runs one checkpoint (rejection reports are delivered at the end of a checkpoint). */
static inline void checkpoint(struct evl_loop *loop)
{
    ASSERT_OK(evl_queue_microtask(loop, noop_task, NULL));
    run_loop(loop);
}

/* Frees the loop after checking that no promise is left alive. */
static inline void free_loop(struct evl_loop *loop)
{
    struct evl_promise_stats st;
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.live, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- A toy foreign thenable ---------------------------------------------------------- */

enum tt_mode {
    TT_SYNC = 0,   /* then(r) { log('then'); r(value) } */
    TT_ASYNC = 1,  /* then(r) { log('then'); queueMicrotask(() => r(value)) } */
    TT_THROW = 2,  /* then(r) { r(value); throw } */
    TT_GETTER = 3, /* Get(x, 'then') throws */
    TT_REJECT = 4, /* then(r, j) { log('then'); j(value) } */
    TT_NOTHING = 5 /* then() {} : never settles */
};

struct tthenable {
    int mode;
    void *value; /* what it resolves with (no destructor) */
};

#define TT_MAX 8
static struct tthenable tthenables[TT_MAX];
static int tt_get_calls;
static int tt_call_calls;

static inline int tt_is(const void *v)
{
    const struct tthenable *t = v;
    return t >= &tthenables[0] && t < &tthenables[TT_MAX];
}

static inline int tt_get_then(struct evl_loop *loop, void *ud, void *value, void **then_out,
                              evl_dtor_cb *then_dtor)
{
    (void)loop;
    (void)ud;
    tt_get_calls++;
    if (!tt_is(value)) {
        return EVL_THENABLE_NO;
    }
    struct tthenable *t = value;
    if (t->mode == TT_GETTER) {
        struct evl_error *err = NULL;
        ASSERT_OK(evl_error_new(&err, EVL_ETYPE, "getter threw"));
        *then_out = err;
        *then_dtor = evl_error_dtor;
        return EVL_THENABLE_THREW;
    }
    *then_out = t; /* the "then function" is the object itself here */
    *then_dtor = NULL;
    return EVL_THENABLE_YES;
}

static inline void tt_async_resolve(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_promise_resolvers *r = arg;
    ASSERT_OK(evl_resolvers_resolve(r, S("async"), NULL));
    evl_promise_resolvers_release(r);
}

static inline void tt_call_then(struct evl_loop *loop, void *ud, void *value, void *then_fn,
                                struct evl_promise_resolvers *r)
{
    (void)ud;
    (void)then_fn;
    tt_call_calls++;
    struct tthenable *t = value;
    switch (t->mode) {
    case TT_SYNC:
        tlog_push("then");
        ASSERT_OK(evl_resolvers_resolve(r, t->value, NULL));
        break;
    case TT_ASYNC:
        tlog_push("then");
        ASSERT_OK(evl_queue_microtask(loop, tt_async_resolve, evl_promise_resolvers_retain(r)));
        break;
    case TT_THROW: {
        ASSERT_OK(evl_resolvers_resolve(r, t->value, NULL));
        struct evl_error *err = NULL;
        ASSERT_OK(evl_error_new(&err, EVL_ETYPE, "thrown after resolve"));
        /* The adapter's "then threw" path: ignored because already resolved. */
        ASSERT_ERR(EVL_EALREADY, evl_resolvers_reject(r, err, evl_error_dtor));
        evl_error_free(err);
        break;
    }
    case TT_REJECT:
        tlog_push("then");
        ASSERT_OK(evl_resolvers_reject(r, t->value, NULL));
        break;
    default:
        break;
    }
}

static inline void tt_install(struct evl_loop *loop)
{
    struct evl_thenable_hooks hooks = {tt_get_then, tt_call_then, NULL};
    ASSERT_OK(evl_loop_set_thenable_hooks(loop, &hooks));
}

#endif

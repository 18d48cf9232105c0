/*
 * The promise core: Promises/A+ 2.1-2.3 behaviours as C cases, ownership (values, reaction
 * arguments), finally/try/withResolvers, errors, statistics and the leak registry.
 */
/* Creation sites are captured even in NDEBUG builds of this test. */
#define EVL_PROMISE_SITES 1
#include "test_promise_util.h"

#include <pthread.h>

/* Records what a handler saw. */
struct seen {
    int calls;
    int fulfilled_calls;
    int rejected_calls;
    void *value;
    int order[8];
    int norder;
};

static void h_seen_ok(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    struct seen *s = arg;
    s->calls++;
    s->fulfilled_calls++;
    s->value = value;
}

static void h_seen_err(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    struct seen *s = arg;
    s->calls++;
    s->rejected_calls++;
    s->value = value;
}

static struct evl_promise *new_pending(struct evl_loop *loop)
{
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    return p;
}

/* ---- 2.1 states -------------------------------------------------------------------- */

TEST(aplus_2_1_pending_to_fulfilled_once)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_PENDING);
    ASSERT_NULL(evl_promise_value(p));
    ASSERT_OK(evl_promise_resolve(p, S("v"), NULL));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    /* 2.1.2: a fulfilled promise never changes state or value; the refused value stays ours. */
    dtor_calls = 0;
    ASSERT_ERR(EVL_EALREADY, evl_promise_reject(p, S("r"), count_dtor));
    ASSERT_ERR(EVL_EALREADY, evl_promise_resolve(p, S("w"), count_dtor));
    ASSERT_EQ(dtor_calls, 0);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(p), "v");
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_1_pending_to_rejected_once)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    evl_promise_mark_handled(p);
    ASSERT_OK(evl_promise_reject(p, S("r"), NULL));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    ASSERT_ERR(EVL_EALREADY, evl_promise_resolve(p, S("v"), NULL));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(p), "r");
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_1_resolved_with_pending_promise_is_locked)
{
    /* Resolving with a pending promise uses up the resolving functions: p stays pending
     * and a later reject is refused (the "resolved but pending" state). */
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop), *q = new_pending(loop);
    ASSERT_OK(evl_promise_resolve_promise(p, q));
    ASSERT_ERR(EVL_EALREADY, evl_promise_reject(p, S("r"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_PENDING);
    ASSERT_OK(evl_promise_resolve(q, S("q"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(p), "q");
    evl_promise_release(p);
    evl_promise_release(q);
    free_loop(loop);
}

/* ---- 2.2 then ----------------------------------------------------------------------- */

TEST(aplus_2_2_2_on_fulfilled_after_fulfil_with_value_once)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    struct seen s = {0};
    ASSERT_OK(evl_promise_then(p, h_seen_ok, h_seen_err, &s, NULL, NULL));
    run_loop(loop);
    ASSERT_EQ(s.calls, 0); /* 2.2.2.2: not before fulfilment */
    ASSERT_OK(evl_promise_resolve(p, S("v"), NULL));
    ASSERT_EQ(s.calls, 0); /* 2.2.4: not synchronously inside resolve */
    run_loop(loop);
    ASSERT_EQ(s.fulfilled_calls, 1);
    ASSERT_EQ(s.rejected_calls, 0);
    ASSERT_STR_EQ(s.value, "v");
    run_loop(loop);
    ASSERT_EQ(s.calls, 1); /* 2.2.2.3: at most once */
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_2_3_on_rejected_after_reject_with_reason_once)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    struct seen s = {0};
    ASSERT_OK(evl_promise_then(p, h_seen_ok, h_seen_err, &s, NULL, NULL));
    ASSERT_OK(evl_promise_reject(p, S("r"), NULL));
    ASSERT_EQ(s.calls, 0);
    run_loop(loop);
    ASSERT_EQ(s.rejected_calls, 1);
    ASSERT_EQ(s.fulfilled_calls, 0);
    ASSERT_STR_EQ(s.value, "r");
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_2_4_then_on_settled_is_asynchronous)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_resolved(loop, S("v"), NULL, &p));
    struct seen s = {0};
    ASSERT_OK(evl_promise_then(p, h_seen_ok, NULL, &s, NULL, NULL));
    ASSERT_EQ(s.calls, 0);
    run_loop(loop);
    ASSERT_EQ(s.calls, 1);
    evl_promise_release(p);
    free_loop(loop);
}

struct order_arg {
    int *log;
    int *n;
    int id;
};

static void h_order(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)result;
    struct order_arg *o = arg;
    o->log[(*o->n)++] = o->id;
}

static void check_registration_order(int reject)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    int log[5];
    int n = 0;
    struct order_arg args[5];
    for (int i = 0; i < 5; i++) {
        args[i].log = log;
        args[i].n = &n;
        args[i].id = i;
        ASSERT_OK(evl_promise_then(p, reject ? NULL : h_order, reject ? h_order : NULL, &args[i],
                                   NULL, NULL));
    }
    if (reject) {
        ASSERT_OK(evl_promise_reject(p, NULL, NULL));
    } else {
        ASSERT_OK(evl_promise_resolve(p, NULL, NULL));
    }
    run_loop(loop);
    ASSERT_EQ(n, 5);
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(log[i], i);
    }
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_2_6_handlers_in_registration_order)
{
    check_registration_order(0);
    check_registration_order(1);
}

static void h_return_arg(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    ASSERT_OK(evl_result_resolve(result, arg, NULL));
    /* Only the first outcome counts. */
    ASSERT_ERR(EVL_EALREADY, evl_result_reject(result, arg, NULL));
}

static void h_throw_arg(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    ASSERT_OK(evl_result_reject(result, arg, NULL));
}

TEST(aplus_2_2_7_then_returns_promise_resolved_with_handler_outcome)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *a = NULL, *b = NULL, *c = NULL;
    ASSERT_OK(evl_promise_resolved(loop, S("v"), NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_return_arg, NULL, S("x"), NULL, &a));
    ASSERT_OK(evl_promise_then(p, h_throw_arg, NULL, S("e"), NULL, &b));
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("nothing"), NULL, &c));
    evl_promise_mark_handled(b);
    tlog_reset();
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(a), "x");
    ASSERT_EQ(evl_promise_state(b), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(b), "e");
    ASSERT_EQ(evl_promise_state(c), EVL_PROMISE_FULFILLED); /* undefined */
    ASSERT_NULL(evl_promise_value(c));
    evl_promise_release(p);
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(c);
    free_loop(loop);
}

TEST(aplus_2_2_7_3_pass_through_shares_the_value)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop), *d1 = NULL, *d2 = NULL;
    ASSERT_OK(evl_promise_then(p, NULL, NULL, NULL, NULL, &d1));
    ASSERT_OK(evl_promise_then(d1, NULL, h_log, S("x"), NULL, &d2));
    int *v = new_int(42);
    dtor_calls = 0;
    ASSERT_OK(evl_promise_resolve(p, v, free_int));
    /* Mistake 8: pass-through is still one job, never synchronous. */
    ASSERT_EQ(evl_promise_state(d1), EVL_PROMISE_PENDING);
    run_loop(loop);
    ASSERT_PTR_EQ(evl_promise_value(d2), v);
    ASSERT_PTR_EQ(evl_promise_value(d1), v);
    evl_promise_release(p);
    evl_promise_release(d1);
    ASSERT_EQ(dtor_calls, 0); /* d2 still shares the value */
    ASSERT_EQ(*(int *)evl_promise_value(d2), 42);
    evl_promise_release(d2);
    ASSERT_EQ(dtor_calls, 1); /* exactly once, with the last sharer */
    free_loop(loop);
}

TEST(aplus_2_2_7_4_then_without_on_rejected_rejects_child)
{
    /* Mistake 5: then(f) on an already-rejected promise must reject the child. */
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *d = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("never"), NULL, &d));
    evl_promise_mark_handled(d);
    tlog_reset();
    run_loop(loop);
    ASSERT_STR_EQ(tlog, "");
    ASSERT_EQ(evl_promise_state(d), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(d), "r");
    evl_promise_release(p);
    evl_promise_release(d);
    free_loop(loop);
}

/* ---- 2.3 resolution procedure --------------------------------------------------------- */

TEST(aplus_2_3_1_self_resolution_is_type_error)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    evl_promise_mark_handled(p);
    ASSERT_OK(evl_promise_resolve_promise(p, p));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    const struct evl_error *err = evl_promise_reason_as_error(p);
    ASSERT_NOT_NULL(err);
    ASSERT_EQ(evl_error_code(err), EVL_ETYPE);
    evl_promise_release(p);
    free_loop(loop);
}

static void h_return_derived_self(struct evl_loop *loop, void *value, void *arg,
                                  struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct evl_promise **self = arg;
    ASSERT_OK(evl_result_resolve_promise(result, *self));
}

TEST(aplus_2_3_1_handler_returning_its_own_promise)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *d = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_return_derived_self, NULL, &d, NULL, &d));
    evl_promise_mark_handled(d);
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(d), EVL_PROMISE_REJECTED);
    ASSERT_EQ(evl_error_code(evl_promise_reason_as_error(d)), EVL_ETYPE);
    evl_promise_release(p);
    evl_promise_release(d);
    free_loop(loop);
}

TEST(aplus_2_3_2_adopts_state_of_promise)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *ok = new_pending(loop), *bad = new_pending(loop);
    struct evl_promise *a = new_pending(loop), *b = new_pending(loop);
    ASSERT_OK(evl_promise_resolve_promise(a, ok));
    ASSERT_OK(evl_promise_resolve_promise(b, bad));
    evl_promise_mark_handled(b);
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_PENDING); /* 2.3.2.1 */
    ASSERT_OK(evl_promise_resolve(ok, S("v"), NULL));
    ASSERT_OK(evl_promise_reject(bad, S("r"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_FULFILLED); /* 2.3.2.2 */
    ASSERT_STR_EQ(evl_promise_value(a), "v");
    ASSERT_EQ(evl_promise_state(b), EVL_PROMISE_REJECTED); /* 2.3.2.3 */
    ASSERT_STR_EQ(evl_promise_value(b), "r");
    ASSERT_TRUE(evl_promise_is_handled(bad)); /* adoption handles the adopted promise */
    evl_promise_release(ok);
    evl_promise_release(bad);
    evl_promise_release(a);
    evl_promise_release(b);
    free_loop(loop);
}

TEST(aplus_2_3_3_thenable_getter_throws_rejects)
{
    struct evl_loop *loop = new_loop();
    tt_install(loop);
    tthenables[1].mode = TT_GETTER;
    struct evl_promise *p = new_pending(loop);
    evl_promise_mark_handled(p);
    ASSERT_OK(evl_promise_resolve(p, &tthenables[1], NULL));
    /* Get(x, "then") is synchronous inside resolve. */
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_error_message(evl_promise_reason_as_error(p)), "getter threw");
    evl_promise_release(p);
    free_loop(loop);
}

TEST(aplus_2_3_3_thenable_calls_then_once_with_fresh_resolvers)
{
    struct evl_loop *loop = new_loop();
    tt_install(loop);
    tthenables[0].mode = TT_REJECT;
    tthenables[0].value = S("why");
    tthenables[2].mode = TT_THROW;
    tthenables[2].value = S("first");
    struct evl_promise *a = new_pending(loop), *b = new_pending(loop);
    evl_promise_mark_handled(a);
    tt_call_calls = 0;
    ASSERT_OK(evl_promise_resolve(a, &tthenables[0], NULL));
    ASSERT_OK(evl_promise_resolve(b, &tthenables[2], NULL));
    ASSERT_EQ(tt_call_calls, 0); /* then is called from a job, not synchronously */
    run_loop(loop);
    ASSERT_EQ(tt_call_calls, 2);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(a), "why");
    ASSERT_EQ(evl_promise_state(b), EVL_PROMISE_FULFILLED); /* 2.3.3.3.4.1 */
    ASSERT_STR_EQ(evl_promise_value(b), "first");
    evl_promise_release(a);
    evl_promise_release(b);
    free_loop(loop);
}

TEST(aplus_2_3_4_non_thenable_fulfils_and_hook_sees_each_value)
{
    struct evl_loop *loop = new_loop();
    tt_install(loop);
    tt_get_calls = 0;
    struct evl_promise *p = NULL, *d = NULL;
    ASSERT_OK(evl_promise_resolved(loop, S("plain"), NULL, &p));
    ASSERT_EQ(tt_get_calls, 1);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    /* A pass-through resolves the child through the resolve function: Get(then) again. */
    ASSERT_OK(evl_promise_then(p, NULL, NULL, NULL, NULL, &d));
    run_loop(loop);
    ASSERT_EQ(tt_get_calls, 2);
    /* NULL ("undefined") is never an object: the hook is not asked. */
    struct evl_promise *u = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &u));
    ASSERT_EQ(tt_get_calls, 2);
    evl_promise_release(p);
    evl_promise_release(d);
    evl_promise_release(u);
    free_loop(loop);
}

/* ---- Ownership of reaction arguments ------------------------------------------------------- */

static int arg_dtor_calls;

static void arg_dtor(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    arg_dtor_calls++;
}

TEST(arg_dtor_runs_once_after_reaction)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    arg_dtor_calls = 0;
    ASSERT_OK(evl_promise_then(p, h_log, h_log, S("x"), arg_dtor, NULL));
    ASSERT_EQ(arg_dtor_calls, 0);
    run_loop(loop);
    ASSERT_EQ(arg_dtor_calls, 1);
    evl_promise_release(p);
    ASSERT_EQ(arg_dtor_calls, 1);
    free_loop(loop);
}

TEST(arg_dtor_runs_when_pending_promise_freed)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop), *d = NULL;
    arg_dtor_calls = 0;
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("x"), arg_dtor, &d));
    ASSERT_OK(evl_promise_then(d, h_log, NULL, S("y"), arg_dtor, NULL));
    evl_promise_release(d);
    evl_promise_release(p); /* nobody can settle p any more: its reactions are dropped */
    ASSERT_EQ(arg_dtor_calls, 2);
    free_loop(loop);
}

TEST(arg_dtor_runs_when_loop_closes_with_queued_jobs)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    arg_dtor_calls = 0;
    tlog_reset();
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("x"), arg_dtor, NULL));
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("y"), arg_dtor, NULL));
    evl_promise_release(p);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop)); /* drops the queued jobs */
    ASSERT_EQ(arg_dtor_calls, 2);
    ASSERT_STR_EQ(tlog, "");
}

TEST(value_dtor_runs_once_per_settled_value)
{
    struct evl_loop *loop = new_loop();
    dtor_calls = 0;
    struct evl_promise *a = NULL, *b = NULL;
    ASSERT_OK(evl_promise_resolved(loop, new_int(1), free_int, &a));
    ASSERT_OK(evl_promise_rejected(loop, new_int(2), free_int, &b));
    evl_promise_mark_handled(b);
    struct evl_promise *c = new_pending(loop);
    evl_promise_release(a);
    ASSERT_EQ(dtor_calls, 1);
    evl_promise_release(b);
    /* The rejection tracker holds b until the end of the checkpoint (an unhandled rejection
     * is reported even when nobody keeps the promise). */
    ASSERT_EQ(dtor_calls, 1);
    checkpoint(loop);
    ASSERT_EQ(dtor_calls, 2);
    evl_promise_release(c); /* pending: nothing to destroy */
    ASSERT_EQ(dtor_calls, 2);
    free_loop(loop);
}

/* ---- finally, try, withResolvers -------------------------------------------------------- */

TEST(finally_not_synchronous_on_settled_and_passes_value)
{
    /* Mistake 6. */
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *f = NULL;
    ASSERT_OK(evl_promise_resolved(loop, S("v"), NULL, &p));
    tlog_reset();
    arg_dtor_calls = 0;
    ASSERT_OK(evl_promise_finally(p, fn_log, S("F"), arg_dtor, &f));
    ASSERT_STR_EQ(tlog, "");
    run_loop(loop);
    ASSERT_STR_EQ(tlog, "F");
    ASSERT_EQ(arg_dtor_calls, 1);
    ASSERT_EQ(evl_promise_state(f), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(f), "v");
    evl_promise_release(p);
    evl_promise_release(f);
    free_loop(loop);
}

struct wait_arg {
    struct evl_promise *gate;
};

static void fn_return_gate(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    struct wait_arg *w = arg;
    tlog_push("F");
    ASSERT_OK(evl_result_resolve_promise(result, w->gate));
}

TEST(finally_waits_for_returned_promise)
{
    struct evl_loop *loop = new_loop();
    struct wait_arg w = {new_pending(loop)};
    struct evl_promise *p = NULL, *f = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("orig"), NULL, &p));
    ASSERT_OK(evl_promise_finally(p, fn_return_gate, &w, NULL, &f));
    evl_promise_mark_handled(f);
    tlog_reset();
    run_loop(loop);
    ASSERT_STR_EQ(tlog, "F");
    ASSERT_EQ(evl_promise_state(f), EVL_PROMISE_PENDING);
    ASSERT_OK(evl_promise_resolve(w.gate, S("ignored"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(f), EVL_PROMISE_REJECTED); /* original outcome kept */
    ASSERT_STR_EQ(evl_promise_value(f), "orig");
    evl_promise_release(w.gate);
    evl_promise_release(p);
    evl_promise_release(f);
    free_loop(loop);
}

TEST(finally_rejection_replaces_outcome)
{
    struct evl_loop *loop = new_loop();
    struct wait_arg w = {new_pending(loop)};
    struct evl_promise *p = NULL, *f = NULL;
    ASSERT_OK(evl_promise_resolved(loop, S("orig"), NULL, &p));
    ASSERT_OK(evl_promise_finally(p, fn_return_gate, &w, NULL, &f));
    evl_promise_mark_handled(f);
    run_loop(loop);
    ASSERT_OK(evl_promise_reject(w.gate, S("late"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(f), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(f), "late");
    evl_promise_release(w.gate);
    evl_promise_release(p);
    evl_promise_release(f);
    free_loop(loop);
}

static void fn_try_value(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    ASSERT_OK(evl_result_resolve(result, arg, NULL));
}

static void fn_try_throw(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    ASSERT_OK(evl_result_reject(result, arg, NULL));
}

TEST(try_calls_now_and_settles_with_outcome)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *b = NULL;
    arg_dtor_calls = 0;
    ASSERT_OK(evl_promise_try(loop, fn_try_value, S("v"), arg_dtor, &a));
    ASSERT_EQ(arg_dtor_calls, 1);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(a), "v");
    ASSERT_OK(evl_promise_try(loop, fn_try_throw, S("e"), NULL, &b));
    evl_promise_mark_handled(b);
    ASSERT_EQ(evl_promise_state(b), EVL_PROMISE_REJECTED);
    ASSERT_ERR(EVL_EINVAL, evl_promise_try(loop, NULL, NULL, NULL, &b));
    evl_promise_release(a);
    evl_promise_release(b);
    checkpoint(loop);
    free_loop(loop);
}

TEST(with_resolvers_share_the_already_resolved_flag)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    struct evl_promise_resolvers *r = NULL, *r2 = NULL;
    ASSERT_OK(evl_promise_with_resolvers(loop, &p, &r));
    ASSERT_PTR_EQ(evl_promise_resolvers_promise(r), p);
    ASSERT_OK(evl_promise_resolvers_get(p, &r2));
    ASSERT_FALSE(evl_promise_resolvers_done(r));
    ASSERT_OK(evl_resolvers_reject(r2, S("r"), NULL));
    evl_promise_mark_handled(p);
    ASSERT_TRUE(evl_promise_resolvers_done(r));
    ASSERT_ERR(EVL_EALREADY, evl_resolvers_resolve(r, S("v"), NULL));
    ASSERT_ERR(EVL_EALREADY, evl_promise_resolve(p, S("v"), NULL));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    evl_promise_resolvers_release(r);
    evl_promise_resolvers_release(r2);
    evl_promise_release(p);
    checkpoint(loop);
    free_loop(loop);
}

TEST(resolved_promise_returns_same_promise)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = new_pending(loop);
    struct evl_promise *q = evl_promise_resolved_promise(p);
    ASSERT_PTR_EQ(q, p);
    evl_promise_release(q);
    evl_promise_release(p);
    free_loop(loop);
}

/* ---- Errors -------------------------------------------------------------------------------- */

TEST(error_chain_unwraps)
{
    struct evl_error *outer = NULL, *mid = NULL, *root = NULL;
    ASSERT_OK(evl_error_new(&outer, EVL_EIO, "request %d failed", 7));
    ASSERT_OK(evl_error_new(&mid, EVL_ETIMEDOUT, NULL));
    ASSERT_OK(evl_error_new(&root, -1000, "disk %s", "sda"));
    ASSERT_OK(evl_error_set_cause(mid, root));
    ASSERT_OK(evl_error_set_cause(outer, mid));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(outer, outer));
    /* A longer cycle is refused too (find and root would never end on it). */
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(root, outer));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(mid, outer));
    ASSERT_NULL(evl_error_cause(root));
    const unsigned char cid[16] = {0x01, 0x93, 0xa1, 0xf2, 0x7c, 0x3e, 0x7a, 0x41,
                                   0x9d, 0x2b, 0x5f, 0x0c, 0x8e, 0x1a, 0x2b, 0x3c};
    ASSERT_OK(evl_error_set_correlation(outer, cid));
    evl_error_set_context(outer, new_int(5), free_int);
    ASSERT_STR_EQ(evl_error_message(outer), "request 7 failed");
    ASSERT_STR_EQ(evl_error_message(mid), evl_strerror(EVL_ETIMEDOUT));
    ASSERT_PTR_EQ(evl_error_find(outer, EVL_ETIMEDOUT), mid);
    ASSERT_PTR_EQ(evl_error_find(outer, -1000), root);
    ASSERT_NULL(evl_error_find(outer, EVL_ENOMEM));
    ASSERT_PTR_EQ(evl_error_root(outer), root);
    ASSERT_PTR_EQ(evl_error_cause(outer), mid);
    unsigned char got[16];
    ASSERT_EQ(evl_error_correlation(outer, got), 1);
    ASSERT_EQ(memcmp(got, cid, sizeof(cid)), 0);
    ASSERT_EQ(evl_error_correlation(mid, got), 0);
    ASSERT_EQ(*(int *)evl_error_context(outer), 5);
    ASSERT_NULL(evl_error_errors(outer));
    ASSERT_ERR(EVL_EINVAL, evl_error_new(&root, 0, NULL));
    dtor_calls = 0;
    evl_error_free(outer);
    ASSERT_EQ(dtor_calls, 1);
}

TEST(reason_as_error_is_safe_on_any_value)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_ECANCELED, NULL));
    ASSERT_OK(evl_promise_rejected(loop, err, evl_error_dtor, &a));
    /* A small integer handle as a reason must not be dereferenced. */
    ASSERT_OK(evl_promise_rejected(loop, (void *)(uintptr_t)3, NULL, &b));
    ASSERT_OK(evl_promise_resolved(loop, err, NULL, &c)); /* fulfilled: not a reason */
    ASSERT_OK(evl_promise_then(a, NULL, NULL, NULL, NULL, &d));
    evl_promise_mark_handled(a);
    evl_promise_mark_handled(b);
    evl_promise_mark_handled(d);
    run_loop(loop);
    ASSERT_PTR_EQ(evl_promise_reason_as_error(a), err);
    ASSERT_NULL(evl_promise_reason_as_error(b));
    ASSERT_NULL(evl_promise_reason_as_error(c));
    ASSERT_PTR_EQ(evl_promise_reason_as_error(d), err); /* shared through pass-through */
    evl_promise_release(c);
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(d);
    free_loop(loop);
}

/* ---- Argument and thread checks -------------------------------------------------------------- */

static void *other_thread_new(void *arg)
{
    struct evl_promise *p = NULL;
    return (void *)(intptr_t)evl_promise_new(arg, &p);
}

TEST(wrong_thread_and_bad_arguments_are_refused)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_promise_new(NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_new(loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_promise_then(NULL, NULL, NULL, NULL, NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolve(NULL, NULL, NULL));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, other_thread_new, loop), 0);
    ASSERT_EQ(pthread_join(th, &rc), 0);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    free_loop(loop);
}

TEST(allocation_failure_leaves_nothing_half_done)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *d = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    arg_dtor_calls = 0;
    int failures = 0;
    for (uint64_t n = 1; n < 6; n++) {
        evl_alloc_fail_at(n, 1);
        int rc = evl_promise_finally(p, fn_log, S("F"), arg_dtor, &d);
        evl_alloc_fail_at(0, 0);
        if (rc == 0) {
            evl_promise_release(d);
        } else {
            ASSERT_EQ(rc, EVL_ENOMEM);
            failures++;
        }
    }
    ASSERT_GT(failures, 0);
    ASSERT_EQ(arg_dtor_calls, 0); /* refused calls never take the argument */
    tlog_reset();
    run_loop(loop);
    ASSERT_EQ(arg_dtor_calls, 5 - failures);
    evl_promise_release(p);
    free_loop(loop);
}

/* ---- Statistics and the leak registry ---------------------------------------------------- */

static int dumped;

static void count_site(struct evl_promise *p, const char *file, int line, void *ud)
{
    (void)p;
    (void)ud;
    ASSERT_NOT_NULL(file);
    ASSERT_TRUE(strstr(file, "test_promise.c") != NULL);
    ASSERT_GT(line, 0);
    dumped++;
}

TEST(stats_and_registry_track_live_promises)
{
    struct evl_loop *loop = new_loop();
    ASSERT_OK(evl_loop_promise_registry(loop, 1));
    struct evl_promise *p = new_pending(loop), *d = NULL, *r = NULL;
    ASSERT_OK(evl_promise_then(p, NULL, NULL, NULL, NULL, &d));
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &r));
    struct evl_promise_stats st;
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.live, 3);
    ASSERT_UEQ(st.pending, 2);
    ASSERT_UEQ(st.settled, 1);
    ASSERT_UEQ(st.created, 3);
    dumped = 0;
    ASSERT_UEQ(evl_loop_promise_dump(loop, count_site, NULL), 3);
    ASSERT_EQ(dumped, 3);
    const char *file = NULL;
    int line = 0;
    evl_promise_site(d, &file, &line);
    ASSERT_NOT_NULL(file);
    ASSERT_OK(evl_promise_resolve(p, NULL, NULL));
    run_loop(loop);
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.pending, 0);
    ASSERT_UEQ(st.settled, 3);
    evl_promise_release(p);
    evl_promise_release(d);
    evl_promise_release(r);
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.live, 0);
    ASSERT_UEQ(evl_loop_promise_dump(loop, NULL, NULL), 0);
    free_loop(loop);
}

/* Sanitizer builds allocate every record separately (no slabs) and instrument each access,
 * which makes a link ~30x slower; they run a fifth of the batches: the per-link path is the
 * same and the no-growth check between batches still covers the steady state. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHAIN_BATCHES 200
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CHAIN_BATCHES 200
#endif
#endif
#ifndef CHAIN_BATCHES
#define CHAIN_BATCHES 1000
#endif

/* A chain of many links is built and run in batches; every batch must leave nothing live and
 * memory must not grow between batches. 1,000 batches of 1,000 links = 1,000,000 chained
 * then operations (each: a derived promise, a reaction record, a job, a settlement). */
TEST(million_chained_operations_leave_nothing_live)
{
    struct evl_loop *loop = new_loop();
    ASSERT_OK(evl_loop_promise_registry(loop, 0));
    struct evl_alloc_stats first = {0};
    for (int batch = 0; batch < CHAIN_BATCHES; batch++) {
        struct evl_promise *head = new_pending(loop);
        struct evl_promise *cur = evl_promise_retain(head);
        for (int i = 0; i < 1000; i++) {
            struct evl_promise *next = NULL;
            ASSERT_OK((evl_promise_then)(cur, NULL, NULL, NULL, NULL, &next));
            evl_promise_release(cur);
            cur = next;
        }
        ASSERT_OK(evl_promise_resolve(head, S("v"), NULL));
        evl_promise_release(head);
        run_loop(loop);
        ASSERT_EQ(evl_promise_state(cur), EVL_PROMISE_FULFILLED);
        ASSERT_STR_EQ(evl_promise_value(cur), "v");
        evl_promise_release(cur);
        struct evl_promise_stats st;
        evl_loop_promise_stats(loop, &st);
        ASSERT_UEQ(st.live, 0);
        struct evl_alloc_stats now;
        evl_alloc_stats(&now);
        if (batch == 0) {
            first = now;
        } else {
            ASSERT_UEQ(now.live_bytes, first.live_bytes);
        }
    }
    struct evl_promise_stats st;
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.created, (uint64_t)CHAIN_BATCHES * 1001u);
    free_loop(loop);
}

TEST(freeing_a_long_pending_chain_does_not_recurse)
{
    struct evl_loop *loop = new_loop();
    ASSERT_OK(evl_loop_promise_registry(loop, 0));
    struct evl_promise *head = new_pending(loop);
    struct evl_promise *cur = evl_promise_retain(head);
    for (int i = 0; i < 200000; i++) {
        struct evl_promise *next = NULL;
        ASSERT_OK((evl_promise_then)(cur, NULL, NULL, NULL, NULL, &next));
        evl_promise_release(cur);
        cur = next;
    }
    evl_promise_release(cur);
    evl_promise_release(head); /* frees 200,001 promises through the work list */
    free_loop(loop);
}

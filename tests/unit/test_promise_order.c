/*
 * Microtask interleavings pinned against Node. Each case builds the scenario of the same
 * name in tests/unit/node_orderings/orderings.js with the C API; the expected string is the
 * line Node v20 printed (tests/unit/node_orderings/orderings.expected). A ticker queued first
 * logs t0, t1, ... one per microtask turn, so each line shows the turn every event took.
 */
#include "test_promise_util.h"

static struct evl_loop *loop;
static struct ticker tk;

static void begin(int ticks)
{
    tlog_reset();
    loop = new_loop();
    if (ticks > 0) {
        ticker_start(loop, &tk, ticks);
    }
}

static void finish(const char *expected)
{
    run_loop(loop);
    ASSERT_STR_EQ(tlog, expected);
    free_loop(loop);
}

static struct evl_promise *resolved(void *value)
{
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_resolved(loop, value, NULL, &p));
    return p;
}

static struct evl_promise *rejected(void *reason)
{
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, reason, NULL, &p));
    return p;
}

/* then(p, f) and release both the source and the derived promise (fire and forget). */
static void then_log(struct evl_promise *p, evl_reaction_cb f, evl_reaction_cb r, const char *tok,
                     struct evl_promise **out)
{
    ASSERT_OK(evl_promise_then(p, f, r, S(tok), NULL, out));
}

TEST(interleaved_chains)
{
    begin(0);
    struct evl_promise *a = resolved(NULL), *b = resolved(NULL);
    struct evl_promise *a1, *a2, *b1, *b2;
    then_log(a, h_log, NULL, "a1", &a1);
    then_log(a1, h_log, NULL, "a2", &a2);
    then_log(a2, h_log, NULL, "a3", NULL);
    then_log(b, h_log, NULL, "b1", &b1);
    then_log(b1, h_log, NULL, "b2", &b2);
    then_log(b2, h_log, NULL, "b3", NULL);
    evl_promise_release(a);
    evl_promise_release(a1);
    evl_promise_release(a2);
    evl_promise_release(b);
    evl_promise_release(b1);
    evl_promise_release(b2);
    finish("a1 b1 a2 b2 a3 b3");
}

TEST(then_on_fulfilled)
{
    begin(5);
    struct evl_promise *p = resolved(NULL);
    then_log(p, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    finish("t0 X t1 t2 t3 t4");
}

TEST(then_on_pending_resolved_later)
{
    begin(5);
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    then_log(p, h_log, NULL, "X", NULL);
    ASSERT_OK(evl_promise_resolve(p, NULL, NULL));
    evl_promise_release(p);
    finish("t0 X t1 t2 t3 t4");
}

TEST(resolve_with_value)
{
    begin(5);
    struct evl_promise *p = NULL;
    struct evl_promise_resolvers *r = NULL;
    ASSERT_OK(evl_promise_with_resolvers(loop, &p, &r));
    ASSERT_OK(evl_resolvers_resolve(r, S("1"), NULL));
    then_log(p, h_log, NULL, "V", NULL);
    evl_promise_resolvers_release(r);
    evl_promise_release(p);
    finish("t0 V t1 t2 t3 t4");
}

TEST(resolve_with_promise)
{
    begin(6);
    struct evl_promise *p = NULL, *q = resolved(NULL);
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_promise_resolve_promise(p, q));
    then_log(p, h_log, NULL, "P", NULL);
    evl_promise_release(p);
    evl_promise_release(q);
    finish("t0 t1 t2 P t3 t4 t5");
}

TEST(resolve_with_pending_promise)
{
    begin(6);
    struct evl_promise *p = NULL, *q = NULL;
    ASSERT_OK(evl_promise_new(loop, &q));
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_promise_resolve_promise(p, q));
    then_log(p, h_log, NULL, "P", NULL);
    ASSERT_OK(evl_promise_resolve(q, NULL, NULL));
    evl_promise_release(p);
    evl_promise_release(q);
    finish("t0 t1 t2 P t3 t4 t5");
}

static void h_return_one(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)value;
    (void)arg;
    ASSERT_OK(evl_result_resolve(result, S("1"), NULL));
}

TEST(handler_returns_value)
{
    begin(6);
    struct evl_promise *p = resolved(NULL), *d = NULL;
    ASSERT_OK(evl_promise_then(p, h_return_one, NULL, NULL, NULL, &d));
    then_log(d, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    evl_promise_release(d);
    finish("t0 t1 X t2 t3 t4 t5");
}

static void h_return_resolved_promise(struct evl_loop *l, void *value, void *arg,
                                      struct evl_result *result)
{
    (void)value;
    (void)arg;
    struct evl_promise *q = NULL;
    ASSERT_OK(evl_promise_resolved(l, S("1"), NULL, &q));
    ASSERT_OK(evl_result_resolve_promise(result, q));
    evl_promise_release(q);
}

TEST(handler_returns_promise)
{
    begin(7);
    struct evl_promise *p = resolved(NULL), *d = NULL;
    ASSERT_OK(evl_promise_then(p, h_return_resolved_promise, NULL, NULL, NULL, &d));
    then_log(d, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    evl_promise_release(d);
    finish("t0 t1 t2 t3 X t4 t5 t6");
}

static void h_log_value(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)result;
    char tok[32];
    snprintf(tok, sizeof(tok), "%s%s", (const char *)arg, value ? (const char *)value : "");
    tlog_push(tok);
}

TEST(resolve_with_thenable)
{
    begin(6);
    tt_install(loop);
    tthenables[0].mode = TT_SYNC;
    tthenables[0].value = S("1");
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_promise_resolve(p, &tthenables[0], NULL));
    then_log(p, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    finish("t0 then t1 X t2 t3 t4 t5");
}

TEST(thenable_async_resolve)
{
    begin(6);
    tt_install(loop);
    tthenables[0].mode = TT_ASYNC;
    struct evl_promise *p = resolved(&tthenables[0]);
    then_log(p, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    finish("t0 then t1 t2 X t3 t4 t5");
}

TEST(thenable_throws_after_resolve)
{
    begin(6);
    tt_install(loop);
    tthenables[0].mode = TT_THROW;
    tthenables[0].value = S("7");
    struct evl_promise *p = resolved(&tthenables[0]);
    then_log(p, h_log_value, h_log, "X", NULL);
    evl_promise_release(p);
    finish("t0 t1 X7 t2 t3 t4 t5");
}

TEST(rejected_passthrough)
{
    begin(6);
    struct evl_promise *p = rejected(NULL), *d = NULL;
    then_log(p, h_log, NULL, "no", &d);
    ASSERT_OK(evl_promise_catch(d, h_log, S("C"), NULL, NULL));
    evl_promise_release(p);
    evl_promise_release(d);
    finish("t0 t1 C t2 t3 t4 t5");
}

TEST(catch_direct)
{
    begin(5);
    struct evl_promise *p = rejected(NULL);
    ASSERT_OK(evl_promise_catch(p, h_log, S("C"), NULL, NULL));
    evl_promise_release(p);
    finish("t0 C t1 t2 t3 t4");
}

TEST(finally_fulfilled)
{
    begin(8);
    struct evl_promise *p = resolved(NULL), *f = NULL;
    ASSERT_OK(evl_promise_finally(p, fn_log, S("F"), NULL, &f));
    then_log(f, h_log, NULL, "X", NULL);
    evl_promise_release(p);
    evl_promise_release(f);
    finish("t0 F t1 t2 t3 X t4 t5 t6 t7");
}

TEST(finally_rejected)
{
    begin(8);
    struct evl_promise *p = rejected(NULL), *f = NULL;
    ASSERT_OK(evl_promise_finally(p, fn_log, S("F"), NULL, &f));
    ASSERT_OK(evl_promise_catch(f, h_log, S("C"), NULL, NULL));
    evl_promise_release(p);
    evl_promise_release(f);
    finish("t0 F t1 t2 t3 C t4 t5 t6 t7");
}

static void fn_log_return_promise(struct evl_loop *l, void *arg, struct evl_result *result)
{
    tlog_push(arg);
    struct evl_promise *q = NULL;
    ASSERT_OK(evl_promise_resolved(l, S("2"), NULL, &q));
    ASSERT_OK(evl_result_resolve_promise(result, q));
    evl_promise_release(q);
}

TEST(finally_returns_promise)
{
    begin(9);
    struct evl_promise *p = resolved(S("1")), *f = NULL;
    ASSERT_OK(evl_promise_finally(p, fn_log_return_promise, S("F"), NULL, &f));
    then_log(f, h_log_value, NULL, "X", NULL);
    evl_promise_release(p);
    evl_promise_release(f);
    finish("t0 F t1 t2 t3 X1 t4 t5 t6 t7 t8");
}

static void fn_log_throw(struct evl_loop *l, void *arg, struct evl_result *result)
{
    (void)l;
    tlog_push(arg);
    ASSERT_OK(evl_result_reject(result, S("2"), NULL));
}

TEST(finally_throws)
{
    begin(8);
    struct evl_promise *p = resolved(S("1")), *f = NULL;
    ASSERT_OK(evl_promise_finally(p, fn_log_throw, S("F"), NULL, &f));
    ASSERT_OK(evl_promise_catch(f, h_log_value, S("C"), NULL, NULL));
    evl_promise_release(p);
    evl_promise_release(f);
    finish("t0 F t1 C2 t2 t3 t4 t5 t6 t7");
}

/* Runs a combinator over inputs and logs tok when it fulfils (or rejects, with catch). */
typedef int (*combinator_fn)(struct evl_loop *, const struct evl_promise_input *, size_t,
                             struct evl_promise **);

static void combine(combinator_fn fn, struct evl_promise_input *in, size_t n, const char *tok,
                    int on_reject)
{
    struct evl_promise *c = NULL;
    ASSERT_OK(fn(loop, in, n, &c));
    if (on_reject) {
        ASSERT_OK(evl_promise_catch(c, h_log, S(tok), NULL, NULL));
    } else {
        then_log(c, h_log, NULL, tok, NULL);
    }
    evl_promise_release(c);
    for (size_t i = 0; i < n; i++) {
        evl_promise_release(in[i].promise);
    }
}

TEST(all_values)
{
    begin(6);
    struct evl_promise_input in[3] = {
        {resolved(NULL), NULL, NULL}, {NULL, S("2"), NULL}, {resolved(NULL), NULL, NULL}};
    combine((evl_promise_all), in, 3, "A", 0);
    finish("t0 t1 A t2 t3 t4 t5");
}

static void h_log_resolve_arg(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)value;
    (void)result;
    tlog_push("R");
    ASSERT_OK(evl_promise_resolve(arg, NULL, NULL));
    evl_promise_release(arg);
}

TEST(all_pending_then_resolved)
{
    begin(6);
    struct evl_promise *q = NULL;
    ASSERT_OK(evl_promise_new(loop, &q));
    struct evl_promise_input in[2] = {{q, NULL, NULL}, {NULL, S("1"), NULL}};
    evl_promise_retain(q);
    combine((evl_promise_all), in, 2, "A", 0);
    struct evl_promise *p = resolved(NULL);
    /* The handler owns the last reference to q, as q's resolve function would in JS. */
    ASSERT_OK(evl_promise_then(p, h_log_resolve_arg, NULL, q, NULL, NULL));
    evl_promise_release(p);
    finish("t0 R t1 t2 A t3 t4 t5");
}

TEST(all_reject)
{
    begin(6);
    struct evl_promise_input in[2] = {{resolved(NULL), NULL, NULL}, {rejected(NULL), NULL, NULL}};
    combine((evl_promise_all), in, 2, "C", 1);
    finish("t0 t1 C t2 t3 t4 t5");
}

TEST(all_empty)
{
    begin(4);
    combine((evl_promise_all), NULL, 0, "A", 0);
    finish("t0 A t1 t2 t3");
}

TEST(all_settled)
{
    begin(6);
    struct evl_promise_input in[3] = {
        {resolved(NULL), NULL, NULL}, {rejected(NULL), NULL, NULL}, {NULL, S("3"), NULL}};
    combine((evl_promise_all_settled), in, 3, "S", 0);
    finish("t0 t1 S t2 t3 t4 t5");
}

TEST(any_first)
{
    begin(6);
    struct evl_promise_input in[2] = {{rejected(NULL), NULL, NULL}, {resolved(NULL), NULL, NULL}};
    combine((evl_promise_any), in, 2, "Y", 0);
    finish("t0 t1 Y t2 t3 t4 t5");
}

TEST(any_all_rejected)
{
    begin(6);
    struct evl_promise_input in[2] = {{rejected(NULL), NULL, NULL}, {rejected(NULL), NULL, NULL}};
    combine((evl_promise_any), in, 2, "G", 1);
    finish("t0 t1 G t2 t3 t4 t5");
}

TEST(any_empty)
{
    begin(4);
    combine((evl_promise_any), NULL, 0, "G", 1);
    finish("t0 G t1 t2 t3");
}

TEST(race)
{
    begin(6);
    struct evl_promise *never = NULL;
    ASSERT_OK(evl_promise_new(loop, &never));
    struct evl_promise_input in[2] = {{never, NULL, NULL}, {resolved(NULL), NULL, NULL}};
    combine((evl_promise_race), in, 2, "W", 0);
    finish("t0 t1 W t2 t3 t4 t5");
}

TEST(all_with_thenable)
{
    begin(7);
    tt_install(loop);
    tthenables[0].mode = TT_SYNC;
    tthenables[0].value = S("1");
    struct evl_promise_input in[2] = {{NULL, &tthenables[0], NULL}, {NULL, S("2"), NULL}};
    combine((evl_promise_all), in, 2, "A", 0);
    finish("t0 then t1 t2 A t3 t4 t5 t6");
}

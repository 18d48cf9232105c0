/*
 * Rejection tracking: reports come at the end of the microtask checkpoint (not per
 * rejection), a rejection handled within the checkpoint is never reported, a handler added
 * after the report produces a handled-later report, and the default hooks log at warn.
 */
#include "test_promise_util.h"

struct reports {
    int unhandled;
    int handled_later;
    struct evl_promise *last; /* only compared, never dereferenced after the report */
    void *last_value;
    char order[64];
};

static struct reports rep;

static void on_unhandled(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)loop;
    ASSERT_PTR_EQ(ud, &rep);
    rep.unhandled++;
    rep.last = p;
    rep.last_value = evl_promise_value(p);
    strncat(rep.order, "U", sizeof(rep.order) - strlen(rep.order) - 1);
    tlog_push("report");
}

static void on_handled_later(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)loop;
    (void)ud;
    rep.handled_later++;
    rep.last = p;
    strncat(rep.order, "H", sizeof(rep.order) - strlen(rep.order) - 1);
}

static struct evl_loop *tracked_loop(void)
{
    struct evl_loop *loop = new_loop();
    memset(&rep, 0, sizeof(rep));
    tlog_reset();
    ASSERT_OK(evl_loop_set_rejection_hooks(loop, on_unhandled, on_handled_later, &rep));
    return loop;
}

static void attach_catch_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    ASSERT_OK(evl_promise_catch(arg, h_log, S("caught"), NULL, NULL));
}

static void h_attach_catch(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)value;
    (void)result;
    attach_catch_task(loop, arg);
}

TEST(handled_within_checkpoint_is_not_reported)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    struct ticker tk;
    ticker_start(loop, &tk, 3);
    /* The handler is attached from a microtask two turns later: same checkpoint. */
    struct evl_promise *gate = NULL, *d = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &gate));
    ASSERT_OK(evl_promise_then(gate, NULL, NULL, NULL, NULL, &d));
    ASSERT_OK(evl_promise_then(d, h_attach_catch, NULL, p, NULL, NULL));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 0);
    ASSERT_EQ(rep.handled_later, 0);
    ASSERT_TRUE(strstr(tlog, "caught") != NULL);
    evl_promise_release(p);
    evl_promise_release(gate);
    evl_promise_release(d);
    free_loop(loop);
}

TEST(unhandled_is_reported_at_end_of_checkpoint_not_earlier)
{
    /* Mistake 7: the report must come after every microtask of the checkpoint. */
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    struct ticker tk;
    ticker_start(loop, &tk, 6);
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_PTR_EQ(rep.last, p);
    ASSERT_STR_EQ(tlog, "t0 t1 t2 t3 t4 t5 report");
    evl_promise_release(p);
    free_loop(loop);
}

TEST(handled_later_gives_both_reports)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    checkpoint(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_EQ(rep.handled_later, 0);
    /* A later task (next loop turn) attaches the handler. */
    ASSERT_OK(evl_loop_submit(loop, attach_catch_task, p));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_EQ(rep.handled_later, 1);
    ASSERT_PTR_EQ(rep.last, p);
    ASSERT_STR_EQ(rep.order, "UH");
    /* A second handler is not reported again. */
    ASSERT_OK(evl_loop_submit(loop, attach_catch_task, p));
    run_loop(loop);
    ASSERT_EQ(rep.handled_later, 1);
    evl_promise_release(p);
    free_loop(loop);
}

TEST(handled_later_reports_come_before_new_unhandled)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *a = NULL, *b = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("a"), NULL, &a));
    checkpoint(loop);
    ASSERT_STR_EQ(rep.order, "U");
    /* In one checkpoint: b is rejected unhandled, then a gets its handler. */
    ASSERT_OK(evl_promise_rejected(loop, S("b"), NULL, &b));
    ASSERT_OK(evl_promise_catch(a, h_log, S("caught"), NULL, NULL));
    run_loop(loop);
    ASSERT_STR_EQ(rep.order, "UHU"); /* Node: rejectionHandled before unhandledRejection */
    evl_promise_release(a);
    evl_promise_release(b);
    free_loop(loop);
}

TEST(then_without_catch_reports_the_derived_promise)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL, *d = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_log, NULL, S("f"), NULL, &d));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_PTR_EQ(rep.last, d);
    ASSERT_TRUE(evl_promise_is_handled(p));
    evl_promise_release(p);
    evl_promise_release(d);
    free_loop(loop);
}

static void h_throw(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    ASSERT_OK(evl_result_reject(result, S("thrown"), NULL));
}

TEST(dropped_derived_promise_is_still_reported)
{
    /* A handler that throws with nobody holding the derived promise: JavaScript reports
     * it, and so do we (the tracker keeps the promise until the report). */
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_throw, NULL, NULL, NULL, NULL));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_STR_EQ(rep.last_value, "thrown");
    evl_promise_release(p);
    free_loop(loop);
}

static void h_fulfil(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    ASSERT_OK(evl_result_resolve(result, S("ok"), NULL));
}

TEST(unobserved_derived_promise_is_made_only_when_it_may_reject)
{
    /* then() without out: the derived promise is created in the job, and only for an
     * outcome that could reject it; a pass-through rejection is still reported. */
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *ok = NULL;
    struct evl_promise *bad = NULL;
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &ok));
    ASSERT_OK(evl_promise_rejected(loop, S("why"), NULL, &bad));
    ASSERT_OK(evl_promise_then(ok, h_fulfil, NULL, NULL, NULL, NULL));
    ASSERT_OK(evl_promise_then(ok, h_log, NULL, S("x"), NULL, NULL));
    ASSERT_OK(evl_promise_then(bad, h_fulfil, NULL, NULL, NULL, NULL));
    struct evl_promise_stats st;
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.created, 2);
    run_loop(loop);
    evl_loop_promise_stats(loop, &st);
    ASSERT_UEQ(st.created, 3); /* only the pass-through of the rejection */
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_STR_EQ(rep.last_value, "why");
    ASSERT_STR_EQ(tlog, "x report");
    evl_promise_release(ok);
    evl_promise_release(bad);
    free_loop(loop);
}

static struct evl_promise *later;

static void h_return_later(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    ASSERT_OK(evl_result_resolve_promise(result, later));
}

static void reject_later_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    ASSERT_OK(evl_promise_reject(later, S("late"), NULL));
}

TEST(unobserved_derived_promise_adopting_a_rejection_is_reported)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &later));
    ASSERT_OK(evl_promise_resolved(loop, NULL, NULL, &p));
    ASSERT_OK(evl_promise_then(p, h_return_later, NULL, NULL, NULL, NULL));
    ASSERT_OK(evl_loop_submit(loop, reject_later_task, NULL));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_STR_EQ(rep.last_value, "late");
    evl_promise_release(p);
    evl_promise_release(later);
    free_loop(loop);
}

TEST(finally_marks_source_handled_and_result_is_reported)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL, *f = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    ASSERT_OK(evl_promise_finally(p, fn_log, S("F"), NULL, &f));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_PTR_EQ(rep.last, f);
    ASSERT_STR_EQ(evl_promise_value(f), "r");
    evl_promise_release(p);
    evl_promise_release(f);
    free_loop(loop);
}

TEST(combinator_inputs_are_handled)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *a = NULL, *s = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &a));
    struct evl_promise_input in[1] = {{a, NULL, NULL}};
    ASSERT_OK(evl_promise_all_settled(loop, in, 1, &s));
    run_loop(loop);
    ASSERT_EQ(rep.unhandled, 0);
    evl_promise_release(a);
    evl_promise_release(s);
    free_loop(loop);
}

/* ---- Default hooks log at warn through the loop's logger ------------------------------- */

static int warn_unhandled;
static int warn_handled;

static void capture_log(void *ud, int level, const char *component, const char *msg)
{
    (void)ud;
    if (level != EVL_LOG_WARN || strcmp(component, "promise") != 0) {
        return;
    }
    if (strstr(msg, "unhandled promise rejection")) {
        warn_unhandled++;
        ASSERT_TRUE(strstr(msg, "disk on fire") != NULL); /* the evl_error message */
    }
    if (strstr(msg, "handled asynchronously")) {
        warn_handled++;
    }
}

TEST(default_hooks_log_at_warn)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = capture_log;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    warn_unhandled = warn_handled = 0;
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_EIO, "disk on fire"));
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, err, evl_error_dtor, &p));
    checkpoint(loop);
    ASSERT_EQ(warn_unhandled, 1);
    ASSERT_EQ(warn_handled, 0);
    ASSERT_OK(evl_loop_submit(loop, attach_catch_task, p));
    run_loop(loop);
    ASSERT_EQ(warn_handled, 1);
    /* Custom hooks, then NULL restores the defaults. */
    ASSERT_OK(evl_loop_set_rejection_hooks(loop, on_unhandled, on_handled_later, &rep));
    ASSERT_OK(evl_loop_set_rejection_hooks(loop, NULL, NULL, NULL));
    evl_promise_release(p);
    free_loop(loop);
}

TEST(pending_reports_are_dropped_at_close_without_leak)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("r"), NULL, &p));
    evl_promise_release(p); /* only the tracker holds it now */
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(rep.unhandled, 0);
}

static void timer_token(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    tlog_push(arg);
}

/* Rejected by host code before the run, with nothing else queued: reported at the run's
 * first checkpoint, before a timer fires (Node reports a main-script rejection first), and
 * reported even when the loop has no other work at all. */
TEST(rejection_before_run_is_reported_before_timers)
{
    struct evl_loop *loop = tracked_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_rejected(loop, S("early"), NULL, &p));
    ASSERT_OK(evl_timer_set(loop, timer_token, S("timer"), 0, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(rep.unhandled, 1);
    ASSERT_STR_EQ(tlog, "report timer");
    evl_promise_release(p);

    tlog_reset();
    ASSERT_OK(evl_promise_rejected(loop, S("alone"), NULL, &p));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(rep.unhandled, 2);
    ASSERT_STR_EQ(rep.last_value, "alone");
    evl_promise_release(p);
    free_loop(loop);
}

/*
 * all, allSettled, any and race: results, records, aggregate errors, empty inputs, 1,000
 * mixed inputs, nesting 10 deep, and allocation failures that leave values with the caller.
 * (Settle turns against Node are pinned in test_promise_order.c.)
 */
#include "test_promise_util.h"

#define N 1000

/* 1,000 inputs: a third pending promises resolved later, a third settled promises, a third
 * plain values with destructors. Returns the pending ones through pend. */
static void make_mixed(struct evl_loop *loop, struct evl_promise_input *in, int **vals,
                       struct evl_promise **pend, int *npend)
{
    *npend = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = new_int(i);
        in[i].promise = NULL;
        in[i].value = NULL;
        in[i].dtor = NULL;
        if (i % 3 == 0) {
            ASSERT_OK(evl_promise_new(loop, &in[i].promise));
            pend[(*npend)++] = in[i].promise;
        } else if (i % 3 == 1) {
            ASSERT_OK(evl_promise_resolved(loop, vals[i], free_int, &in[i].promise));
        } else {
            in[i].value = vals[i];
            in[i].dtor = free_int;
        }
    }
}

TEST(all_over_1000_mixed_inputs_keeps_input_order)
{
    struct evl_loop *loop = new_loop();
    static struct evl_promise_input in[N];
    static int *vals[N];
    static struct evl_promise *pend[N];
    int npend = 0;
    make_mixed(loop, in, vals, pend, &npend);
    struct evl_promise *all = NULL;
    ASSERT_OK(evl_promise_all(loop, in, N, &all));
    for (int i = 0; i < N; i++) {
        if (i % 3 != 0) {
            evl_promise_release(in[i].promise); /* pend[] keeps the pending ones */
        }
    }
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(all), EVL_PROMISE_PENDING);
    /* Resolve the pending third in reverse order: the result still follows input order. */
    for (int k = npend - 1; k >= 0; k--) {
        ASSERT_OK(evl_promise_resolve(pend[k], vals[k * 3], free_int));
        evl_promise_release(pend[k]);
    }
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(all), EVL_PROMISE_FULFILLED);
    const struct evl_values *v = evl_promise_value(all);
    ASSERT_UEQ(evl_values_count(v), N);
    for (int i = 0; i < N; i++) {
        ASSERT_PTR_EQ(evl_values_get(v, i), vals[i]);
        ASSERT_EQ(evl_values_status(v, i), EVL_PROMISE_FULFILLED);
    }
    ASSERT_NULL(evl_values_get(v, N));
    dtor_calls = 0;
    evl_promise_release(all);
    ASSERT_EQ(dtor_calls, N); /* every value destroyed exactly once, with the last sharer */
    free_loop(loop);
}

TEST(all_rejects_with_first_reason)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *b = NULL, *c = NULL, *all = NULL;
    ASSERT_OK(evl_promise_new(loop, &a));
    ASSERT_OK(evl_promise_new(loop, &b));
    ASSERT_OK(evl_promise_new(loop, &c));
    struct evl_promise_input in[3] = {{a, NULL, NULL}, {b, NULL, NULL}, {c, NULL, NULL}};
    ASSERT_OK(evl_promise_all(loop, in, 3, &all));
    evl_promise_mark_handled(all);
    ASSERT_OK(evl_promise_reject(b, S("first"), NULL));
    ASSERT_OK(evl_promise_reject(c, S("second"), NULL));
    ASSERT_OK(evl_promise_resolve(a, S("ok"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(all), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(all), "first");
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(c);
    evl_promise_release(all);
    free_loop(loop);
}

TEST(all_settled_records_status_value_reason)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *ok = NULL, *bad = NULL, *res = NULL;
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_EIO, "boom"));
    ASSERT_OK(evl_promise_resolved(loop, S("v"), NULL, &ok));
    ASSERT_OK(evl_promise_rejected(loop, err, evl_error_dtor, &bad));
    struct evl_promise_input in[3] = {
        {ok, NULL, NULL}, {bad, NULL, NULL}, {NULL, S("plain"), NULL}};
    ASSERT_OK(evl_promise_all_settled(loop, in, 3, &res));
    evl_promise_release(ok);
    evl_promise_release(bad);
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(res), EVL_PROMISE_FULFILLED);
    const struct evl_values *v = evl_promise_value(res);
    ASSERT_UEQ(evl_values_count(v), 3);
    ASSERT_EQ(evl_values_status(v, 0), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_values_get(v, 0), "v");
    ASSERT_EQ(evl_values_status(v, 1), EVL_PROMISE_REJECTED);
    ASSERT_PTR_EQ(evl_values_get(v, 1), err);
    ASSERT_PTR_EQ(evl_values_error(v, 1), err);
    ASSERT_NULL(evl_values_error(v, 0));
    ASSERT_EQ(evl_values_status(v, 2), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_values_get(v, 2), "plain");
    ASSERT_EQ(evl_values_status(v, 3), EVL_PROMISE_PENDING); /* out of range */
    evl_promise_release(res);
    free_loop(loop);
}

TEST(any_fulfils_with_first_value)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *b = NULL, *res = NULL;
    ASSERT_OK(evl_promise_new(loop, &a));
    ASSERT_OK(evl_promise_new(loop, &b));
    struct evl_promise_input in[2] = {{a, NULL, NULL}, {b, NULL, NULL}};
    ASSERT_OK(evl_promise_any(loop, in, 2, &res));
    ASSERT_OK(evl_promise_reject(a, S("no"), NULL));
    ASSERT_OK(evl_promise_resolve(b, S("yes"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(res), EVL_PROMISE_FULFILLED);
    ASSERT_STR_EQ(evl_promise_value(res), "yes");
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(res);
    free_loop(loop);
}

TEST(any_all_rejected_gives_aggregate_error_in_input_order)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *b = NULL, *res = NULL;
    ASSERT_OK(evl_promise_new(loop, &a));
    ASSERT_OK(evl_promise_new(loop, &b));
    struct evl_promise_input in[3] = {{a, NULL, NULL}, {b, NULL, NULL}, {NULL, S("x"), NULL}};
    /* A plain value fulfils: use only the two promises for the all-rejected case. */
    ASSERT_OK(evl_promise_any(loop, in, 2, &res));
    evl_promise_mark_handled(res);
    ASSERT_OK(evl_promise_reject(b, S("rb"), NULL));
    ASSERT_OK(evl_promise_reject(a, S("ra"), NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(res), EVL_PROMISE_REJECTED);
    const struct evl_error *err = evl_promise_reason_as_error(res);
    ASSERT_NOT_NULL(err);
    ASSERT_EQ(evl_error_code(err), EVL_EAGGREGATE);
    const struct evl_values *errors = evl_error_errors(err);
    ASSERT_UEQ(evl_values_count(errors), 2);
    ASSERT_STR_EQ(evl_values_get(errors, 0), "ra");
    ASSERT_STR_EQ(evl_values_get(errors, 1), "rb");
    ASSERT_EQ(evl_values_status(errors, 0), EVL_PROMISE_REJECTED);
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(res);
    free_loop(loop);
}

TEST(any_empty_rejects_with_empty_list)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *res = NULL;
    ASSERT_OK(evl_promise_any(loop, NULL, 0, &res));
    evl_promise_mark_handled(res);
    ASSERT_EQ(evl_promise_state(res), EVL_PROMISE_REJECTED); /* synchronously, as in JS */
    const struct evl_error *err = evl_promise_reason_as_error(res);
    ASSERT_EQ(evl_error_code(err), EVL_EAGGREGATE);
    ASSERT_NOT_NULL(evl_error_errors(err));
    ASSERT_UEQ(evl_values_count(evl_error_errors(err)), 0);
    evl_promise_release(res);
    checkpoint(loop);
    free_loop(loop);
}

TEST(all_and_all_settled_empty_fulfil_with_empty_list)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *a = NULL, *s = NULL;
    ASSERT_OK(evl_promise_all(loop, NULL, 0, &a));
    ASSERT_OK(evl_promise_all_settled(loop, NULL, 0, &s));
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_FULFILLED);
    ASSERT_EQ(evl_promise_state(s), EVL_PROMISE_FULFILLED);
    ASSERT_UEQ(evl_values_count(evl_promise_value(a)), 0);
    ASSERT_UEQ(evl_values_count(evl_promise_value(s)), 0);
    evl_promise_release(a);
    evl_promise_release(s);
    free_loop(loop);
}

TEST(race_empty_stays_pending_and_race_takes_first)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *empty = NULL, *a = NULL, *b = NULL, *r = NULL;
    ASSERT_OK(evl_promise_race(loop, NULL, 0, &empty));
    ASSERT_OK(evl_promise_new(loop, &a));
    ASSERT_OK(evl_promise_new(loop, &b));
    struct evl_promise_input in[2] = {{a, NULL, NULL}, {b, NULL, NULL}};
    ASSERT_OK(evl_promise_race(loop, in, 2, &r));
    ASSERT_OK(evl_promise_reject(b, S("b"), NULL));
    ASSERT_OK(evl_promise_resolve(a, S("a"), NULL));
    evl_promise_mark_handled(r);
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(empty), EVL_PROMISE_PENDING);
    ASSERT_EQ(evl_promise_state(r), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_promise_value(r), "b");
    evl_promise_release(empty);
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(r);
    checkpoint(loop);
    free_loop(loop);
}

/* Ten levels: level k combines the level k-1 promise with nine plain values, cycling
 * through all, allSettled, any and race. */
TEST(nested_ten_deep)
{
    struct evl_loop *loop = new_loop();
    dtor_calls = 0;
    struct evl_promise *root = NULL;
    ASSERT_OK(evl_promise_new(loop, &root));
    struct evl_promise *cur = evl_promise_retain(root);
    int kinds[10];
    for (int level = 0; level < 10; level++) {
        struct evl_promise_input in[10];
        in[0].promise = cur;
        in[0].value = NULL;
        in[0].dtor = NULL;
        for (int i = 1; i < 10; i++) {
            in[i].promise = NULL;
            in[i].value = new_int(level * 100 + i);
            in[i].dtor = free_int;
        }
        struct evl_promise *next = NULL;
        kinds[level] = level % 3; /* all, allSettled, any (race would finish at once) */
        if (kinds[level] == 0) {
            ASSERT_OK(evl_promise_all(loop, in, 10, &next));
        } else if (kinds[level] == 1) {
            ASSERT_OK(evl_promise_all_settled(loop, in, 10, &next));
        } else {
            ASSERT_OK(evl_promise_any(loop, in, 10, &next));
        }
        evl_promise_release(cur);
        cur = next;
    }
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(cur), EVL_PROMISE_FULFILLED);
    ASSERT_OK(evl_promise_resolve(root, S("root"), NULL));
    evl_promise_release(root);
    run_loop(loop);
    /* The last level is all (9 % 3 == 0): its first element is the level-8 any(), which
     * fulfilled with its first plain value already. */
    const struct evl_values *v = evl_promise_value(cur);
    ASSERT_UEQ(evl_values_count(v), 10);
    ASSERT_EQ(*(int *)evl_values_get(v, 1), 901);
    ASSERT_EQ(*(int *)evl_values_get(v, 0), 801);
    evl_promise_release(cur);
    ASSERT_EQ(dtor_calls, 90);
    free_loop(loop);
}

TEST(nested_ten_deep_all_waits_for_innermost)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *root = NULL;
    ASSERT_OK(evl_promise_new(loop, &root));
    struct evl_promise *cur = evl_promise_retain(root);
    for (int level = 0; level < 10; level++) {
        struct evl_promise_input in[2] = {{cur, NULL, NULL}, {NULL, S("x"), NULL}};
        struct evl_promise *next = NULL;
        ASSERT_OK(evl_promise_all(loop, in, 2, &next));
        evl_promise_release(cur);
        cur = next;
    }
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(cur), EVL_PROMISE_PENDING);
    ASSERT_OK(evl_promise_resolve(root, S("deep"), NULL));
    evl_promise_release(root);
    run_loop(loop);
    const struct evl_values *v = evl_promise_value(cur);
    for (int level = 9; level > 0; level--) {
        ASSERT_STR_EQ(evl_values_get(v, 1), "x");
        v = evl_values_get(v, 0);
    }
    ASSERT_STR_EQ(evl_values_get(v, 0), "deep");
    evl_promise_release(cur);
    free_loop(loop);
}

TEST(failed_call_leaves_plain_values_with_caller)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    int failures = 0;
    for (uint64_t n = 1; n < 12; n++) {
        struct evl_promise_input in[4] = {{p, NULL, NULL},
                                          {NULL, new_int(1), free_int},
                                          {NULL, new_int(2), free_int},
                                          {p, NULL, NULL}};
        struct evl_promise *res = NULL;
        dtor_calls = 0;
        evl_alloc_fail_at(n, 1);
        int rc = evl_promise_all(loop, in, 4, &res);
        evl_alloc_fail_at(0, 0);
        if (rc != 0) {
            ASSERT_EQ(rc, EVL_ENOMEM);
            ASSERT_EQ(dtor_calls, 0);
            free_int(loop, in[1].value);
            free_int(loop, in[2].value);
            failures++;
        } else {
            evl_promise_release(res);
        }
    }
    ASSERT_GT(failures, 0);
    ASSERT_ERR(EVL_EINVAL, evl_promise_all(loop, NULL, 3, &p));
    ASSERT_OK(evl_promise_resolve(p, NULL, NULL));
    run_loop(loop);
    evl_promise_release(p);
    free_loop(loop);
}

/*
 * The embedder's error policy: by default an uncaught error or an unhandled rejection is
 * reported and the heap keeps running; evl_duk_reset revives a terminated heap; rejections
 * of promises JS never saw stay out of JS.
 */
#include "duk_env.h"

struct reports {
    int n;
    char origin[64];
    char text[512];
};

static void on_report(duk_context *ctx, const char *origin, const char *text, void *ud)
{
    (void)ctx;
    struct reports *r = ud;
    r->n++;
    snprintf(r->origin, sizeof(r->origin), "%s", origin);
    snprintf(r->text, sizeof(r->text), "%s", text);
}

/* A heap as an embedder sets it up: install only, default policy. */
static void open_embedded(struct duk_env *e, struct reports *r)
{
    env_open(e, 1, 0);
    ASSERT_OK(evl_duk_set_error_policy(e->ctx, EVL_DUK_POLICY_REPORT, r ? on_report : NULL, r));
}

TEST(default_policy_is_report)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_duk_heap_new(&ctx, NULL));
    ASSERT_OK(evl_duk_install(ctx, loop, 0));
    /* No callback: the report goes to stderr and the heap keeps running. */
    ASSERT_EQ(duk_peval_string(ctx, "setTimeout(function () { throw new Error('boom'); }, 0);"
                                    "var later = 0; setTimeout(function () { later = 1; }, 5);"),
              0);
    duk_pop(ctx);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_duk_terminated(ctx, NULL), 0);
    ASSERT_EQ(duk_peval_string(ctx, "later"), 0);
    ASSERT_EQ(duk_get_int(ctx, -1), 1);
    duk_pop(ctx);
    evl_duk_heap_free(ctx);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_ERR(EVL_ENOENT, evl_duk_set_error_policy(NULL, EVL_DUK_POLICY_NODE, NULL, NULL));
}

TEST(uncaught_exception_is_reported_and_the_heap_keeps_running)
{
    struct duk_env e;
    struct reports r = {0};
    open_embedded(&e, &r);
    env_eval(&e, "var log = [];"
                 "setTimeout(function () { throw new Error('first'); }, 1);"
                 "setTimeout(function () { log.push('still running'); }, 3);");
    env_run_fake(&e);
    ASSERT_EQ(r.n, 1);
    ASSERT_STR_EQ(r.origin, "uncaughtException");
    ASSERT_TRUE(strstr(r.text, "Error: first") != NULL);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "still running");
    /* Later scripts run as usual: nothing says the process is exiting. */
    env_eval(&e, "setTimeout(function () { log.push('new timer'); }, 1);");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "still running,new timer");
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    env_close(&e);
}

TEST(unhandled_rejection_is_reported_with_its_origin)
{
    struct duk_env e;
    struct reports r = {0};
    open_embedded(&e, &r);
    env_eval(&e, "Promise.reject(new Error('nobody'));");
    env_run_fake(&e);
    ASSERT_EQ(r.n, 1);
    ASSERT_STR_EQ(r.origin, "unhandledRejection");
    ASSERT_TRUE(strstr(r.text, "Error: nobody") != NULL);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    /* Listeners still come first under the report policy. */
    env_eval(&e, "var seen; process.on('unhandledRejection', function (x) { seen = x; });"
                 "Promise.reject(7);");
    env_run_fake(&e);
    ASSERT_EQ(r.n, 1);
    ASSERT_STR_EQ(env_str(&e, "seen"), "7");
    env_close(&e);
}

TEST(reset_revives_a_heap_after_process_exit)
{
    struct duk_env e;
    open_embedded(&e, NULL);
    env_eval(&e, "setTimeout(function () { process.exit(3); }, 1);"
                 "setTimeout(function () { throw new Error('never'); }, 10);");
    env_run_fake(&e);
    int status = 0;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 3);
    ASSERT_NE(duk_peval_string(e.ctx, "setTimeout(function () {}, 1)"), 0); /* exiting */
    duk_pop(e.ctx);
    ASSERT_OK(evl_duk_reset(e.ctx));
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 0);
    ASSERT_EQ(status, 0);
    env_eval(&e, "var again = 0; setTimeout(function () { again = 1; }, 1);");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "again"), "1");
    ASSERT_ERR(EVL_ENOENT, evl_duk_reset(NULL));
    env_close(&e);
}

static void reject_in_c(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl_promise *p = NULL;
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_ETIMEDOUT, "a C-only failure"));
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_promise_reject(p, err, evl_error_dtor));
    evl_promise_release(p);
}

TEST(rejections_js_never_saw_stay_out_of_js_under_both_policies)
{
    for (int policy = 0; policy < 2; policy++) {
        struct duk_env e;
        struct reports r = {0};
        env_open(&e, 1, 0);
        ASSERT_OK(
            evl_duk_set_error_policy(e.ctx, (enum evl_duk_error_policy)policy, on_report, &r));
        env_eval(&e, "var heard = 0; process.on('unhandledRejection', function () { heard++; });");
        ASSERT_OK(evl_loop_submit(e.loop, reject_in_c, NULL));
        env_run_fake(&e);
        ASSERT_EQ(r.n, 0);
        ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
        ASSERT_STR_EQ(env_str(&e, "heard"), "0");
        env_close(&e);
    }
}

TEST(node_policy_still_terminates)
{
    struct duk_env e;
    struct reports r = {0};
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_set_error_policy(e.ctx, EVL_DUK_POLICY_NODE, on_report, &r));
    ASSERT_ERR(EVL_EINVAL,
               evl_duk_set_error_policy(e.ctx, (enum evl_duk_error_policy)9, NULL, NULL));
    env_eval(&e, "setTimeout(function () { throw new Error('fatal'); }, 1);");
    env_run_fake(&e);
    int status = 0;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    ASSERT_EQ(r.n, 0); /* the report callback is the report policy's */
    env_close(&e);
}

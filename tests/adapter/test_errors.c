/* JS errors made from evl errors have Node's shape: a system error carries errno (negative),
 * code (the errno name) and syscall when the failing call is known; an evl error carries its
 * EVL_E* code and nothing else. */
#include "duk_env.h"
#include "duktape/bootstrap.h"
#include "duktape/error.h"
#include "duktape/module.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Hands the C promise to JS as the global `cp` and records its rejection's shape in `out`:
 * instanceof Error | message | errno | code | syscall | own enumerable keys. */
static void observe_rejection(struct duk_env *e, struct evl_promise *cp)
{
    ASSERT_OK(evl_duk_push_promise(e->ctx, cp));
    duk_put_global_string(e->ctx, "cp");
    env_eval(e, "var out = 'pending';"
                "cp.then(function () { out = 'fulfilled'; }, function (e) {"
                "  out = [e instanceof Error, e.message, e.errno, e.code, e.syscall,"
                "         Object.keys(e).join(',')].join('|'); })");
}

static void run_default(struct duk_env *e)
{
    ASSERT_GE(evl_loop_run(e->loop, EVL_RUN_NOWAIT), 0);
    ASSERT_OK(evl_loop_run(e->loop, EVL_RUN_DEFAULT));
}

TEST(system_error_from_c_has_code_errno_syscall)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    struct evl_error *err = NULL;
    ASSERT_OK(
        evl_error_new_sys(&err, ECONNREFUSED, "connect", "connect ECONNREFUSED %s", "127.0.0.1:1"));
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_rejected(e.loop, err, evl_error_dtor, &cp));
    observe_rejection(&e, cp);
    evl_promise_release(cp);
    env_run_fake(&e);
    char want[160];
    snprintf(want, sizeof(want),
             "true|connect ECONNREFUSED 127.0.0.1:1|%d|ECONNREFUSED|connect|errno,code,syscall",
             -ECONNREFUSED);
    ASSERT_STR_EQ(env_str(&e, "out"), want);
    env_close(&e);
}

TEST(system_error_without_syscall_has_no_syscall_property)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, evl_err_from_errno(EPIPE), NULL));
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_rejected(e.loop, err, evl_error_dtor, &cp));
    observe_rejection(&e, cp);
    evl_promise_release(cp);
    env_run_fake(&e);
    char want[200];
    snprintf(want, sizeof(want), "true|%s|%d|EPIPE||errno,code", evl_strerror(EVL_ESYS(EPIPE)),
             -EPIPE);
    ASSERT_STR_EQ(env_str(&e, "out"), want);
    env_close(&e);
}

TEST(evl_error_keeps_its_evl_code_and_no_errno)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_ECANCELED, NULL));
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_rejected(e.loop, err, evl_error_dtor, &cp));
    observe_rejection(&e, cp);
    evl_promise_release(cp);
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "out"), "true|operation canceled||EVL_ECANCELED||code");
    env_close(&e);
}

/* A port nothing listens on: bound, then closed, so connect() is refused. */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Pool work that makes a real failing system call and reports it as Node would. */
static int connect_work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    int port = *(int *)arg;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return evl_err_from_errno(errno);
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int rc = connect(s, (struct sockaddr *)&a, sizeof(a));
    int saved = errno;
    close(s);
    if (rc == 0) {
        return 0;
    }
    struct evl_error *err = NULL;
    int code = evl_err_from_errno(saved);
    if (evl_error_new_sys(&err, saved, "connect", "connect %s 127.0.0.1:%d", evl_err_name(code),
                          port) != 0) {
        return code;
    }
    *value_out = err;
    *dtor_out = evl_error_dtor;
    return code;
}

TEST(pool_work_connect_refused_reaches_js_as_node_error) /* labels: real-time */
{
    struct duk_env e;
    env_open(&e, 0, 0);
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 1));
    int port = closed_port();
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_pool_submit(pool, e.loop, connect_work, &port, &cp));
    observe_rejection(&e, cp);
    evl_promise_release(cp);
    run_default(&e);
    char want[200];
    snprintf(want, sizeof(want),
             "true|connect ECONNREFUSED 127.0.0.1:%d|%d|ECONNREFUSED|connect|errno,code,syscall",
             port, -ECONNREFUSED);
    ASSERT_STR_EQ(env_str(&e, "out"), want);
    ASSERT_OK(evl_pool_free(pool));
    env_close(&e);
}

/* Calls internals.native.readFile(path) and stores the error's shape in the global `out`. */
static void read_file_error(struct duk_env *e, const char *path)
{
    struct evl_duk *d = evl__duk_get(e->ctx);
    ASSERT_NOT_NULL(d);
    ASSERT_OK(evl__duk_module_install(d));
    evl__duk_push_natives(d);
    duk_put_global_string(e->ctx, "natives");
    duk_push_string(e->ctx, path);
    duk_put_global_string(e->ctx, "path");
    env_eval(e, "var out = 'no error'; try { natives.readFile(path); } catch (e) {"
                "  out = [e.message, e.errno, e.code, e.syscall, e.path,"
                "         Object.keys(e).join(',')].join('|'); }");
}

/* What fs.readFileSync throws in Node for a missing file. */
TEST(read_file_open_failure_is_shaped_like_node_fs)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    read_file_error(&e, "/nonexistent/evl-test");
    char reason[128];
    (void)evl__duk_sys_message(EVL_ESYS(ENOENT), reason, sizeof(reason));
    char want[300];
    snprintf(want, sizeof(want),
             "ENOENT: %s, open '/nonexistent/evl-test'|%d|ENOENT|open|/nonexistent/evl-test|"
             "errno,code,syscall,path",
             reason, -ENOENT);
    ASSERT_STR_EQ(env_str(&e, "out"), want);
#if defined(__GLIBC__)
    ASSERT_STR_EQ(reason, "no such file or directory");
#endif
    env_close(&e);
}

/* A directory opens but cannot be read: the failing call is read, and Node names no path. */
TEST(read_file_read_failure_names_read)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    read_file_error(&e, "/");
    char reason[128];
    (void)evl__duk_sys_message(EVL_ESYS(EISDIR), reason, sizeof(reason));
    char want[300];
    snprintf(want, sizeof(want), "EISDIR: %s, read|%d|EISDIR|read||errno,code,syscall", reason,
             -EISDIR);
    ASSERT_STR_EQ(env_str(&e, "out"), want);
    env_close(&e);
}

TEST(sys_message_drops_only_the_name_suffix)
{
    char buf[128];
    size_t n = evl__duk_sys_message(EVL_ESYS(ENOENT), buf, sizeof(buf));
    ASSERT_EQ(n, strlen(buf));
    ASSERT_TRUE(strstr(buf, "(ENOENT)") == NULL);
    ASSERT_TRUE(strncmp(evl_strerror(EVL_ESYS(ENOENT)), buf, n) == 0);
    /* evl codes are copied whole; a small buffer is cut and terminated. */
    (void)evl__duk_sys_message(EVL_ECLOSED, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, evl_strerror(EVL_ECLOSED));
    char small[5];
    ASSERT_EQ(evl__duk_sys_message(EVL_ECLOSED, small, sizeof(small)),
              strlen(evl_strerror(EVL_ECLOSED)));
    ASSERT_EQ(strlen(small), 4);
}

/* evl codes thrown by the timer functions carry their code too: here the loop's ids run out
 * (they stop at 2^53-1, the largest integer a JS number holds exactly). */
TEST(thrown_evl_code_has_code_property)
{
    struct duk_env e;
    memset(&e, 0, sizeof(e));
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = evl_test_clock_read;
    o.clock_ud = &e.clock;
    o.first_id = (UINT64_C(1) << 53) - 1;
    ASSERT_OK(evl_loop_new(&e.loop, &o));
    ASSERT_OK(evl_duk_heap_new(&e.ctx, NULL));
    ASSERT_OK(evl_duk_install(e.ctx, e.loop, 0));
    env_eval(&e, "var out = []; for (var i = 0; i < 2; i++) {"
                 "  try { clearTimeout(setTimeout(function () {}, 1)); out.push('ok'); }"
                 "  catch (e) { out.push(e.code + '|' + e.message + '|' + ('errno' in e)); } }");
    ASSERT_STR_EQ(env_str(&e, "out.join(',')"), "ok,EVL_ERANGE|evl: value out of range|false");
    env_close(&e);
}

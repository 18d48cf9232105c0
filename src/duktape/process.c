/*
 * The process object (its JS half is js/process.js), Node's exit sequence, and event
 * emission from C. Also performance.now()/timeOrigin, which Duktape provides without a time
 * origin.
 */
#include "duktape/process.h"

#include "duktape/bootstrap.h"
#include "duktape/engine/duk_engine.h"
#include "duktape/error.h"

#include "evl_js_events.h"
#include "evl_js_process.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

void evl__duk_flush_stdout(void)
{
    fflush(stdout);
}

/* ---- natives ------------------------------------------------------------------------------ */

static struct evl_duk *binding(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        (void)duk_error(ctx, DUK_ERR_ERROR, "evl: the heap is not bound to a loop");
    }
    return d;
}

/*
 * Writes all of buf to fd now, as Node does for stdout and stderr on files, pipes and TTYs
 * on Linux: nothing waits in a process buffer, so output survives a kill or a crash. An
 * inherited non-blocking descriptor is waited on. Errors (a closed pipe) drop the output:
 * console output is best effort in Node too.
 */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            (void)poll(&p, 1, -1);
        } else {
            return n < 0 ? errno : EIO;
        }
    }
    return 0;
}

/* native.write(fd, string or buffer data): fd 1 is stdout, 2 is stderr; synchronous. */
static duk_ret_t native_write(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    if (d->terminated) {
        return duk_error(ctx, DUK_ERR_ERROR, "evl: the process is exiting");
    }
    int fd = duk_require_int(ctx, 0);
    if (fd != 1 && fd != 2) {
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "evl: write to fd %d", fd);
    }
    duk_size_t len = 0;
    const char *s;
    if (duk_is_buffer_data(ctx, 1)) {
        s = duk_get_buffer_data(ctx, 1, &len);
    } else {
        s = duk_to_lstring(ctx, 1, &len);
    }
    /* Text printed through C stdio (the embedder's, or evljs --help) goes first. */
    fflush(fd == 1 ? stdout : stderr);
    if (write_all(fd, s, len) == EPIPE) {
        /* The reader is gone (evljs ignores SIGPIPE, as Node does): Node's stream fails with
         * "write EPIPE", which ends a script that does not handle it with status 1. */
        evl__duk_push_error_code(ctx, EVL_ESYS(EPIPE), "write", "write EPIPE");
        return duk_throw(ctx);
    }
    return 0;
}

static duk_ret_t native_isatty(duk_context *ctx)
{
    duk_push_boolean(ctx, isatty(duk_require_int(ctx, 0)) == 1);
    return 1;
}

/* Calls the 'exit' listeners need at least (emit, a listener, console.log and what they
 * call): process.exit() with less room left defers them until the stack has unwound. */
#define EXIT_HEADROOM 64

/* The end of a process.exit() deferred for want of stack (d->finish_exit): the outermost
 * entry returned, so the listeners run at the bottom of the stack, then the run ends with
 * the code. A listener that throws is an uncaught exception, as when the run ends normally.
 * Value stack unchanged. */
static void finish_exit(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    if (d->terminated || !ctx) {
        return;
    }
    evl__duk_mark_exiting(d);
    if (evl__duk_push_internal(d, "emit")) {
        duk_push_undefined(ctx);
        duk_push_string(ctx, "exit");
        evl__duk_push_exit_listener_code(d, 0);
        (void)evl__duk_call_method_guarded(d, 2);
        duk_pop(ctx);
    }
    evl__duk_terminate(d, evl__duk_exit_code(d));
}

/* native.exit(code): Node's process.exit. Never returns normally. */
static duk_ret_t native_exit(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    if (!duk_is_undefined(ctx, 0) && !duk_is_null(ctx, 0)) {
        evl__duk_push_ref(d, d->internals_ref);
        duk_get_prop_string(ctx, -1, "process");
        duk_dup(ctx, 0);
        duk_put_prop_string(ctx, -2, "exitCode");
        duk_pop_2(ctx);
    }
    if (!d->exiting && !d->exit_deferred && d->depth > 0 &&
        evl__duk_call_headroom(ctx) < EXIT_HEADROOM) {
        /* Too deep for the listeners to run here (they would fail with a RangeError and
         * the code would be lost): unwind without running any more JS, then finish_exit. */
        d->exit_deferred = 1;
        d->unwinding = 1;
        evl__duk_force_interrupt(ctx);
        return duk_error(ctx, DUK_ERR_ERROR, "process.exit()");
    }
    if (d->exit_deferred) {
        return duk_error(ctx, DUK_ERR_ERROR, "process.exit()"); /* still unwinding */
    }
    if (!d->exiting) {
        /* Like Node's process.exit, the listeners run in the caller's stack: an error one
         * of them throws leaves process.exit() as an ordinary exception (and 'exit' comes
         * again when the run ends). */
        evl__duk_mark_exiting(d);
        if (evl__duk_push_internal(d, "emit")) {
            duk_push_undefined(ctx);
            duk_push_string(ctx, "exit");
            evl__duk_push_exit_listener_code(d, 0);
            duk_call_method(ctx, 2);
            duk_pop(ctx);
        }
    }
    evl__duk_terminate(d, evl__duk_exit_code(d));
    /* Unwind the JS stack: the timeout check keeps interrupting until we are back in C. */
    d->unwinding = d->depth > 0;
    if (d->unwinding) {
        evl__duk_force_interrupt(ctx);
    }
    return duk_error(ctx, DUK_ERR_ERROR, "process.exit()");
}

static duk_ret_t native_hrtime(duk_context *ctx)
{
    uint64_t now = evl__duk_now_ns();
    duk_push_array(ctx);
    uint64_t seconds = now / 1000000000u; /* whole seconds, as Node's hrtime() */
    duk_push_number(ctx, (double)seconds);
    duk_put_prop_index(ctx, -2, 0);
    duk_push_number(ctx, (double)(now % 1000000000u));
    duk_put_prop_index(ctx, -2, 1);
    return 1;
}

/* Milliseconds since the binding's time origin (performance.now and process.uptime). */
static duk_ret_t native_hrnow(duk_context *ctx)
{
    struct evl_duk *d = binding(ctx);
    duk_push_number(ctx, (double)(evl__duk_now_ns() - d->time_origin_ns) / 1e6);
    return 1;
}

static duk_ret_t native_abort(duk_context *ctx)
{
    (void)ctx;
    fflush(stdout);
    abort();
}

/* native.umask(mask or undefined): the previous mask; undefined only reads it. */
static duk_ret_t native_umask(duk_context *ctx)
{
    mode_t old;
    if (duk_is_undefined(ctx, 0)) {
        old = umask(0);
        umask(old);
    } else {
        old = umask((mode_t)duk_require_uint(ctx, 0) & 0777);
    }
    duk_push_uint(ctx, (duk_uint_t)old);
    return 1;
}

/* native.ids(): [uid, euid, gid, egid]. */
static duk_ret_t native_ids(duk_context *ctx)
{
    duk_push_array(ctx);
    duk_push_uint(ctx, (duk_uint_t)getuid());
    duk_put_prop_index(ctx, -2, 0);
    duk_push_uint(ctx, (duk_uint_t)geteuid());
    duk_put_prop_index(ctx, -2, 1);
    duk_push_uint(ctx, (duk_uint_t)getgid());
    duk_put_prop_index(ctx, -2, 2);
    duk_push_uint(ctx, (duk_uint_t)getegid());
    duk_put_prop_index(ctx, -2, 3);
    return 1;
}

/* native.cpuUsage(): [user, system] CPU time of the process in microseconds. */
static duk_ret_t native_cpu_usage(duk_context *ctx)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return duk_error(ctx, DUK_ERR_ERROR, "getrusage: %s", strerror(errno));
    }
    duk_push_array(ctx);
    duk_push_number(ctx, (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec);
    duk_put_prop_index(ctx, -2, 0);
    duk_push_number(ctx, (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec);
    duk_put_prop_index(ctx, -2, 1);
    return 1;
}

static duk_ret_t native_cwd(duk_context *ctx)
{
    char buf[4096];
    if (!getcwd(buf, sizeof(buf))) {
        return duk_error(ctx, DUK_ERR_ERROR, "process.cwd(): %s", strerror(errno));
    }
    duk_push_string(ctx, buf);
    return 1;
}

static duk_ret_t native_heap_bytes(duk_context *ctx)
{
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    duk_push_number(ctx, (double)st.live_bytes);
    return 1;
}

static void push_env(duk_context *ctx)
{
    duk_push_object(ctx);
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e) {
            continue;
        }
        duk_push_lstring(ctx, *e, (duk_size_t)(eq - *e));
        duk_push_string(ctx, eq + 1);
        duk_put_prop(ctx, -3);
    }
}

/* Adds the process natives to the natives object on top of the stack. */
static void add_natives(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    struct utsname un;
    evl__duk_put_native(ctx, "write", native_write, 2);
    evl__duk_put_native(ctx, "isatty", native_isatty, 1);
    evl__duk_put_native(ctx, "exit", native_exit, 1);
    evl__duk_put_native(ctx, "hrtime", native_hrtime, 0);
    evl__duk_put_native(ctx, "hrnow", native_hrnow, 0);
    evl__duk_put_native(ctx, "cwd", native_cwd, 0);
    evl__duk_put_native(ctx, "abort", native_abort, 0);
    evl__duk_put_native(ctx, "umask", native_umask, 1);
    evl__duk_put_native(ctx, "ids", native_ids, 0);
    evl__duk_put_native(ctx, "cpuUsage", native_cpu_usage, 0);
    evl__duk_put_native(ctx, "heapBytes", native_heap_bytes, 0);
    duk_push_array(ctx);
    duk_push_string(ctx, "evljs");
    duk_put_prop_index(ctx, -2, 0);
    duk_put_prop_string(ctx, -2, "argv");
    push_env(ctx);
    duk_put_prop_string(ctx, -2, "env");
    duk_push_string(ctx, "linux");
    duk_put_prop_string(ctx, -2, "platform");
    const char *arch = "unknown";
    if (uname(&un) == 0) {
        arch = strcmp(un.machine, "x86_64") == 0    ? "x64"
               : strcmp(un.machine, "aarch64") == 0 ? "arm64"
                                                    : un.machine;
    }
    duk_push_string(ctx, arch);
    duk_put_prop_string(ctx, -2, "arch");
    duk_push_int(ctx, (duk_int_t)getpid());
    duk_put_prop_string(ctx, -2, "pid");
    duk_push_int(ctx, (duk_int_t)getppid());
    duk_put_prop_string(ctx, -2, "ppid");
    duk_push_string(ctx, evl_version());
    duk_put_prop_string(ctx, -2, "version");
    duk_push_sprintf(ctx, "%ld.%ld.%ld", (long)(DUK_VERSION / 10000),
                     (long)(DUK_VERSION / 100 % 100), (long)(DUK_VERSION % 100));
    duk_put_prop_string(ctx, -2, "duktapeVersion");
}

int evl__duk_process_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    d->time_origin_ns = evl__duk_now_ns();
    d->finish_exit = finish_exit;
    evl__duk_push_ref(d, d->internals_ref);
    evl__duk_push_natives(d);
    add_natives(d);
    duk_pop(ctx);
    /* events first: process is an EventEmitter. */
    duk_push_global_object(ctx);
    evl__duk_push_natives(d);
    duk_dup(ctx, -3);
    evl__duk_run_bootstrap(ctx, evl_js_events, evl_js_events_len, 3);
    duk_push_global_object(ctx);
    evl__duk_push_natives(d);
    duk_dup(ctx, -3);
    evl__duk_run_bootstrap(ctx, evl_js_process, evl_js_process_len, 3);
    duk_pop(ctx);
    return 0;
}

/* ---- performance ------------------------------------------------------------------------- */

int evl__duk_perf_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_global_object(ctx);
    if (!duk_get_prop_string(ctx, -1, "performance") || !duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        duk_dup(ctx, -1);
        duk_put_prop_string(ctx, -3, "performance");
    }
    duk_push_string(ctx, "now");
    duk_push_c_function(ctx, native_hrnow, 0);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "now");
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_WRITABLE |
                     DUK_DEFPROP_SET_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    /* timeOrigin is wall-clock milliseconds at the origin, as in Node. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double wall_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    duk_push_string(ctx, "timeOrigin");
    duk_push_number(ctx, wall_ms - (double)(evl__duk_now_ns() - d->time_origin_ns) / 1e6);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop_2(ctx);
    return 0;
}

struct argv_args {
    struct evl_duk *d;
    int argc;
    char *const *argv;
};

static duk_ret_t set_argv_safe(duk_context *ctx, void *udata)
{
    const struct argv_args *a = udata;
    evl__duk_push_ref(a->d, a->d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    duk_push_array(ctx);
    for (int i = 0; i < a->argc; i++) {
        duk_push_string(ctx, a->argv[i]);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t)i);
    }
    duk_put_prop_string(ctx, -2, "argv");
    if (a->argc > 0) {
        duk_push_string(ctx, a->argv[0]);
        duk_put_prop_string(ctx, -2, "argv0");
        duk_push_string(ctx, a->argv[0]);
        duk_put_prop_string(ctx, -2, "execPath");
    }
    duk_pop_2(ctx);
    return 0;
}

int evl_duk_set_argv(duk_context *ctx, int argc, char *const *argv)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (argc < 0 || (argc > 0 && !argv)) {
        return EVL_EINVAL;
    }
    struct argv_args a = {d, argc, argv};
    int rc = duk_safe_call(ctx, set_argv_safe, &a, 0, 1) == DUK_EXEC_SUCCESS ? 0 : EVL_ENOMEM;
    duk_pop(ctx);
    return rc;
}

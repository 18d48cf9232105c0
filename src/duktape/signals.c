/*
 * Signals for the process object: the natives behind process.on('SIGINT', ...) and
 * process.kill. process.js starts a watcher when the first listener of a signal is added and
 * stops it when the last one goes, as Node does; like Node's, the watchers do not keep the
 * process alive, and while none exists the signal has its default action (SIGINT and
 * SIGTERM end the process, status 128 + signal in a shell).
 *
 *   native.signals                 { SIGHUP: 1, ... } for this platform
 *   native.signalWatch(signum, fn) starts a watcher calling fn(name) per delivery; returns
 *                                  its id
 *   native.signalUnwatch(id)       stops it
 *   native.kill(pid, signum)       kill(2); throws Node's system error ("kill ESRCH")
 */
#include "duktape/signals.h"

#include "duktape/bootstrap.h"
#include "duktape/error.h"
#include "duktape/process.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

struct evl_duk_sigwatch {
    struct evl_duk_sigwatch *next;
    struct evl_duk *d;
    uint64_t id;
    uint32_t fn_ref;
    int signum;
};

static const struct {
    const char *name;
    int signum;
} signal_table[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
    {"SIGILL", SIGILL},       {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},
    {"SIGIOT", SIGIOT},       {"SIGBUS", SIGBUS},   {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2},     {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},
    {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP},
    {"SIGTSTP", SIGTSTP},     {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},
    {"SIGURG", SIGURG},       {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},
#ifdef SIGPOLL
    {"SIGPOLL", SIGPOLL},
#endif
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
    {"SIGSYS", SIGSYS},
};

static const char *signal_name(int signum)
{
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
        if (signal_table[i].signum == signum) {
            return signal_table[i].name;
        }
    }
    return "SIGUNKNOWN";
}

static struct evl_duk *binding_or_throw(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d || evl__duk_terminated(d)) {
        (void)duk_error(ctx, DUK_ERR_ERROR, "evl: the process is exiting");
    }
    return d;
}

static int sigwatch_live(struct evl_duk *d, uint64_t id)
{
    for (const struct evl_duk_sigwatch *x = d->sigwatches; x; x = x->next) {
        if (x->id == id) {
            return 1;
        }
    }
    return 0;
}

static void on_signal(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)loop;
    (void)id;
    struct evl_duk_sigwatch *w = arg;
    struct evl_duk *d = w->d;
    /* One emit per delivery, as libuv reports them. fn may stop this watcher (and a new one
     * may reuse its memory), so it is looked up again by its id, which is never reused. */
    uint32_t fn_ref = w->fn_ref;
    uint64_t wid = w->id;
    for (uint32_t i = 0; i < count && !evl__duk_terminated(d); i++) {
        evl__duk_push_ref(d, fn_ref);
        duk_push_undefined(d->ctx);
        duk_push_string(d->ctx, signal_name(signum));
        (void)evl__duk_call_method_guarded(d, 1);
        duk_pop(d->ctx);
        if (!sigwatch_live(d, wid)) {
            break;
        }
    }
}

static duk_ret_t native_signal_watch(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    int signum = duk_require_int(ctx, 0);
    duk_require_function(ctx, 1);
    struct evl_duk_sigwatch *w = evl_calloc(1, sizeof(*w));
    if (!w) {
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    w->d = d;
    w->signum = signum;
    w->fn_ref = evl__duk_ref(d, 1);
    int rc = w->fn_ref ? evl_signal_start(d->loop, signum, on_signal, w, &w->id) : EVL_ENOMEM;
    if (rc != 0) {
        evl__duk_unref(d, w->fn_ref);
        evl_free(w);
        /* Node: uv_signal_start's error, e.g. EINVAL for SIGKILL and SIGSTOP. */
        int code = rc == EVL_EINVAL ? EVL_ESYS(EINVAL) : rc;
        char msg[96];
        snprintf(msg, sizeof(msg), "uv_signal_start %s", evl_err_name(code));
        evl__duk_push_error_code(ctx, code, "uv_signal_start", msg);
        return duk_throw(ctx);
    }
    (void)evl_signal_unref(d->loop, w->id);
    w->next = d->sigwatches;
    d->sigwatches = w;
    duk_push_number(ctx, (double)w->id);
    return 1;
}

static void sigwatch_free(struct evl_duk *d, struct evl_duk_sigwatch *w)
{
    (void)evl_signal_stop(d->loop, w->id);
    if (d->ctx) {
        evl__duk_unref(d, w->fn_ref);
    }
    evl_free(w);
}

static duk_ret_t native_signal_unwatch(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    uint64_t id = (uint64_t)duk_require_number(ctx, 0);
    for (struct evl_duk_sigwatch **pp = d ? &d->sigwatches : NULL; pp && *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct evl_duk_sigwatch *w = *pp;
            *pp = w->next;
            sigwatch_free(d, w);
            break;
        }
    }
    return 0;
}

static duk_ret_t native_kill(duk_context *ctx)
{
    (void)binding_or_throw(ctx);
    pid_t pid = (pid_t)duk_require_int(ctx, 0);
    int signum = duk_require_int(ctx, 1);
    if (kill(pid, signum) != 0) {
        int code = evl_err_from_errno(errno);
        char msg[64];
        snprintf(msg, sizeof(msg), "kill %s", evl_err_name(code));
        evl__duk_push_error_code(ctx, code, "kill", msg);
        return duk_throw(ctx);
    }
    return 0;
}

int evl__duk_signals_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    evl__duk_push_natives(d);
    duk_push_object(ctx);
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
        duk_push_int(ctx, signal_table[i].signum);
        duk_put_prop_string(ctx, -2, signal_table[i].name);
    }
    duk_put_prop_string(ctx, -2, "signals");
    evl__duk_put_native(ctx, "signalWatch", native_signal_watch, 2);
    evl__duk_put_native(ctx, "signalUnwatch", native_signal_unwatch, 1);
    evl__duk_put_native(ctx, "kill", native_kill, 2);
    duk_pop(ctx);
    return 0;
}

void evl__duk_signals_release(struct evl_duk *d)
{
    while (d->sigwatches) {
        struct evl_duk_sigwatch *w = d->sigwatches;
        d->sigwatches = w->next;
        sigwatch_free(d, w);
    }
}

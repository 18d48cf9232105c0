/*
 * HostPromiseRejectionTracker. "reject" (rejected while unhandled) and "handle" (a handler
 * added to a rejected promise that was unhandled) are recorded as they happen and reported
 * only at the end of the microtask checkpoint, like Node: a promise rejected and handled in
 * the same checkpoint is never reported, and a promise reported as unhandled that gets a
 * handler later produces a handled-later report.
 */
#include "core/promise/promise_internal.h"

#include "core/loop_state.h"
#include "core/metrics/metrics_internal.h"
#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"

#include <stdio.h>

static int push(struct evl_promise ***arr, size_t *n, size_t *cap, struct evl_promise *p)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct evl_promise **na = evl_realloc(*arr, ncap * sizeof(void *));
        if (!na) {
            return EVL_ENOMEM;
        }
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = p;
    p->refs++;
    return 0;
}

static void noop_job(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/*
 * A report recorded outside any callback (host code rejecting a promise before or between
 * runs) would otherwise wait for the checkpoint of the next callback, after timers that
 * Node runs later, and a run with no other work would end without reporting at all. A
 * no-op microtask makes the next run start with a checkpoint and keeps it alive until then.
 */
static void ensure_checkpoint(struct evl__pstate *ps)
{
    struct evl_loop *loop = ps->loop;
    if (!evl__loop_in_callback(loop) && !evl__checkpoint_running(&loop->cp) &&
        !evl__loop_micro_pending(loop)) {
        (void)evl_queue_microtask(loop, noop_job, NULL);
    }
}

void evl__rejection_reject(struct evl_promise *p)
{
    struct evl__pstate *ps = p->ps;
    if (p->flags & EVL__P_TRACKED) {
        return;
    }
    if (push(&ps->unhandled, &ps->n_unhandled, &ps->cap_unhandled, p) != 0) {
        evl_log(ps->loop, EVL_LOG_ERROR, "promise",
                "out of memory tracking an unhandled rejection; it will not be reported");
        return;
    }
    p->flags |= EVL__P_TRACKED;
    ensure_checkpoint(ps);
}

void evl__rejection_handle(struct evl_promise *p)
{
    struct evl__pstate *ps = p->ps;
    /* Not reported yet: the checkpoint will see the handled flag and stay silent. */
    if (!(p->flags & EVL__P_REPORTED)) {
        return;
    }
    p->flags &= ~(uint32_t)EVL__P_REPORTED;
    if (push(&ps->handled, &ps->n_handled, &ps->cap_handled, p) != 0) {
        evl_log(ps->loop, EVL_LOG_ERROR, "promise",
                "out of memory tracking a late rejection handler; it will not be reported");
        return;
    }
    ensure_checkpoint(ps);
}

static void describe(struct evl_promise *p, char *buf, size_t len)
{
    const struct evl_error *err = evl_promise_reason_as_error(p);
    const char *file = NULL;
    int line = 0;
    evl_promise_site(p, &file, &line);
    int n;
    if (err) {
        n = snprintf(buf, len, "%s (%s)", evl_error_message(err),
                     evl_err_name(evl_error_code(err)));
    } else {
        n = snprintf(buf, len, "reason %p", evl_promise_value(p));
    }
    if (file && n >= 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, ", promise created at %s:%d", file, line);
    }
}

static void default_unhandled(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)ud;
    if (!evl_log_enabled(loop, EVL_LOG_WARN)) {
        return;
    }
    char buf[256];
    describe(p, buf, sizeof(buf));
    char msg[320];
    snprintf(msg, sizeof(msg), "unhandled promise rejection: %s", buf);
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "promise", "unhandled_rejection", msg,
                  EVL_LF_STR("reason", buf));
}

static void default_handled_later(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)ud;
    if (!evl_log_enabled(loop, EVL_LOG_WARN)) {
        return;
    }
    char buf[256];
    describe(p, buf, sizeof(buf));
    char msg[320];
    snprintf(msg, sizeof(msg), "promise rejection was handled asynchronously: %s", buf);
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "promise", "rejection_handled_late", msg,
                  EVL_LF_STR("reason", buf));
}

int evl_loop_set_rejection_hooks(struct evl_loop *loop, evl_rejection_cb on_unhandled,
                                 evl_rejection_cb on_handled_later, void *ud)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return EVL_ENOMEM;
    }
    ps->on_unhandled = on_unhandled;
    ps->on_handled_later = on_handled_later;
    ps->rejection_ud = ud;
    return 0;
}

/* The end-of-checkpoint hook. The lists are taken before any report runs, so rejections
 * caused by a report are reported at the end of the next checkpoint. */
void evl__rejection_checkpoint(struct evl_loop *loop, void *ud)
{
    struct evl__pstate *ps = ud;
    if (ps->n_handled == 0 && ps->n_unhandled == 0) {
        return;
    }
    struct evl_promise **handled = ps->handled;
    size_t n_handled = ps->n_handled;
    struct evl_promise **unhandled = ps->unhandled;
    size_t n_unhandled = ps->n_unhandled;
    ps->handled = NULL;
    ps->n_handled = 0;
    ps->cap_handled = 0;
    ps->unhandled = NULL;
    ps->n_unhandled = 0;
    ps->cap_unhandled = 0;

    evl_rejection_cb on_handled =
        ps->on_handled_later ? ps->on_handled_later : default_handled_later;
    evl_rejection_cb on_unhandled = ps->on_unhandled ? ps->on_unhandled : default_unhandled;
    void *hook_ud = ps->rejection_ud;
    for (size_t i = 0; i < n_handled; i++) {
        evl__metrics_rejection(loop, 1);
        on_handled(loop, handled[i], hook_ud);
        evl__promise_release(handled[i]);
    }
    for (size_t i = 0; i < n_unhandled; i++) {
        struct evl_promise *p = unhandled[i];
        p->flags &= ~(uint32_t)EVL__P_TRACKED;
        if (!(p->flags & EVL__P_HANDLED)) {
            p->flags |= EVL__P_REPORTED;
            evl__metrics_rejection(loop, 0);
            on_unhandled(loop, p, hook_ud);
        }
        evl__promise_release(p);
    }
    evl_free(handled);
    evl_free(unhandled);
}

void evl__rejection_deinit(struct evl__pstate *ps)
{
    /* Teardown drops pending reports: there is no checkpoint left to deliver them. */
    for (size_t i = 0; i < ps->n_handled; i++) {
        evl__promise_release(ps->handled[i]);
    }
    for (size_t i = 0; i < ps->n_unhandled; i++) {
        ps->unhandled[i]->flags &= ~(uint32_t)EVL__P_TRACKED;
        evl__promise_release(ps->unhandled[i]);
    }
    evl_free(ps->handled);
    evl_free(ps->unhandled);
    ps->handled = NULL;
    ps->unhandled = NULL;
    ps->n_handled = ps->n_unhandled = 0;
    ps->cap_handled = ps->cap_unhandled = 0;
}

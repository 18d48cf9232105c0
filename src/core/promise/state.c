/*
 * The promise module's per-loop state: created on first use, with the checkpoint hook that
 * reports rejections and the teardown that releases it; the per-loop settings (thenable
 * hooks, registry) and statistics. Loop thread only.
 */
#include "core/promise/promise_internal.h"

#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"

#include <string.h>

static void pstate_teardown(struct evl_loop *loop, void *arg);

struct evl__pstate *evl__pstate_create(struct evl_loop *loop)
{
    /* A terminated (or terminating) loop gets no new state: its teardown already ran. */
    if (evl__loop_admission_closed(loop) || evl__loop_tearing_down(loop)) {
        return NULL;
    }
    struct evl__pstate *ps = evl_calloc(1, sizeof(*ps));
    if (!ps) {
        return NULL;
    }
    ps->loop = loop;
    ps->sites.next = &ps->sites;
    ps->sites.prev = &ps->sites;
#ifndef NDEBUG
    ps->registry = true;
#endif
    if (evl__loop_add_checkpoint_hook(loop, evl__rejection_checkpoint, ps) != 0) {
        goto fail_free_state;
    }
    if (evl__loop_at_teardown(loop, pstate_teardown, ps) != 0) {
        evl__loop_remove_checkpoint_hook(loop, evl__rejection_checkpoint, ps);
        goto fail_free_state;
    }
    evl__checkpoint_set_discard(&loop->cp, evl__promise_micro_discard);
    loop->promise_state = ps;
    return ps;

fail_free_state:
    evl_free(ps);
    return NULL;
}

/* ---- Hooks, statistics, registry ---------------------------------------------------------- */

int evl_loop_set_thenable_hooks(struct evl_loop *loop, const struct evl_thenable_hooks *hooks)
{
    struct evl__pstate *ps = NULL;
    int rc = evl__pstate_check(loop, &ps);
    if (rc != 0) {
        return rc;
    }
    if (hooks && hooks->get_then && !hooks->call_then) {
        return EVL_EINVAL; /* the first thenable found would call NULL */
    }
    if (hooks) {
        ps->thenable = *hooks;
        ps->has_thenable = hooks->get_then != NULL;
    } else {
        memset(&ps->thenable, 0, sizeof(ps->thenable));
        ps->has_thenable = false;
    }
    return 0;
}

void *evl_loop_thenable_ud(struct evl_loop *loop)
{
    if (!loop) {
        return NULL;
    }
    struct evl__pstate *ps = loop->promise_state;
    return ps ? ps->thenable.ud : NULL;
}

void evl_loop_promise_stats(struct evl_loop *loop, struct evl_promise_stats *out)
{
    if (!out) {
        return;
    }
    memset(out, 0, sizeof(*out));
    if (!loop) {
        return;
    }
    struct evl__pstate *ps = loop->promise_state;
    if (ps) {
        *out = ps->stats;
        out->settled = ps->stats.live - ps->stats.pending; /* not counted on the hot path */
    }
}

int evl_loop_promise_registry(struct evl_loop *loop, int enable)
{
    struct evl__pstate *ps = NULL;
    int rc = evl__pstate_check(loop, &ps);
    if (rc != 0) {
        return rc;
    }
    ps->registry = enable != 0;
    return 0;
}

size_t evl_loop_promise_dump(struct evl_loop *loop, evl_promise_site_cb cb, void *ud)
{
    if (!loop) {
        return 0;
    }
    struct evl__pstate *ps = loop->promise_state;
    if (!ps) {
        return 0;
    }
    size_t n = 0;
    for (struct evl__site *s = ps->sites.next; s != &ps->sites; s = s->next) {
        if (cb) {
            cb(s->p, s->file, s->line, ud);
        }
        n++;
    }
    return n;
}

void evl_promise_site(const struct evl_promise *p, const char **file, int *line)
{
    const char *f = NULL;
    int l = 0;
    if (p && (p->flags & EVL__P_SITE)) {
        const struct evl__site_promise *sp = (const struct evl__site_promise *)p;
        f = sp->site.file;
        l = sp->site.line;
    }
    if (file) {
        *file = f;
    }
    if (line) {
        *line = l;
    }
}

/* ---- Teardown ------------------------------------------------------------------------------- */

static void report_leak(struct evl_promise *p, const char *file, int line, void *ud)
{
    struct evl__pstate *ps = ud;
    evl_log(ps->loop, EVL_LOG_DEBUG, "promise",
            "promise %p (%s) still live at loop teardown%s%s:%d", (void *)p,
            (p->flags & EVL__P_STATE) == EVL_PROMISE_PENDING ? "pending" : "settled",
            file ? ", created at " : "", file ? file : "", file ? line : 0);
}

static void pstate_teardown(struct evl_loop *loop, void *arg)
{
    struct evl__pstate *ps = arg;
    evl__resolvers_loop_teardown(ps);
    evl__rejection_deinit(ps);
    loop->promise_state = NULL;
    evl__checkpoint_set_discard(&loop->cp, NULL);
    if (ps->stats.live != 0) {
        /* Promises still referenced point at ps: it stays until the last one is released
         * (which must happen before evl_loop_free). Debug builds name their creation sites. */
        evl_log(loop, EVL_LOG_DEBUG, "promise", "%llu promise(s) still live at loop teardown",
                (unsigned long long)ps->stats.live);
        for (struct evl__site *s = ps->sites.next; s != &ps->sites; s = s->next) {
            report_leak(s->p, s->file, s->line, ps);
        }
        ps->closing = true;
        return;
    }
    evl__pstate_free(ps);
}

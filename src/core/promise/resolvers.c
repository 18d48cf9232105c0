/*
 * Resolving functions as objects: struct evl_promise_resolvers (withResolvers, and the
 * functions a thenable job hands to then) on the loop thread, and struct evl_resolver, which
 * settles a promise from any thread by hopping onto its loop with evl_loop_submit.
 */
#include "core/promise/promise_internal.h"

#include "evl/alloc.h"
#include "evl/errno.h"

#include <stdatomic.h>

/* ---- Resolving functions as an object ---------------------------------------------- */

static struct evl_promise_resolvers *resolvers_make(struct evl_promise *p)
{
    struct evl_promise_resolvers *r = evl_malloc(sizeof(*r));
    if (r) {
        r->refs = 1;
        r->fresh = 0;
        r->done = 0;
        r->p = p;
        p->refs++;
    }
    return r;
}

int(evl_promise_with_resolvers)(struct evl_loop *loop, struct evl_promise **promise_out,
                                struct evl_promise_resolvers **resolvers_out)
{
    struct evl__pstate *ps = NULL;
    if (!promise_out || !resolvers_out) {
        return EVL_EINVAL;
    }
    int rc = evl__pstate_check(loop, &ps);
    if (rc != 0) {
        return rc;
    }
    struct evl_promise *p = evl__promise_alloc(ps, 1);
    if (!p) {
        return EVL_ENOMEM;
    }
    struct evl_promise_resolvers *r = resolvers_make(p);
    if (!r) {
        evl__promise_release(p);
        return EVL_ENOMEM;
    }
    *promise_out = p;
    *resolvers_out = r;
    return 0;
}

int evl_promise_resolvers_get(struct evl_promise *p, struct evl_promise_resolvers **out)
{
    if (!p || !out) {
        return EVL_EINVAL;
    }
    struct evl_promise_resolvers *r = resolvers_make(p);
    if (!r) {
        return EVL_ENOMEM;
    }
    *out = r;
    return 0;
}

struct evl_promise_resolvers *evl_promise_resolvers_retain(struct evl_promise_resolvers *r)
{
    if (r) {
        r->refs++;
    }
    return r;
}

void evl_promise_resolvers_release(struct evl_promise_resolvers *r)
{
    if (r && --r->refs == 0) {
        evl__promise_release(r->p);
        evl_free(r);
    }
}

struct evl_promise *evl_promise_resolvers_promise(const struct evl_promise_resolvers *r)
{
    return r ? r->p : NULL;
}

int evl_promise_resolvers_done(const struct evl_promise_resolvers *r)
{
    if (!r) {
        return 1;
    }
    return r->fresh ? r->done : (r->p->flags & EVL__P_RESOLVED) != 0;
}

/* Sets the shared already-resolved flag; EVL_EALREADY if it was set. */
static int resolvers_claim(struct evl_promise_resolvers *r)
{
    if (!r) {
        return EVL_EINVAL;
    }
    if (r->fresh) {
        if (r->done) {
            return EVL_EALREADY;
        }
        r->done = 1;
        return 0;
    }
    if (r->p->flags & EVL__P_RESOLVED) {
        return EVL_EALREADY;
    }
    r->p->flags |= EVL__P_RESOLVED;
    return 0;
}

int evl_resolvers_resolve(struct evl_promise_resolvers *r, void *value, evl_dtor_cb dtor)
{
    int rc = resolvers_claim(r);
    if (rc == 0) {
        struct evl__val v = {value, dtor, NULL};
        evl__promise_do_resolve(r->p, v);
    }
    return rc;
}

int evl_resolvers_resolve_promise(struct evl_promise_resolvers *r, struct evl_promise *q)
{
    if (!q) {
        return EVL_EINVAL;
    }
    int rc = resolvers_claim(r);
    if (rc == 0) {
        evl__promise_do_resolve_promise(r->p, q);
    }
    return rc;
}

int evl_resolvers_reject(struct evl_promise_resolvers *r, void *reason, evl_dtor_cb dtor)
{
    int rc = resolvers_claim(r);
    if (rc == 0) {
        struct evl__val v = {reason, dtor, NULL};
        evl__promise_do_reject(r->p, v);
    }
    return rc;
}

/* ---- Thread-safe resolver --------------------------------------------------------------- */

struct evl_resolver {
    _Atomic uint32_t refs; /* the caller's handle, the loop's list entry, hops in flight */
    _Atomic int used;
    struct evl_loop *loop;
    struct evl__pstate *ps;
    struct evl_promise *p;     /* +1, loop thread; NULL once dropped */
    struct evl_resolver *prev; /* ps->resolvers, loop thread */
    struct evl_resolver *next;
    void *value;
    evl_dtor_cb dtor;
    int reject;
};

static void resolver_unref(struct evl_resolver *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1) {
        evl_free(r);
    }
}

/* Loop thread: drops the promise and the list entry (once). */
static void resolver_detach(struct evl_resolver *r)
{
    if (!r->p) {
        return;
    }
    struct evl__pstate *ps = r->ps;
    if (r->prev) {
        r->prev->next = r->next;
    } else {
        ps->resolvers = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    }
    evl__promise_release(r->p);
    r->p = NULL;
    resolver_unref(r);
}

int evl_resolver_new(struct evl_promise *p, struct evl_resolver **out)
{
    if (!p || !out) {
        return EVL_EINVAL;
    }
    struct evl__pstate *ps = p->ps;
    if (!evl__loop_on_thread(ps->loop)) {
        return EVL_EPERM;
    }
    struct evl_resolver *r = evl_calloc(1, sizeof(*r));
    if (!r) {
        return EVL_ENOMEM;
    }
    atomic_init(&r->refs, 2);
    atomic_init(&r->used, 0);
    r->loop = ps->loop;
    r->ps = ps;
    r->p = p;
    p->refs++;
    r->next = ps->resolvers;
    if (ps->resolvers) {
        ps->resolvers->prev = r;
    }
    ps->resolvers = r;
    *out = r;
    return 0;
}

static void resolver_hop(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_resolver *r = arg;
    struct evl_promise *p = r->p;
    struct evl__val v = {r->value, r->dtor, NULL};
    if (p && !(p->flags & EVL__P_RESOLVED)) {
        p->flags |= EVL__P_RESOLVED;
        if (r->reject) {
            evl__promise_do_reject(p, v);
        } else {
            evl__promise_do_resolve(p, v);
        }
    } else {
        evl__val_drop(r->ps, v);
    }
    resolver_detach(r);
    resolver_unref(r);
}

static void resolver_hop_discard(struct evl_loop *loop, void *arg)
{
    struct evl_resolver *r = arg;
    if (r->dtor) {
        r->dtor(loop, r->value);
    }
    resolver_unref(r);
}

static int resolver_settle(struct evl_resolver *r, void *value, evl_dtor_cb dtor, int reject)
{
    if (!r) {
        return EVL_EINVAL;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&r->used, &expected, 1)) {
        return EVL_EALREADY;
    }
    r->value = value;
    r->dtor = dtor;
    r->reject = reject;
    atomic_fetch_add(&r->refs, 1);
    int rc = evl__loop_submit_internal(r->loop, resolver_hop, resolver_hop_discard, r);
    if (rc != 0) {
        atomic_fetch_sub(&r->refs, 1);
        r->value = NULL;
        r->dtor = NULL;
        atomic_store(&r->used, 0);
    }
    return rc;
}

int evl_resolver_resolve(struct evl_resolver *r, void *value, evl_dtor_cb dtor)
{
    return resolver_settle(r, value, dtor, 0);
}

int evl_resolver_reject(struct evl_resolver *r, void *reason, evl_dtor_cb dtor)
{
    return resolver_settle(r, reason, dtor, 1);
}

static void resolver_release_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_resolver *r = arg;
    resolver_detach(r);
    resolver_unref(r);
}

static void resolver_release_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    /* Loop teardown detaches every resolver still listed. */
    resolver_unref(arg);
}

void evl_resolver_release(struct evl_resolver *r)
{
    if (!r) {
        return;
    }
    if (!atomic_load(&r->used)) {
        /* Never used: the promise reference must be dropped on the loop thread. */
        if (evl__loop_on_thread(r->loop) && evl_loop_state(r->loop) != EVL_LOOP_TERMINATED) {
            resolver_detach(r);
        } else {
            atomic_fetch_add(&r->refs, 1);
            if (evl__loop_submit_internal(r->loop, resolver_release_task, resolver_release_discard,
                                          r) != 0) {
                atomic_fetch_sub(&r->refs, 1);
            }
        }
    }
    resolver_unref(r);
}

void evl__resolvers_loop_teardown(struct evl__pstate *ps)
{
    while (ps->resolvers) {
        resolver_detach(ps->resolvers);
    }
}

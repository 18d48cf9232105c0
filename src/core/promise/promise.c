/*
 * The promise core: records, the resolution procedure, reactions as promise jobs, then and
 * catch, and the promise's own resolving functions. The ECMAScript algorithm names appear in
 * comments where a function implements one, so the code can be read side by side with the
 * specification.
 *
 * Kept in one file because the path of one link (record allocation, then, settlement, the
 * job, release) is a set of small functions the compiler must inline into each other
 * (EVL__HOT_INLINE), so they share one translation unit. Everything off that
 * path lives in the module's other files (see promise.h).
 */
#include "core/promise/promise_internal.h"

#include "core/context/context_internal.h"
#include "core/loop_state.h"
#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/loop.h"
#include "evl/task.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EVL__NO_SLABS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EVL__NO_SLABS 1
#endif
#endif

/* Pooled records: promises and compact reactions share the 32-byte free list, extended
 * reactions (with on_rejected, an arg destructor or a captured context) have a 56-byte
 * one. */
#define EVL__SMALL_SIZE 32
#define EVL__LARGE_SIZE 56
#define EVL__SLAB_BYTES 8192
/* Under sanitizers records go back to the allocator at once, so use-after-free is caught. */

_Static_assert(sizeof(struct evl_promise) <= EVL__SMALL_SIZE, "promise record too large");
_Static_assert(sizeof(struct evl__reaction) <= EVL__SMALL_SIZE, "reaction record too large");
_Static_assert(sizeof(struct evl__reaction_ext) <= EVL__LARGE_SIZE, "reaction too large");

/* The hot path of a link (then, the job, the settlement) is a handful of small functions
 * run once per link; forcing them inline saves a call frame each on that path, which the
 * compiler's own inlining heuristics do not always do. */
#define EVL__HOT_INLINE static inline __attribute__((always_inline))

struct evl__slab {
    struct evl__slab *next;
    alignas(max_align_t) unsigned char objs[];
};

/* The marker arg of the reaction that adoption registers: it settles the target through
 * fresh resolving functions, so the target's own already-resolved flag does not apply. */
static char adopt_marker;

static _Thread_local const char *site_file __attribute__((tls_model("initial-exec")));
static _Thread_local int site_line __attribute__((tls_model("initial-exec")));

void evl_promise_set_site(const char *file, int line)
{
    site_file = file;
    site_line = line;
}

void evl__site_take(const char **file, int *line)
{
    *file = site_file;
    *line = site_line;
    site_file = NULL;
    site_line = 0;
}

static void *obj_refill(struct evl__objpool *pool, size_t size);

static inline void *obj_alloc(struct evl__objpool *pool, size_t size)
{
    void *o = pool->free;
    if (o) {
        void *next = *(void **)o;
        pool->free = next;
        /* A long free list is cold (records recycled from a large batch): fetch the next
         * record now, so the next allocation does not wait for it. */
        __builtin_prefetch(next, 1);
        return o;
    }
    /* Then the unused part of the newest slab, one record at a time. */
    if (pool->bump != pool->bump_end) {
        o = pool->bump;
        pool->bump += size;
        return o;
    }
    return obj_refill(pool, size);
}

/* The free list is empty: a new slab (or, under sanitizers, one record). */
static void *obj_refill(struct evl__objpool *pool, size_t size)
{
#ifdef EVL__NO_SLABS
    (void)pool;
    return evl_malloc(size);
#else
    size_t n = (EVL__SLAB_BYTES - sizeof(struct evl__slab)) / size;
    struct evl__slab *slab = evl_malloc(sizeof(*slab) + n * size);
    if (!slab) {
        return NULL;
    }
    slab->next = pool->slabs;
    pool->slabs = slab;
    /* Keep the first object; the rest are handed out by obj_alloc as needed. */
    pool->bump = slab->objs + size;
    pool->bump_end = slab->objs + n * size;
    return slab->objs;
#endif
}

static inline void obj_free(struct evl__objpool *pool, void *o)
{
#ifdef EVL__NO_SLABS
    (void)pool;
    evl_free(o);
#else
    *(void **)o = pool->free;
    pool->free = o;
#endif
}

static inline struct evl__reaction *reaction_alloc(struct evl__pstate *ps)
{
    struct evl__reaction *rx = obj_alloc(&ps->small, EVL__SMALL_SIZE);
    if (rx) {
        rx->dtag = 0;
    }
    return rx;
}

struct evl__reaction_ext *evl__reaction_ext_alloc(struct evl__pstate *ps)
{
    struct evl__reaction_ext *x = obj_alloc(&ps->large, EVL__LARGE_SIZE);
    if (x) {
        x->rx.dtag = EVL__RX_EXT;
    }
    return x;
}

static inline void reaction_free(struct evl__pstate *ps, struct evl__reaction *rx)
{
    obj_free((rx->dtag & EVL__RX_EXT) ? &ps->large : &ps->small, rx);
}

void evl__reaction_free(struct evl__pstate *ps, struct evl__reaction *rx)
{
    reaction_free(ps, rx);
}

static void objpool_deinit(struct evl__objpool *pool)
{
    while (pool->slabs) {
        struct evl__slab *slab = pool->slabs;
        pool->slabs = slab->next;
        evl_free(slab);
    }
#ifdef EVL__NO_SLABS
    while (pool->free) {
        void *o = pool->free;
        pool->free = *(void **)o;
        evl_free(o);
    }
#endif
}

void evl__pstate_free(struct evl__pstate *ps)
{
    objpool_deinit(&ps->small);
    objpool_deinit(&ps->large);
    evl_free(ps);
}

/* ---- Allocation, release ------------------------------------------------------------- */

/* With the registry on, the record and its site node are one allocation of their own. */
__attribute__((noinline)) static struct evl_promise *promise_alloc_site(struct evl__pstate *ps,
                                                                        int site)
{
    /* The thread-local site is read only with the registry on, keeping the common path free
     * of thread-local accesses. */
    const char *file = NULL;
    int line = 0;
    if (site) {
        evl__site_take(&file, &line);
    }
    struct evl__site_promise *sp = evl_malloc(sizeof(*sp));
    if (!sp) {
        /* The registry is a diagnostic: a promise without a node is still a promise. */
        struct evl_promise *p = obj_alloc(&ps->small, EVL__SMALL_SIZE);
        if (p) {
            p->flags = EVL_PROMISE_PENDING;
        }
        return p;
    }
    struct evl__site *s = &sp->site;
    s->p = &sp->p;
    s->file = file;
    s->line = line;
    s->prev = ps->sites.prev;
    s->next = &ps->sites;
    ps->sites.prev->next = s;
    ps->sites.prev = s;
    sp->p.flags = EVL_PROMISE_PENDING | EVL__P_SITE;
    return &sp->p;
}

static inline struct evl_promise *promise_alloc(struct evl__pstate *ps, int site)
{
    struct evl_promise *p;
    if (ps->registry) {
        p = promise_alloc_site(ps, site);
    } else {
        p = obj_alloc(&ps->small, EVL__SMALL_SIZE);
        if (p) {
            p->flags = EVL_PROMISE_PENDING;
        }
    }
    if (!p) {
        return NULL;
    }
    p->ps = ps;
    p->refs = 1;
    p->value = NULL;
    p->u.dtor = NULL;
    ps->stats.live++;
    ps->stats.pending++;
    ps->stats.created++;
    return p;
}

struct evl_promise *evl__promise_alloc(struct evl__pstate *ps, int site)
{
    return promise_alloc(ps, site);
}

/* Releases the context a reaction captured (EVL__RX_CTX). */
static void rx_release_frame(struct evl__pstate *ps, struct evl__reaction *rx)
{
    if (rx->dtag & EVL__RX_CTX) {
        struct evl__reaction_ext *x = (struct evl__reaction_ext *)rx;
        evl_context_release(ps->loop, x->frame);
        x->frame = NULL;
    }
}

static void drop_reaction(struct evl__pstate *ps, struct evl__reaction *rx)
{
    rx_release_frame(ps, rx);
    evl_dtor_cb arg_dtor = evl__rx_arg_dtor(rx);
    if (arg_dtor) {
        arg_dtor(ps->loop, rx->arg);
    }
    struct evl_promise *d = evl__rx_derived(rx);
    if (d) {
        evl__promise_release(d);
    }
    reaction_free(ps, rx);
}

void evl__val_drop(struct evl__pstate *ps, struct evl__val v)
{
    if (v.owner) {
        evl__promise_release(v.owner);
    } else if (v.dtor) {
        v.dtor(ps->loop, v.ptr);
    }
}

/* Frees one promise whose last reference went. Anything it releases in turn goes onto the
 * work list, so freeing a million-link pending chain does not recurse a million deep. */
static void promise_free_one(struct evl_promise *p, struct evl__pstate *ps)
{
    unsigned state = p->flags & EVL__P_STATE;
    if (state == EVL_PROMISE_PENDING) {
        struct evl__reaction *tail = p->value;
        if (tail) {
            struct evl__reaction *rx = tail->next;
            tail->next = NULL;
            while (rx) {
                struct evl__reaction *next = rx->next;
                drop_reaction(ps, rx);
                rx = next;
            }
        }
        ps->stats.pending--;
    } else {
        if (p->flags & EVL__P_SHARED) {
            evl__promise_release(p->u.owner);
        } else if (p->u.dtor) {
            p->u.dtor(ps->loop, p->value);
        }
    }
    ps->stats.live--;
    if (p->flags & EVL__P_SITE) {
        struct evl__site_promise *sp = (struct evl__site_promise *)p;
        sp->site.prev->next = sp->site.next;
        sp->site.next->prev = sp->site.prev;
        evl_free(sp);
    } else {
        obj_free(&ps->small, p);
    }
}

/* Frees p at once if that releases nothing else: a settled promise that owns no value
 * destructor and shares nothing, or a pending one without reactions. Returns false if the
 * general path is needed. */
static inline bool free_simple(struct evl_promise *p)
{
    struct evl__pstate *ps = p->ps;
    unsigned flags = p->flags;
    if ((flags & (EVL__P_SHARED | EVL__P_SITE)) || p->u.dtor || ps->closing) {
        return false;
    }
    if ((flags & EVL__P_STATE) == EVL_PROMISE_PENDING) {
        if (p->value) {
            return false;
        }
        ps->stats.pending--;
    }
    ps->stats.live--;
    obj_free(&ps->small, p);
    return true;
}

/* evl__promise_release for the hot paths of this file (the simple free inline). */
EVL__HOT_INLINE void release(struct evl_promise *p)
{
    if (--p->refs == 0 && !free_simple(p)) {
        evl__promise_free(p);
    }
}

void evl__promise_free(struct evl_promise *p)
{
    struct evl__pstate *ps = p->ps;
    if (free_simple(p)) {
        return;
    }
    if (ps->freeing) {
        /* While on the work list, p->ps links the list (every entry shares ps). */
        p->ps = (struct evl__pstate *)ps->free_work;
        ps->free_work = p;
        return;
    }
    ps->freeing = true;
    promise_free_one(p, ps);
    while (ps->free_work) {
        struct evl_promise *q = ps->free_work;
        ps->free_work = (struct evl_promise *)q->ps;
        q->ps = ps;
        promise_free_one(q, ps);
    }
    ps->freeing = false;
    if (ps->closing && ps->stats.live == 0) {
        evl__pstate_free(ps);
    }
}

/* ---- Settlement ---------------------------------------------------------------------- */

static void reaction_job(struct evl_loop *loop, void *arg);

/* The job of rx could not be queued: the loop is closed (or out of memory), so it can never
 * run and the reaction is dropped the way a reaction of a freed pending promise is. Out of
 * memory, the derived promise is rejected with the error, as if the handler had thrown it:
 * a dropped reaction would leave it pending for ever. */
__attribute__((noinline)) static void enqueue_failed(struct evl_promise *p,
                                                     struct evl__reaction *rx, int rc)
{
    struct evl__pstate *ps = p->ps;
    if (rc != EVL_ECLOSED) {
        evl_log(ps->loop, EVL_LOG_ERROR, "promise", "cannot queue a promise job: %s",
                evl_strerror(rc));
        struct evl_promise *d = evl__rx_derived(rx);
        if (d && !(d->flags & EVL__P_RESOLVED)) {
            d->flags |= EVL__P_RESOLVED;
            evl__promise_do_reject(d, evl__promise_error_val(rc, "cannot queue a promise job"));
        }
    }
    evl__promise_release(p);
    drop_reaction(ps, rx);
}

/* Queues rx as a PromiseReactionJob for the settled promise p (the job holds p). */
EVL__HOT_INLINE void enqueue_job(struct evl_promise *p, struct evl__reaction *rx)
{
    rx->next = p;
    p->refs++;
    int rc = evl__queue_job(p->ps->loop, reaction_job, rx);
    if (rc != 0) {
        enqueue_failed(p, rx, rc);
    }
}

/* TriggerPromiseReactions: one job per reaction, in registration order. */
EVL__HOT_INLINE void settle(struct evl_promise *p, unsigned state, struct evl__val v)
{
    struct evl__pstate *ps = p->ps;
    struct evl__reaction *tail = p->value;
    p->flags = (p->flags & ~EVL__P_STATE) | state;
    p->value = v.ptr;
    if (v.owner) {
        p->flags |= EVL__P_SHARED;
        p->u.owner = v.owner;
    } else {
        p->u.dtor = v.dtor;
    }
    ps->stats.pending--;
    if (state == EVL_PROMISE_REJECTED && !(p->flags & EVL__P_HANDLED)) {
        evl__rejection_reject(p);
    }
    if (tail) {
        struct evl__reaction *rx = tail->next;
        tail->next = NULL;
        while (rx) {
            struct evl__reaction *next = rx->next;
            enqueue_job(p, rx);
            rx = next;
        }
    }
}

struct evl__val evl__promise_share(struct evl_promise *p)
{
    struct evl_promise *owner = (p->flags & EVL__P_SHARED) ? p->u.owner : p;
    owner->refs++;
    struct evl__val v = {p->value, NULL, owner};
    return v;
}

void evl__promise_do_reject(struct evl_promise *p, struct evl__val v)
{
    if ((p->flags & EVL__P_STATE) != EVL_PROMISE_PENDING) {
        evl__val_drop(p->ps, v);
        return;
    }
    settle(p, EVL_PROMISE_REJECTED, v);
}

/* NewPromiseResolveThenableJob for a foreign thenable. */
struct thenable_job {
    struct evl_promise *p; /* +1 */
    struct evl__val v;
    void *then_fn;
    evl_dtor_cb then_dtor;
};

static void thenable_job_run(struct evl_loop *loop, void *arg)
{
    struct thenable_job *job = arg;
    struct evl_promise *p = job->p;
    struct evl__pstate *ps = p->ps;
    struct evl_promise_resolvers *r = evl_malloc(sizeof(*r));
    if (r) {
        r->refs = 1;
        r->fresh = 1;
        r->done = 0;
        r->p = p;
        p->refs++;
        if (ps->has_thenable && ps->thenable.call_then) {
            ps->thenable.call_then(loop, ps->thenable.ud, job->v.ptr, job->then_fn, r);
        }
        evl_promise_resolvers_release(r);
    } else if ((p->flags & EVL__P_STATE) == EVL_PROMISE_PENDING) {
        evl__promise_do_reject(p, evl__promise_error_val(EVL_ENOMEM, NULL));
    }
    if (job->then_dtor) {
        job->then_dtor(loop, job->then_fn);
    }
    evl__val_drop(ps, job->v);
    evl__promise_release(p);
    evl_free(job);
}

/* The resolve function's steps after the self-resolution check, for a non-promise value. */
static void resolve_thenable(struct evl_promise *p, struct evl__val v);

EVL__HOT_INLINE void do_resolve(struct evl_promise *p, struct evl__val v)
{
    struct evl__pstate *ps = p->ps;
    if ((p->flags & EVL__P_STATE) != EVL_PROMISE_PENDING) {
        evl__val_drop(ps, v);
        return;
    }
    if (v.ptr && ps->has_thenable && ps->thenable.get_then) {
        resolve_thenable(p, v);
        return;
    }
    settle(p, EVL_PROMISE_FULFILLED, v);
}

void evl__promise_do_resolve(struct evl_promise *p, struct evl__val v)
{
    do_resolve(p, v);
}

/* do_resolve for a value the thenable hook has to look at. */
__attribute__((noinline)) static void resolve_thenable(struct evl_promise *p, struct evl__val v)
{
    struct evl__pstate *ps = p->ps;
    if ((p->flags & EVL__P_STATE) != EVL_PROMISE_PENDING) {
        evl__val_drop(ps, v);
        return;
    }
    if (v.ptr && ps->has_thenable && ps->thenable.get_then) {
        void *then_fn = NULL;
        evl_dtor_cb then_dtor = NULL;
        int kind = ps->thenable.get_then(ps->loop, ps->thenable.ud, v.ptr, &then_fn, &then_dtor);
        if (kind == EVL_THENABLE_THREW) {
            evl__val_drop(ps, v);
            struct evl__val reason = {then_fn, then_dtor, NULL};
            evl__promise_do_reject(p, reason);
            return;
        }
        if (kind == EVL_THENABLE_YES) {
            struct thenable_job *job = evl_malloc(sizeof(*job));
            int rc = EVL_ENOMEM;
            if (job) {
                job->p = p;
                job->v = v;
                job->then_fn = then_fn;
                job->then_dtor = then_dtor;
                p->refs++;
                rc = evl__queue_job(ps->loop, thenable_job_run, job);
                if (rc != 0) {
                    p->refs--;
                    evl_free(job);
                }
            }
            if (rc != 0) {
                if (then_dtor) {
                    then_dtor(ps->loop, then_fn);
                }
                evl__val_drop(ps, v);
                evl__promise_do_reject(p,
                                       evl__promise_error_val(rc, "cannot queue a thenable job"));
            }
            return;
        }
    }
    settle(p, EVL_PROMISE_FULFILLED, v);
}

static void adopt_job_run(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl__reaction *rx = arg;
    struct evl_promise *q = rx->next;
    rx->next = NULL;
    int rc = evl__promise_perform_then(q, rx);
    if (rc != 0) {
        struct evl_promise *p = evl__rx_derived(rx);
        evl__promise_do_reject(p, evl__promise_error_val(rc, "cannot queue an adoption reaction"));
        drop_reaction(q->ps, rx);
    }
    evl__promise_release(q);
}

/* The resolve function's steps for an evl promise q: self-resolution is a TypeError; any
 * other promise is a thenable whose then is the built-in one, so a
 * NewPromiseResolveThenableJob is queued that registers pass-through reactions on q. */
void evl__promise_do_resolve_promise(struct evl_promise *p, struct evl_promise *q)
{
    struct evl__pstate *ps = p->ps;
    if ((p->flags & EVL__P_STATE) != EVL_PROMISE_PENDING) {
        return;
    }
    if (q == p) {
        evl__promise_do_reject(
            p, evl__promise_error_val(EVL_ETYPE, "Chaining cycle detected for promise"));
        return;
    }
    struct evl__reaction *rx = reaction_alloc(ps);
    if (!rx) {
        evl__promise_do_reject(p, evl__promise_error_val(EVL_ENOMEM, NULL));
        return;
    }
    rx->next = q;
    rx->on_fulfilled = NULL;
    rx->arg = &adopt_marker;
    rx->dtag = (uintptr_t)p;
    p->refs++;
    q->refs++;
    int rc = evl__queue_job(ps->loop, adopt_job_run, rx);
    if (rc != 0) {
        evl__promise_release(q);
        reaction_free(ps, rx);
        evl__promise_do_reject(p, evl__promise_error_val(rc, "cannot queue an adoption job"));
        evl__promise_release(p);
    }
}

/* PerformPromiseThen. Returns 0, or the error of queueing the job on a settled promise;
 * then nothing happened and rx is still the caller's. */
static inline int perform_then(struct evl_promise *p, struct evl__reaction *rx)
{
    unsigned state = p->flags & EVL__P_STATE;
    if (state == EVL_PROMISE_PENDING) {
        struct evl__reaction *tail = p->value;
        if (tail) {
            rx->next = tail->next;
            tail->next = rx;
        } else {
            rx->next = rx;
        }
        p->value = rx;
    } else {
        int rc = evl__queue_job(p->ps->loop, reaction_job, rx);
        if (rc != 0) {
            return rc;
        }
        rx->next = p;
        p->refs++;
        if (state == EVL_PROMISE_REJECTED && !(p->flags & EVL__P_HANDLED)) {
            evl__rejection_handle(p);
        }
    }
    p->flags |= EVL__P_HANDLED;
    return 0;
}

int evl__promise_perform_then(struct evl_promise *p, struct evl__reaction *rx)
{
    return perform_then(p, rx);
}

/* Applies a handler's outcome to the derived promise through its resolving functions. */
static inline void apply_outcome(struct evl_promise *src, struct evl_result *res,
                                 struct evl_promise *d, bool fresh)
{
    struct evl__pstate *ps = src->ps;
    if (d && !fresh) {
        if (d->flags & EVL__P_RESOLVED) {
            d = NULL;
        } else {
            d->flags |= EVL__P_RESOLVED;
        }
    }
    /* One resolve site (the common case, inlined once). */
    struct evl__val v = {NULL, NULL, NULL};
    switch (res->kind) {
    case EVL__OUT_VALUE:
        v = res->val;
        break;
    case EVL__OUT_PROMISE:
        if (d) {
            evl__promise_do_resolve_promise(d, res->promise);
        }
        evl__promise_release(res->promise);
        return;
    case EVL__OUT_REJECT:
        if (d) {
            evl__promise_do_reject(d, res->val);
        } else {
            evl__val_drop(ps, res->val);
        }
        return;
    case EVL__OUT_FORWARD:
        if (!d) {
            return;
        }
        v = evl__promise_share(src);
        if ((src->flags & EVL__P_STATE) != EVL_PROMISE_FULFILLED) {
            evl__promise_do_reject(d, v);
            return;
        }
        break;
    default:
        break;
    }
    if (d) {
        do_resolve(d, v);
    } else {
        evl__val_drop(ps, v);
    }
}

/* Whether outcome res of a reaction whose derived promise nobody asked for could reject
 * that promise, which must then exist so the rejection is tracked (reported if unhandled).
 * A plain fulfilment of an unobserved promise has no effect, so no promise is made for it. */
static bool outcome_may_reject(const struct evl__pstate *ps, const struct evl_promise *src,
                               const struct evl_result *res)
{
    switch (res->kind) {
    case EVL__OUT_NONE:
        return false;
    case EVL__OUT_VALUE:
        return res->val.ptr && ps->has_thenable;
    case EVL__OUT_FORWARD:
        return (src->flags & EVL__P_STATE) != EVL_PROMISE_FULFILLED ||
               (src->value && ps->has_thenable);
    default:
        return true;
    }
}

/* The derived promise of a reaction registered without one (EVL__RX_LAZY), made when the
 * outcome needs it; NULL when it does not (or on allocation failure, logged). */
static struct evl_promise *lazy_derived(struct evl__pstate *ps, struct evl_promise *src,
                                        const struct evl_result *res)
{
    if (!outcome_may_reject(ps, src, res)) {
        return NULL;
    }
    struct evl_promise *d = evl__promise_alloc(ps, 0);
    if (!d) {
        evl_log(ps->loop, EVL_LOG_ERROR, "promise", "cannot create a derived promise: %s",
                evl_strerror(EVL_ENOMEM));
    }
    return d;
}

/* PromiseReactionJob. */
EVL__HOT_INLINE void reaction_run(struct evl_loop *loop, struct evl__reaction *rx)
{
    struct evl_promise *src = rx->next;
    struct evl__pstate *ps = src->ps;
    bool ok = (src->flags & EVL__P_STATE) == EVL_PROMISE_FULFILLED;
    evl_reaction_cb cb = ok ? rx->on_fulfilled : evl__rx_on_rejected(rx);
    /* val and promise are read only for the kinds that set them (evl_result_*). */
    struct evl_result res;
    res.source = src;
    res.kind = EVL__OUT_FORWARD;
    if (cb) {
        res.kind = EVL__OUT_NONE;
        cb(loop, src->value, rx->arg, &res);
    }
    struct evl_promise *d = evl__rx_derived(rx);
    if (rx->dtag & EVL__RX_LAZY) {
        d = lazy_derived(ps, src, &res);
    }
    apply_outcome(src, &res, d, rx->arg == &adopt_marker);
    evl_dtor_cb arg_dtor = evl__rx_arg_dtor(rx);
    if (arg_dtor) {
        arg_dtor(loop, rx->arg);
    }
    if (d) {
        release(d);
    }
    reaction_free(ps, rx);
    release(src);
}

static void reaction_run_in_context(struct evl_loop *loop, struct evl__reaction *rx);

static void reaction_job(struct evl_loop *loop, void *arg)
{
    struct evl__reaction *rx = arg;
    if (__builtin_expect((rx->dtag & EVL__RX_CTX) != 0, 0)) {
        reaction_run_in_context(loop, rx);
        return;
    }
    reaction_run(loop, rx);
}

/* A reaction whose then captured a context: the job runs inside it (HostCallJobCallback).
 * It calls the plain job (its tag cleared), so the job's body is inlined once. */
__attribute__((noinline)) static void reaction_run_in_context(struct evl_loop *loop,
                                                              struct evl__reaction *rx)
{
    struct evl__reaction_ext *x = (struct evl__reaction_ext *)rx;
    struct evl_context_frame *frame = x->frame; /* the job's reference, released below */
    x->frame = NULL;
    rx->dtag &= ~(uintptr_t)EVL__RX_CTX;
    struct evl_context_scope sc;
    evl_context_enter(loop, frame, &sc);
    reaction_job(loop, rx);
    evl_context_leave(loop, &sc);
    evl_context_release(loop, frame);
}

/* ---- Handler outcomes ----------------------------------------------------------------- */

int evl_result_resolve(struct evl_result *result, void *value, evl_dtor_cb dtor)
{
    if (!result) {
        return EVL_EINVAL;
    }
    if (result->kind != EVL__OUT_NONE) {
        return EVL_EALREADY;
    }
    result->kind = EVL__OUT_VALUE;
    result->val.ptr = value;
    result->val.dtor = dtor;
    result->val.owner = NULL;
    return 0;
}

int evl_result_resolve_promise(struct evl_result *result, struct evl_promise *q)
{
    if (!result || !q) {
        return EVL_EINVAL;
    }
    if (result->kind != EVL__OUT_NONE) {
        return EVL_EALREADY;
    }
    result->kind = EVL__OUT_PROMISE;
    result->promise = q;
    q->refs++;
    return 0;
}

int evl_result_reject(struct evl_result *result, void *reason, evl_dtor_cb dtor)
{
    int rc = evl_result_resolve(result, reason, dtor);
    if (rc == 0) {
        result->kind = EVL__OUT_REJECT;
    }
    return rc;
}

int evl_result_forward(struct evl_result *result)
{
    if (!result || !result->source) {
        return EVL_EINVAL;
    }
    if (result->kind != EVL__OUT_NONE) {
        return EVL_EALREADY;
    }
    result->kind = EVL__OUT_FORWARD;
    return 0;
}

struct evl_promise *evl_result_source(const struct evl_result *result)
{
    return result ? result->source : NULL;
}

/* The shared start of evl_promise_new/resolved/rejected: checks, then a pending record. */
static EVL__ALWAYS_INLINE int promise_start(struct evl_loop *loop, struct evl_promise **out,
                                            struct evl_promise **p)
{
    struct evl__pstate *ps = NULL;
    if (!out) {
        return EVL_EINVAL;
    }
    int rc = evl__pstate_check(loop, &ps);
    if (rc != 0) {
        return rc;
    }
    *p = evl__promise_alloc(ps, 1);
    return *p ? 0 : EVL_ENOMEM;
}

int(evl_promise_new)(struct evl_loop *loop, struct evl_promise **out)
{
    struct evl_promise *p = NULL;
    int rc = promise_start(loop, out, &p);
    if (rc != 0) {
        return rc;
    }
    *out = p;
    return 0;
}

int(evl_promise_resolved)(struct evl_loop *loop, void *value, evl_dtor_cb dtor,
                          struct evl_promise **out)
{
    struct evl_promise *p = NULL;
    int rc = promise_start(loop, out, &p);
    if (rc != 0) {
        return rc;
    }
    p->flags |= EVL__P_RESOLVED;
    struct evl__val v = {value, dtor, NULL};
    evl__promise_do_resolve(p, v);
    *out = p;
    return 0;
}

struct evl_promise *evl_promise_resolved_promise(struct evl_promise *p)
{
    return evl_promise_retain(p);
}

int(evl_promise_rejected)(struct evl_loop *loop, void *reason, evl_dtor_cb dtor,
                          struct evl_promise **out)
{
    struct evl_promise *p = NULL;
    int rc = promise_start(loop, out, &p);
    if (rc != 0) {
        return rc;
    }
    p->flags |= EVL__P_RESOLVED;
    struct evl__val v = {reason, dtor, NULL};
    evl__promise_do_reject(p, v);
    *out = p;
    return 0;
}

struct evl_promise *evl_promise_retain(struct evl_promise *p)
{
    if (p) {
        p->refs++;
    }
    return p;
}

void evl_promise_release(struct evl_promise *p)
{
    if (p) {
        release(p);
    }
}

/* ---- The promise's own resolving functions ------------------------------------------- */

static inline int claim(struct evl_promise *p)
{
    if (!p) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(p->ps->loop)) {
        return EVL_EPERM;
    }
    if (p->flags & EVL__P_RESOLVED) {
        return EVL_EALREADY;
    }
    p->flags |= EVL__P_RESOLVED;
    return 0;
}

int evl_promise_resolve(struct evl_promise *p, void *value, evl_dtor_cb dtor)
{
    int rc = claim(p);
    if (rc == 0) {
        struct evl__val v = {value, dtor, NULL};
        do_resolve(p, v);
    }
    return rc;
}

int evl_promise_resolve_promise(struct evl_promise *p, struct evl_promise *q)
{
    if (!q) {
        return EVL_EINVAL;
    }
    int rc = claim(p);
    if (rc == 0) {
        evl__promise_do_resolve_promise(p, q);
    }
    return rc;
}

int evl_promise_reject(struct evl_promise *p, void *reason, evl_dtor_cb dtor)
{
    int rc = claim(p);
    if (rc == 0) {
        struct evl__val v = {reason, dtor, NULL};
        evl__promise_do_reject(p, v);
    }
    return rc;
}

/* ---- then, catch ----------------------------------------------------------------------- */

/* then's body once the checks passed; frame: the context then captured (+1, moved into the
 * reaction), NULL on the common path, where the constant drops its branches. */
EVL__HOT_INLINE int then_body(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                              evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                              struct evl_promise **out, int site, struct evl_context_frame *frame)
{
    struct evl__pstate *ps = p->ps;
    int rc;
    struct evl__reaction *rx;
    if (on_rejected || arg_dtor || frame) {
        struct evl__reaction_ext *x = evl__reaction_ext_alloc(ps);
        if (!x) {
            evl_context_release(ps->loop, frame);
            return EVL_ENOMEM;
        }
        x->on_rejected = on_rejected;
        x->arg_dtor = arg_dtor;
        x->frame = frame;
        if (frame) {
            x->rx.dtag |= EVL__RX_CTX;
        }
        rx = &x->rx;
    } else {
        rx = reaction_alloc(ps);
        if (!rx) {
            return EVL_ENOMEM;
        }
    }
    rx->on_fulfilled = on_fulfilled;
    rx->arg = arg;
    /* The derived promise exists when the caller wants it; otherwise it is made in the job
     * only if the outcome could reject it, so the rejection is still reported as unhandled,
     * as in JavaScript (an unobserved fulfilled promise has no effect). */
    struct evl_promise *d = NULL;
    if (out) {
        d = promise_alloc(ps, site);
        if (!d) {
            rx_release_frame(ps, rx);
            reaction_free(ps, rx);
            return EVL_ENOMEM;
        }
        rx->dtag |= (uintptr_t)d;
    } else {
        rx->dtag |= EVL__RX_LAZY;
    }
    rc = perform_then(p, rx);
    if (rc != 0) {
        rx_release_frame(ps, rx);
        reaction_free(ps, rx);
        if (d) {
            evl__promise_release(d);
        }
        return rc;
    }
    if (out) {
        d->refs++;
        *out = d;
    }
    return 0;
}

/* then while a context is current: captured here (HostMakeJobCallback), so the reaction
 * runs in the context of the then call. Out of line: the common then never comes here. */
__attribute__((noinline)) static int
then_captured(struct evl_promise *p, evl_reaction_cb on_fulfilled, evl_reaction_cb on_rejected,
              void *arg, evl_dtor_cb arg_dtor, struct evl_promise **out, int site)
{
    struct evl_context_frame *frame = NULL;
    int rc = evl__context_capture_hot(p->ps->loop, &frame);
    if (rc != 0) {
        return rc;
    }
    return then_body(p, on_fulfilled, on_rejected, arg, arg_dtor, out, site, frame);
}

EVL__HOT_INLINE int then_impl(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                              evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                              struct evl_promise **out, int site)
{
    if (!p) {
        return EVL_EINVAL;
    }
    struct evl_loop *loop = p->ps->loop;
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (__builtin_expect(evl__loop_context_active(loop), 0)) {
        return then_captured(p, on_fulfilled, on_rejected, arg, arg_dtor, out, site);
    }
    return then_body(p, on_fulfilled, on_rejected, arg, arg_dtor, out, site, NULL);
}

int(evl_promise_then)(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                      evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                      struct evl_promise **out)
{
    return then_impl(p, on_fulfilled, on_rejected, arg, arg_dtor, out, 1);
}

int(evl_promise_catch)(struct evl_promise *p, evl_reaction_cb on_rejected, void *arg,
                       evl_dtor_cb arg_dtor, struct evl_promise **out)
{
    return then_impl(p, NULL, on_rejected, arg, arg_dtor, out, 1);
}

int evl__promise_then(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                      evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                      struct evl_promise **out, int site)
{
    return then_impl(p, on_fulfilled, on_rejected, arg, arg_dtor, out, site);
}

/* ---- Inspection ------------------------------------------------------------------------ */

enum evl_promise_state evl_promise_state(const struct evl_promise *p)
{
    return p ? (enum evl_promise_state)(p->flags & EVL__P_STATE) : EVL_PROMISE_PENDING;
}

void *evl_promise_value(const struct evl_promise *p)
{
    if (!p || (p->flags & EVL__P_STATE) == EVL_PROMISE_PENDING) {
        return NULL;
    }
    return p->value;
}

struct evl_loop *evl_promise_loop(const struct evl_promise *p)
{
    return p ? p->ps->loop : NULL;
}

const struct evl_error *evl_promise_reason_as_error(const struct evl_promise *p)
{
    if (!p || (p->flags & EVL__P_STATE) != EVL_PROMISE_REJECTED) {
        return NULL;
    }
    const struct evl_promise *owner = (p->flags & EVL__P_SHARED) ? p->u.owner : p;
    if (evl__error_is(owner->value, owner->u.dtor)) {
        return owner->value;
    }
    return NULL;
}

int evl_promise_is_handled(const struct evl_promise *p)
{
    return p && (p->flags & EVL__P_HANDLED) != 0;
}

void evl_promise_mark_handled(struct evl_promise *p)
{
    if (p) {
        p->flags |= EVL__P_HANDLED;
    }
}

void evl_promise_mark_exposed(struct evl_promise *p)
{
    if (p) {
        p->flags |= EVL__P_EXPOSED;
    }
}

int evl_promise_is_exposed(const struct evl_promise *p)
{
    return p && (p->flags & EVL__P_EXPOSED) != 0;
}

/* Close drops queued microtasks; the promise jobs among them release what they hold (the
 * reactions' arg destructors run, references are dropped). */
void evl__promise_micro_discard(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    (void)loop;
    if (fn == reaction_job) {
        struct evl__reaction *rx = arg;
        struct evl_promise *src = rx->next;
        struct evl__pstate *ps = src->ps;
        drop_reaction(ps, rx);
        evl__promise_release(src);
    } else if (fn == adopt_job_run) {
        struct evl__reaction *rx = arg;
        struct evl_promise *q = rx->next;
        struct evl__pstate *ps = q->ps;
        drop_reaction(ps, rx);
        evl__promise_release(q);
    } else if (fn == thenable_job_run) {
        struct thenable_job *job = arg;
        struct evl__pstate *ps = job->p->ps;
        if (job->then_dtor) {
            job->then_dtor(loop, job->then_fn);
        }
        evl__val_drop(ps, job->v);
        evl__promise_release(job->p);
        evl_free(job);
    }
}

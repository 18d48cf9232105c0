/*
 * Promise.all, allSettled, any and race with the specification's structure: for each input,
 * PromiseResolve then Invoke(then) with per-element functions guarded by alreadyCalled, and a
 * remaining-elements counter that starts at 1 and is decremented after the loop. Following
 * the structure (not just the results) is what makes settle turns match Node.
 */
#include "core/promise/promise_internal.h"

#include "evl/alloc.h"
#include "evl/errno.h"

enum comb_kind { COMB_ALL, COMB_ALL_SETTLED, COMB_ANY, COMB_RACE };

struct comb;

struct comb_elem {
    struct comb *c;
    size_t index;
    bool called; /* the element function's [[AlreadyCalled]] */
};

struct comb {
    enum comb_kind kind;
    size_t remaining;        /* remainingElementsCount */
    size_t refs;             /* element reactions still registered, + 1 while building */
    struct evl_values *list; /* values (all, allSettled) or errors (any); NULL once handed on */
    struct evl_promise *cap; /* the result promise (+1) */
    struct comb_elem elems[];
};

static void comb_unref(struct comb *c)
{
    if (--c->refs != 0) {
        return;
    }
    evl__values_free(c->list);
    evl__promise_release(c->cap);
    evl_free(c);
}

static void elem_done(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct comb_elem *e = arg;
    comb_unref(e->c);
}

/* The capability's resolve/reject functions: the result promise's own flag guards them. */
static bool cap_claim(struct evl_promise *cap)
{
    if (cap->flags & EVL__P_RESOLVED) {
        return false;
    }
    cap->flags |= EVL__P_RESOLVED;
    return true;
}

static void cap_resolve_shared(struct evl_promise *cap, struct evl_promise *src)
{
    if (cap_claim(cap)) {
        evl__promise_do_resolve(cap, evl__promise_share(src));
    }
}

static void cap_reject_shared(struct evl_promise *cap, struct evl_promise *src)
{
    if (cap_claim(cap)) {
        evl__promise_do_reject(cap, evl__promise_share(src));
    }
}

/* Resolves the result with the collected list (an evl_values is never a thenable, so the
 * resolve function fulfils with it directly). */
static void cap_fulfil_list(struct comb *c)
{
    struct evl_values *list = c->list;
    c->list = NULL;
    if (!cap_claim(c->cap)) {
        evl__values_free(list);
        return;
    }
    struct evl__val v = {list, evl__values_dtor, NULL};
    evl__promise_do_resolve(c->cap, v);
}

static void cap_reject_aggregate(struct comb *c)
{
    struct evl_values *list = c->list;
    c->list = NULL;
    if (!cap_claim(c->cap)) {
        evl__values_free(list);
        return;
    }
    evl__promise_do_reject(c->cap, evl__values_aggregate_error(list));
}

/* Promise.all Resolve Element Functions and Promise.allSettled's two element functions. */
static void record_element(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct comb_elem *e = arg;
    struct comb *c = e->c;
    if (e->called) {
        return;
    }
    e->called = true;
    evl__values_set(c->list, e->index, result->source);
    if (--c->remaining == 0) {
        cap_fulfil_list(c);
    }
}

/* Promise.any Reject Element Functions. */
static void any_reject_element(struct evl_loop *loop, void *value, void *arg,
                               struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct comb_elem *e = arg;
    struct comb *c = e->c;
    if (e->called) {
        return;
    }
    e->called = true;
    evl__values_set(c->list, e->index, result->source);
    if (--c->remaining == 0) {
        cap_reject_aggregate(c);
    }
}

static void cap_resolve_handler(struct evl_loop *loop, void *value, void *arg,
                                struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct comb_elem *e = arg;
    cap_resolve_shared(e->c->cap, result->source);
}

static void cap_reject_handler(struct evl_loop *loop, void *value, void *arg,
                               struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct comb_elem *e = arg;
    cap_reject_shared(e->c->cap, result->source);
}

static int combinator(struct evl_loop *loop, enum comb_kind kind,
                      const struct evl_promise_input *inputs, size_t n, struct evl_promise **out)
{
    if (!loop || !out || (n > 0 && !inputs)) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return EVL_ENOMEM;
    }
    if (n > (SIZE_MAX - sizeof(struct comb)) / sizeof(struct comb_elem) / 2) {
        return EVL_ENOMEM;
    }
    /* Everything that can fail is allocated before the first input is touched, so a failed
     * call registers nothing and leaves plain values with the caller. */
    struct evl_promise *cap = evl__promise_alloc(ps, 1);
    if (!cap) {
        return EVL_ENOMEM;
    }
    struct comb *c = evl_malloc(sizeof(*c) + n * sizeof(c->elems[0]));
    if (!c) {
        goto fail_release_cap;
    }
    c->kind = kind;
    c->remaining = 1;
    c->refs = 1;
    c->cap = cap;
    c->list = NULL;
    if (kind != COMB_RACE) {
        c->list = evl__values_new(n);
        if (!c->list) {
            goto fail_free_comb;
        }
    }
    /* Reaction records and the promises PromiseResolve makes for plain values are
     * preallocated as two singly linked stacks. */
    struct evl__reaction *rxs = NULL;
    struct evl_promise *fresh = NULL;
    for (size_t i = 0; i < n; i++) {
        struct evl__reaction_ext *x = evl__reaction_ext_alloc(ps);
        if (!x) {
            goto fail_free_records;
        }
        x->rx.next = rxs;
        rxs = &x->rx;
        if (!inputs[i].promise) {
            struct evl_promise *p = evl__promise_alloc(ps, 0);
            if (!p) {
                goto fail_free_records;
            }
            p->value = fresh;
            fresh = p;
        }
    }

    for (size_t i = 0; i < n; i++) {
        struct comb_elem *e = &c->elems[i];
        e->c = c;
        e->index = i;
        e->called = false;
        /* PromiseResolve(C, next): an evl promise is used as is; a value gets a new promise
         * resolved with it (the thenable hook runs here, in input order). */
        struct evl_promise *next = inputs[i].promise;
        if (next) {
            next->refs++;
        } else {
            next = fresh;
            fresh = next->value;
            next->value = NULL;
            next->flags |= EVL__P_RESOLVED;
            struct evl__val v = {inputs[i].value, inputs[i].dtor, NULL};
            evl__promise_do_resolve(next, v);
        }
        c->remaining++;
        struct evl__reaction *rx = rxs;
        struct evl__reaction_ext *x = (struct evl__reaction_ext *)rx;
        rxs = rx->next;
        switch (kind) {
        case COMB_ALL:
            rx->on_fulfilled = record_element;
            x->on_rejected = cap_reject_handler;
            break;
        case COMB_ALL_SETTLED:
            rx->on_fulfilled = record_element;
            x->on_rejected = record_element;
            break;
        case COMB_ANY:
            rx->on_fulfilled = cap_resolve_handler;
            x->on_rejected = any_reject_element;
            break;
        default:
            rx->on_fulfilled = cap_resolve_handler;
            x->on_rejected = cap_reject_handler;
            break;
        }
        rx->arg = e;
        x->arg_dtor = elem_done;
        rx->dtag = EVL__RX_EXT; /* no derived promise: the element functions return nothing */
        c->refs++;
        int rc = evl__promise_perform_then(next, rx);
        evl__promise_release(next);
        if (rc != 0) {
            /* IfAbruptRejectPromise: the result is rejected with the error and the
             * remaining inputs are not looked at (their plain values are destroyed, since
             * ownership moved in with the successful call). */
            elem_done(loop, e);
            evl__reaction_free(ps, rx);
            if (cap_claim(cap)) {
                evl__promise_do_reject(cap,
                                       evl__promise_error_val(rc, "cannot queue a promise job"));
            }
            for (size_t j = i + 1; j < n; j++) {
                if (!inputs[j].promise && inputs[j].dtor) {
                    inputs[j].dtor(loop, inputs[j].value);
                }
            }
            while (rxs) {
                struct evl__reaction *spare = rxs;
                rxs = spare->next;
                evl__reaction_free(ps, spare);
            }
            while (fresh) {
                struct evl_promise *spare = fresh;
                fresh = spare->value;
                spare->value = NULL;
                evl__promise_release(spare);
            }
            break;
        }
    }
    if (--c->remaining == 0) {
        if (kind == COMB_ANY) {
            cap_reject_aggregate(c);
        } else if (kind != COMB_RACE) {
            cap_fulfil_list(c);
        }
    }
    cap->refs++;
    *out = cap;
    comb_unref(c);
    return 0;

fail_free_records:
    while (rxs) {
        struct evl__reaction *rx = rxs;
        rxs = rx->next;
        evl__reaction_free(ps, rx);
    }
    while (fresh) {
        struct evl_promise *p = fresh;
        fresh = p->value;
        p->value = NULL;
        evl__promise_release(p);
    }
    evl__values_free(c->list);
fail_free_comb:
    evl_free(c);
fail_release_cap:
    evl__promise_release(cap);
    return EVL_ENOMEM;
}

int(evl_promise_all)(struct evl_loop *loop, const struct evl_promise_input *inputs, size_t n,
                     struct evl_promise **out)
{
    return combinator(loop, COMB_ALL, inputs, n, out);
}

int(evl_promise_all_settled)(struct evl_loop *loop, const struct evl_promise_input *inputs,
                             size_t n, struct evl_promise **out)
{
    return combinator(loop, COMB_ALL_SETTLED, inputs, n, out);
}

int(evl_promise_any)(struct evl_loop *loop, const struct evl_promise_input *inputs, size_t n,
                     struct evl_promise **out)
{
    return combinator(loop, COMB_ANY, inputs, n, out);
}

int(evl_promise_race)(struct evl_loop *loop, const struct evl_promise_input *inputs, size_t n,
                      struct evl_promise **out)
{
    return combinator(loop, COMB_RACE, inputs, n, out);
}

/* ---- finally ---------------------------------------------------------------------------- */

struct finally_ctx {
    evl_promise_fn_cb fn;
    void *arg;
    evl_dtor_cb arg_dtor;
};

static void finally_ctx_dtor(struct evl_loop *loop, void *ptr)
{
    struct finally_ctx *fc = ptr;
    if (fc->arg_dtor) {
        fc->arg_dtor(loop, fc->arg);
    }
    evl_free(fc);
}

/* valueThunk: returns the original value (resolve function, so thenables are looked at). */
static void value_thunk(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct evl_promise *orig = arg;
    struct evl__val v = evl__promise_share(orig);
    result->kind = EVL__OUT_VALUE;
    result->val = v;
}

/* thrower: throws the original reason. */
static void thrower(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct evl_promise *orig = arg;
    result->kind = EVL__OUT_REJECT;
    result->val = evl__promise_share(orig);
}

static void release_promise_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    evl__promise_release(ptr);
}

/* thenFinally and catchFinally: call onFinally, C.resolve(its result), then(valueThunk or
 * thrower), and return that promise (the derived promise adopts it: two more turns). */
static void finally_step(struct evl_loop *loop, void *arg, struct evl_result *result,
                         evl_reaction_cb thunk)
{
    struct finally_ctx *fc = arg;
    struct evl_promise *orig = result->source;
    struct evl__pstate *ps = orig->ps;
    struct evl_result inner;
    inner.source = NULL;
    inner.kind = EVL__OUT_NONE;
    inner.promise = NULL;
    fc->fn(loop, fc->arg, &inner);
    if (inner.kind == EVL__OUT_REJECT) {
        result->kind = EVL__OUT_REJECT;
        result->val = inner.val;
        return;
    }
    /* PromiseResolve(C, result). */
    struct evl_promise *pr;
    if (inner.kind == EVL__OUT_PROMISE) {
        pr = inner.promise;
    } else {
        pr = evl__promise_alloc(ps, 0);
        if (!pr) {
            if (inner.kind == EVL__OUT_VALUE) {
                evl__val_drop(ps, inner.val);
            }
            result->kind = EVL__OUT_REJECT;
            result->val = evl__promise_error_val(EVL_ENOMEM, NULL);
            return;
        }
        pr->flags |= EVL__P_RESOLVED;
        if (inner.kind == EVL__OUT_VALUE) {
            evl__promise_do_resolve(pr, inner.val);
        } else {
            struct evl__val none = {NULL, NULL, NULL};
            evl__promise_do_resolve(pr, none);
        }
    }
    struct evl_promise *d2 = NULL;
    orig->refs++;
    int rc = evl__promise_then(pr, thunk, NULL, orig, release_promise_dtor, &d2, 0);
    evl__promise_release(pr);
    if (rc != 0) {
        evl__promise_release(orig);
        result->kind = EVL__OUT_REJECT;
        result->val = evl__promise_error_val(rc, NULL);
        return;
    }
    result->kind = EVL__OUT_PROMISE;
    result->promise = d2;
}

static void then_finally(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)value;
    finally_step(loop, arg, result, value_thunk);
}

static void catch_finally(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)value;
    finally_step(loop, arg, result, thrower);
}

int(evl_promise_finally)(struct evl_promise *p, evl_promise_fn_cb on_finally, void *arg,
                         evl_dtor_cb arg_dtor, struct evl_promise **out)
{
    if (!on_finally) {
        return (evl_promise_then)(p, NULL, NULL, arg, arg_dtor, out);
    }
    if (!p) {
        return EVL_EINVAL;
    }
    struct finally_ctx *fc = evl_malloc(sizeof(*fc));
    if (!fc) {
        return EVL_ENOMEM;
    }
    fc->fn = on_finally;
    fc->arg = arg;
    fc->arg_dtor = arg_dtor;
    int rc = (evl_promise_then)(p, then_finally, catch_finally, fc, finally_ctx_dtor, out);
    if (rc != 0) {
        evl_free(fc);
    }
    return rc;
}

/* ---- try ------------------------------------------------------------------------------- */

int(evl_promise_try)(struct evl_loop *loop, evl_promise_fn_cb fn, void *arg, evl_dtor_cb arg_dtor,
                     struct evl_promise **out)
{
    struct evl__pstate *ps = NULL;
    if (!fn || !out) {
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
    struct evl_result res;
    res.source = NULL;
    res.kind = EVL__OUT_NONE;
    res.promise = NULL;
    fn(loop, arg, &res);
    if (arg_dtor) {
        arg_dtor(loop, arg);
    }
    /* The capability's resolving functions: nobody else has them yet. */
    p->flags |= EVL__P_RESOLVED;
    switch (res.kind) {
    case EVL__OUT_VALUE:
        evl__promise_do_resolve(p, res.val);
        break;
    case EVL__OUT_PROMISE:
        evl__promise_do_resolve_promise(p, res.promise);
        evl__promise_release(res.promise);
        break;
    case EVL__OUT_REJECT:
        evl__promise_do_reject(p, res.val);
        break;
    default: {
        struct evl__val none = {NULL, NULL, NULL};
        evl__promise_do_resolve(p, none);
        break;
    }
    }
    *out = p;
    return 0;
}

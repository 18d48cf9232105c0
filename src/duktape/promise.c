/*
 * The JS Promise, built directly on the C promise of include/evl/promise.h: one
 * implementation and one microtask queue. A JS Promise object is a thin wrapper that owns one
 * reference to its struct evl_promise; then/catch/finally register C reactions whose
 * handlers call the JS functions; resolution goes through the C core's resolution procedure
 * with a thenable hook that implements Get(x, "then") and the thenable job for JS values.
 * Combinators, AggregateError and the fatal-rejection error are a small JS bootstrap on top
 * of the native then/resolve, written exactly as the specification's algorithms so that every
 * turn matches V8.
 *
 * Kept in one file because the JS Promise is one object model: the wrapper maps, the
 * reactions, the capability protocol and the natives share private records and invariants
 * (a wrapper owns exactly one reference); splitting them would export those records.
 *
 * Values. A settlement value is a handle of the adapter's value registry (registry.h)
 * encoded as an odd pointer, (handle << 2) | 1, so it can never be mistaken for a C pointer
 * (which the evl allocator aligns); small integers are kept inline; NULL is undefined. Values that
 * are not ours (C code settling a promise with its own data) reach JS as evl_error-derived Error
 * objects when they are the evl_error reason of their promise, else as Duktape pointers.
 *
 * Lifetimes. Wrappers and the resolving functions given to thenables hold C references; a
 * table keyed by the C pointer finds the JS object (so pushing a C promise twice gives the
 * same object) and lets teardown release every C reference. Finalizers drop the references
 * when Duktape collects the objects. The executor's resolve/reject hold the wrapper itself,
 * so a promise whose only reference is its resolve function stays alive, as in V8.
 *
 * Everything here runs on the loop thread.
 */
#include "duktape/promise.h"

#include "container/hash.h"
#include "duktape/bootstrap.h"
#include "duktape/error.h"
#include "duktape/exec.h"
#include "duktape/process.h"

#include "evl_js_promise.h"

#include <math.h>
#include <string.h>

#define STASH_PROMISES DUK_HIDDEN_SYMBOL("evl_promises")
#define KEY_WRAPPER    DUK_HIDDEN_SYMBOL("w") /* executor resolve/reject -> wrapper */
#define KEY_RESOLVERS  DUK_HIDDEN_SYMBOL("r") /* thenable resolve fn -> evl_promise_resolvers */
#define KEY_PEER       DUK_HIDDEN_SYMBOL("f") /* thenable reject fn -> its resolve fn */

/* What a by_c entry's C pointer is. */
enum held_kind { HELD_PROMISE = 1, HELD_RESOLVERS = 2 };

/* Per-binding state (d->promises), found through the binding or the loop's thenable-hook
 * ud. */
struct evl_duk_promises {
    struct evl_duk *d;
    duk_context *ctx;
    struct evl_loop *loop;
    /* Heap pointers kept alive by the stash object (STASH_PROMISES). */
    void *stash_obj;
    void *proto;          /* Promise.prototype */
    void *ctor;           /* Promise */
    void *then_fn;        /* the original Promise.prototype.then */
    void *helpers;        /* the bootstrap's object */
    void *res_final;      /* finalizer of thenable resolve functions */
    void *species_key;    /* Symbol.species (defined by us where the engine lacks it) */
    uint32_t live_values; /* registry handles held for settlement values */
    /* Held C objects by C pointer, and wrappers' C promises by wrapper (heap pointer): a
     * wrapper has no own property at all, so making one allocates no property table. */
    struct evl__hash by_c;
    struct evl__hash by_obj;
};

/* ---- Finding the state ------------------------------------------------------------------ */

static struct evl_duk_promises *state_of(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    return d ? d->promises : NULL;
}

static struct evl_duk_promises *state_of_loop(struct evl_loop *loop)
{
    return loop ? evl_loop_thenable_ud(loop) : NULL;
}

/* ---- Settlement values ----------------------------------------------------------------------- */

/* Odd pointers are JS values: ...01 a value-table slot, ...11 a small integer kept inline
 * (no table entry, no Duktape property access: the common case of chains of numbers). */
#define IS_JS(v)   ((((uintptr_t)(v)) & 1u) != 0)
#define IS_SLOT(v) ((((uintptr_t)(v)) & 3u) == 1u)
#define IS_INT(v)  ((((uintptr_t)(v)) & 3u) == 3u)
#define INT_BIAS   (1 << 28) /* inline integers: [-2^28, 2^28), fits 32-bit pointers too */

static void *encode_slot(uint32_t slot)
{
    return (void *)(((uintptr_t)slot << 2) | 1u);
}

static uint32_t decode_slot(void *v)
{
    return (uint32_t)((uintptr_t)v >> 2);
}

static void *encode_int(int32_t i)
{
    return (void *)(((uintptr_t)(uint32_t)(i + INT_BIAS) << 2) | 3u);
}

static int32_t decode_int(void *v)
{
    return (int32_t)((uintptr_t)v >> 2) - INT_BIAS;
}

/* Stores the value at idx and returns its encoded handle; NULL for undefined. Sets *ok to 0
 * on allocation failure. Value stack unchanged. May throw (out of memory). */
static void *value_new(struct evl_duk_promises *ps, duk_idx_t idx, int *ok)
{
    duk_context *ctx = ps->ctx;
    *ok = 1;
    if (duk_is_undefined(ctx, idx)) {
        return NULL;
    }
    if (duk_is_number(ctx, idx)) {
        double d = duk_get_number(ctx, idx);
        if (d >= -INT_BIAS && d < INT_BIAS && d == (double)(int32_t)d && !(d == 0 && signbit(d))) {
            return encode_int((int32_t)d);
        }
    }
    uint32_t ref = evl__duk_ref(ps->d, idx);
    if (!ref || ref > (UINT32_MAX >> 2)) {
        evl__duk_unref(ps->d, ref);
        *ok = 0;
        return NULL;
    }
    ps->live_values++;
    return encode_slot(ref);
}

static void value_free(struct evl_duk_promises *ps, void *v)
{
    if (!IS_SLOT(v)) {
        return;
    }
    evl__duk_unref(ps->d, decode_slot(v));
    ps->live_values--;
}

/* The destructor handed to the C core with every value we create. After teardown (no state
 * on the loop any more) the table is gone with the heap binding, so there is nothing to do. */
static void value_dtor(struct evl_loop *loop, void *v)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    if (ps) {
        value_free(ps, v);
    }
}

static void push_error_from(struct evl_duk_promises *ps, const struct evl_error *err);

/* Pushes the JS value of a C settlement value (+1). src, if not NULL, is the promise it
 * came from, used to recognise an evl_error reason made by C code. */
static void push_value(struct evl_duk_promises *ps, void *v, struct evl_promise *src)
{
    duk_context *ctx = ps->ctx;
    if (!v) {
        duk_push_undefined(ctx);
    } else if (IS_INT(v)) {
        duk_push_int(ctx, decode_int(v));
    } else if (IS_SLOT(v)) {
        evl__duk_push_ref(ps->d, decode_slot(v));
    } else if (src && (const void *)evl_promise_reason_as_error(src) == v) {
        push_error_from(ps, v);
    } else {
        duk_push_pointer(ctx, v);
    }
}

/* ---- Held C objects -------------------------------------------------------------------- */

/* Two maps (container/hash.h): by_c from the C object to its JS object (a Duktape heap
 * pointer, borrowed: the finalizer removes the entry), with the low bit of the value set
 * for HELD_RESOLVERS (heap pointers are aligned); by_obj from a wrapper to its C promise. */

static uint64_t held_key(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static void *held_value(void *object, enum held_kind kind)
{
    return (void *)((uintptr_t)object | (kind == HELD_RESOLVERS ? 1u : 0u));
}

static void *held_object(void *v)
{
    return (void *)((uintptr_t)v & ~(uintptr_t)1);
}

static enum held_kind held_kind_of(void *v)
{
    return ((uintptr_t)v & 1u) ? HELD_RESOLVERS : HELD_PROMISE;
}

/* The JS object held for the C object c if it is of kind, else NULL. */
static void *held_find(const struct evl_duk_promises *ps, const void *c, enum held_kind kind)
{
    void *v;
    if (!evl__hash_get(&ps->by_c, held_key(c), &v) || held_kind_of(v) != kind) {
        return NULL;
    }
    return held_object(v);
}

/* ---- Wrappers ----------------------------------------------------------------------------- */

/* The C promise of the wrapper at idx, or NULL if idx is not a live wrapper. */
static struct evl_promise *promise_at(struct evl_duk_promises *ps, duk_idx_t idx)
{
    void *obj = duk_get_heapptr(ps->ctx, idx);
    void *p;
    if (!obj || !evl__hash_get(&ps->by_obj, held_key(obj), &p)) {
        return NULL;
    }
    return p;
}

/* Records that the object obj wraps p (the caller's reference moves to the maps). */
static int wrapper_record(struct evl_duk_promises *ps, void *obj, struct evl_promise *p)
{
    evl_promise_mark_exposed(p);
    if (evl__hash_put(&ps->by_c, held_key(p), held_value(obj, HELD_PROMISE)) != 0) {
        return EVL_ENOMEM;
    }
    if (evl__hash_put(&ps->by_obj, held_key(obj), p) != 0) {
        (void)evl__hash_remove(&ps->by_c, held_key(p), NULL);
        return EVL_ENOMEM;
    }
    return 0;
}

/* Makes the wrapper at idx (an object with Promise.prototype) own p (takes the caller's
 * reference). On failure p is released and an error is thrown. */
static void wrapper_bind(struct evl_duk_promises *ps, duk_idx_t idx, struct evl_promise *p)
{
    duk_context *ctx = ps->ctx;
    if (wrapper_record(ps, duk_get_heapptr(ctx, idx), p) != 0) {
        evl_promise_release(p);
        (void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
}

/* Pushes a new wrapper owning p (the caller's reference moves to it). */
static void push_new_wrapper(struct evl_duk_promises *ps, struct evl_promise *p)
{
    duk_context *ctx = ps->ctx;
    duk_push_object(ctx);
    duk_push_heapptr(ctx, ps->proto);
    duk_set_prototype(ctx, -2);
    wrapper_bind(ps, -1, p);
}

/* Pushes the wrapper of p (borrowed), making one if p has none yet. */
static void push_promise(struct evl_duk_promises *ps, struct evl_promise *p)
{
    void *obj = held_find(ps, p, HELD_PROMISE);
    if (obj) {
        duk_push_heapptr(ps->ctx, obj);
        return;
    }
    push_new_wrapper(ps, evl_promise_retain(p));
}

/* Finalizer shared by every wrapper (inherited from Promise.prototype). */
static duk_ret_t wrapper_finalizer(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        return 0; /* Teardown already released every held reference. */
    }
    void *obj = duk_get_heapptr(ctx, 0);
    void *pv;
    if (!evl__hash_remove(&ps->by_obj, held_key(obj), &pv)) {
        return 0;
    }
    struct evl_promise *p = pv;
    if (held_find(ps, p, HELD_PROMISE) == obj) {
        (void)evl__hash_remove(&ps->by_c, held_key(p), NULL);
    }
    evl_promise_release(p);
    return 0;
}

/* Nonzero if the value at idx is one of our promises whose "then" is the original one: it
 * can then be adopted natively (the C core's own two-turn adoption). *out gets it. Reads
 * "then" once, as the resolution procedure does. */
static int native_thenable(struct evl_duk_promises *ps, duk_idx_t idx, struct evl_promise **out)
{
    duk_context *ctx = ps->ctx;
    struct evl_promise *p = promise_at(ps, idx);
    if (!p) {
        return 0;
    }
    duk_get_prop_literal(ctx, idx, "then");
    int same = duk_get_heapptr(ctx, -1) == ps->then_fn;
    duk_pop(ctx);
    *out = p;
    return same;
}

/* ---- Calling into JS -------------------------------------------------------------------- */

/*
 * Calls [... fn this args] like evl__duk_call_method_guarded, but a thrown error is handed
 * back instead of taking the uncaught path (handlers reject their derived promise). Returns
 * 0 with [... result], EVL_EEXCEPTION with [... error], or EVL_ECLOSED with [... undefined]
 * once the run is terminated (process.exit, fatal error) or unwinding.
 */
static int call_catching(struct evl_duk *d, duk_idx_t nargs)
{
    duk_context *ctx = d->ctx;
    if (evl__duk_terminated(d)) {
        duk_pop_n(ctx, nargs + 2);
        duk_push_undefined(ctx);
        return EVL_ECLOSED;
    }
    evl__duk_exec_enter(d);
    int rc = duk_pcall_method(ctx, nargs);
    int tripped = rc != DUK_EXEC_SUCCESS && evl__duk_exec_tripped(d);
    evl__duk_exec_leave(d);
    if (rc == DUK_EXEC_SUCCESS) {
        return 0;
    }
    if (tripped) {
        if (d->depth > 0) {
            /* process.exit() or the execution limit is unwinding to the outermost entry. */
            (void)duk_throw(ctx);
        }
        /* A runaway handler is an uncaught error, not a rejection a catch could swallow. */
        if (!evl__duk_terminated(d)) {
            evl__duk_uncaught(d, -1);
        }
        duk_pop(ctx);
        duk_push_undefined(ctx);
        return EVL_ECLOSED;
    }
    if (evl__duk_terminated(d)) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
        return EVL_ECLOSED;
    }
    return EVL_EEXCEPTION;
}

/* ---- Settling from JS values -------------------------------------------------------------- */

/* How a value is handed to one of the core's resolve functions. */
struct settle_ops {
    int (*resolve)(void *target, void *value, evl_dtor_cb dtor);
    int (*resolve_promise)(void *target, struct evl_promise *q);
    int (*reject)(void *target, void *reason, evl_dtor_cb dtor);
};

static int ops_promise_resolve(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_promise_resolve(t, v, dtor);
}
static int ops_promise_resolve_promise(void *t, struct evl_promise *q)
{
    return evl_promise_resolve_promise(t, q);
}
static int ops_promise_reject(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_promise_reject(t, v, dtor);
}
static int ops_resolvers_resolve(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_resolvers_resolve(t, v, dtor);
}
static int ops_resolvers_resolve_promise(void *t, struct evl_promise *q)
{
    return evl_resolvers_resolve_promise(t, q);
}
static int ops_resolvers_reject(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_resolvers_reject(t, v, dtor);
}
static int ops_result_resolve(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_result_resolve(t, v, dtor);
}
static int ops_result_resolve_promise(void *t, struct evl_promise *q)
{
    return evl_result_resolve_promise(t, q);
}
static int ops_result_reject(void *t, void *v, evl_dtor_cb dtor)
{
    return evl_result_reject(t, v, dtor);
}

static const struct settle_ops promise_ops = {ops_promise_resolve, ops_promise_resolve_promise,
                                              ops_promise_reject};
static const struct settle_ops resolvers_ops = {
    ops_resolvers_resolve, ops_resolvers_resolve_promise, ops_resolvers_reject};
static const struct settle_ops result_ops = {ops_result_resolve, ops_result_resolve_promise,
                                             ops_result_reject};

/* resolve(target, value at idx) through the resolution procedure: our promises are adopted
 * natively, anything else goes to the core (which asks our thenable hook). */
static void settle_resolve(struct evl_duk_promises *ps, const struct settle_ops *ops, void *target,
                           duk_idx_t idx)
{
    struct evl_promise *q;
    if (native_thenable(ps, idx, &q)) {
        (void)ops->resolve_promise(target, q);
        return;
    }
    int ok;
    void *v = value_new(ps, idx, &ok);
    if (!ok) {
        (void)duk_error(ps->ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    if (ops->resolve(target, v, value_dtor) != 0) {
        value_free(ps, v);
    }
}

static void noop_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static void settle_reject(struct evl_duk_promises *ps, const struct settle_ops *ops, void *target,
                          duk_idx_t idx)
{
    int ok;
    void *v = value_new(ps, idx, &ok);
    if (!ok) {
        (void)duk_error(ps->ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    if (ops->reject(target, v, value_dtor) != 0) {
        value_free(ps, v);
    } else if (ops == &promise_ops) {
        /* Rejection tracking reports at the end of a checkpoint, and the loop skips the
         * checkpoint (hooks included) when no microtask is queued: a promise rejected by
         * synchronous code (the main script, a resolve function called from C) must still be
         * reported at the next checkpoint, as Node does, so make sure there is one. */
        (void)evl_queue_microtask(ps->loop, noop_task, NULL);
    }
}

/* ---- Errors made by C code --------------------------------------------------------------- */

/* Pushes a JS error for an evl_error: TypeError for EVL_ETYPE, AggregateError (with its
 * reasons) for EVL_EAGGREGATE, else Error in Node's shape (evl__duk_error_shape: code, and
 * errno and syscall for a system error). */
static void push_error_from(struct evl_duk_promises *ps, const struct evl_error *err)
{
    duk_context *ctx = ps->ctx;
    int code = evl_error_code(err);
    const char *msg = evl_error_message(err);
    if (code == EVL_ETYPE) {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", msg ? msg : "type error");
        return;
    }
    if (code == EVL_EAGGREGATE) {
        duk_push_heapptr(ctx, ps->helpers);
        duk_get_prop_literal(ctx, -1, "AggregateError");
        duk_remove(ctx, -2);
        duk_push_array(ctx);
        const struct evl_values *vals = evl_error_errors(err);
        size_t n = vals ? evl_values_count(vals) : 0;
        for (size_t i = 0; i < n; i++) {
            const struct evl_error *e = evl_values_error(vals, i);
            if (e) {
                push_error_from(ps, e);
            } else {
                push_value(ps, evl_values_get(vals, i), NULL);
            }
            duk_put_prop_index(ctx, -2, (duk_uarridx_t)i);
        }
        duk_push_string(ctx, "All promises were rejected");
        duk_new(ctx, 2);
        return;
    }
    duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg ? msg : evl_strerror(code));
    evl__duk_error_shape(ctx, -1, code, evl_error_syscall(err));
}

/* ---- Reactions ---------------------------------------------------------------------------- */

/* A then() reaction: the JS handlers, as value-table handles (0 = none). */
struct reaction {
    void *on_fulfilled;
    void *on_rejected;
};

static void reaction_dtor(struct evl_loop *loop, void *arg)
{
    struct reaction *r = arg;
    struct evl_duk_promises *ps = state_of_loop(loop);
    if (ps) {
        value_free(ps, r->on_fulfilled);
        value_free(ps, r->on_rejected);
    }
    evl_free(r);
}

struct reaction_call {
    struct evl_duk_promises *ps;
    void *fn;
    void *value;
    int with_value; /* 0 for finally's callback, which gets no argument */
    struct evl_result *result;
};

/* Runs one handler under duk_safe_call: [] -> [] . */
static duk_ret_t reaction_body(duk_context *ctx, void *udata)
{
    struct reaction_call *rc = udata;
    struct evl_duk_promises *ps = rc->ps;
    push_value(ps, rc->fn, NULL);
    duk_push_undefined(ctx);
    int argc = 0;
    if (rc->with_value) {
        push_value(ps, rc->value, evl_result_source(rc->result));
        argc = 1;
    }
    int st = call_catching(ps->d, argc);
    if (st == 0) {
        if (!duk_is_undefined(ctx, -1)) {
            settle_resolve(ps, &result_ops, rc->result, -1);
        }
    } else if (st == EVL_EEXCEPTION) {
        settle_reject(ps, &result_ops, rc->result, -1);
    }
    duk_pop(ctx);
    return 0;
}

static void run_reaction(struct evl_duk_promises *ps, void *fn, void *value,
                         struct evl_result *result)
{
    struct reaction_call rc = {ps, fn, value, 1, result};
    if (duk_safe_call(ps->ctx, reaction_body, &rc, 0, 1) != DUK_EXEC_SUCCESS) {
        /* Only an internal failure (out of memory) or an unwinding process.exit() gets here;
         * the derived promise is rejected with it when possible. */
        if (!evl__duk_terminated(ps->d)) {
            int ok;
            void *v = value_new(ps, -1, &ok);
            if (ok && evl_result_reject(result, v, value_dtor) != 0) {
                value_free(ps, v);
            }
        }
    }
    duk_pop(ps->ctx);
}

static void on_fulfilled_cb(struct evl_loop *loop, void *value, void *arg,
                            struct evl_result *result)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    struct reaction *r = arg;
    if (ps && !evl__duk_terminated(ps->d)) {
        run_reaction(ps, r->on_fulfilled, value, result);
    } else {
        (void)evl_result_forward(result);
    }
}

static void on_rejected_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    struct reaction *r = arg;
    if (ps && !evl__duk_terminated(ps->d)) {
        run_reaction(ps, r->on_rejected, value, result);
    } else {
        /* Keep the rejection on the derived promise rather than fulfilling it. */
        (void)evl_result_forward(result);
    }
}

/* then() with one handler (the common case): arg is the handler's value itself, so the
 * reaction needs no allocation. */
static void on_fulfilled_only_cb(struct evl_loop *loop, void *value, void *arg,
                                 struct evl_result *result)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    if (ps && !evl__duk_terminated(ps->d)) {
        run_reaction(ps, arg, value, result);
    } else {
        (void)evl_result_forward(result);
    }
}

static void on_rejected_only_cb(struct evl_loop *loop, void *value, void *arg,
                                struct evl_result *result)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    if (ps && !evl__duk_terminated(ps->d)) {
        run_reaction(ps, arg, value, result);
    } else {
        (void)evl_result_forward(result);
    }
}

/* finally's callback: called with no argument; its outcome is waited for by the core. */
static void on_finally_cb(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    struct evl_duk_promises *ps = state_of_loop(loop);
    if (ps && !evl__duk_terminated(ps->d)) {
        struct reaction_call rc = {ps, arg, NULL, 0, result};
        if (duk_safe_call(ps->ctx, reaction_body, &rc, 0, 1) != DUK_EXEC_SUCCESS &&
            !evl__duk_terminated(ps->d)) {
            int ok;
            void *v = value_new(ps, -1, &ok);
            if (ok && evl_result_reject(result, v, value_dtor) != 0) {
                value_free(ps, v);
            }
        }
        duk_pop(ps->ctx);
    }
}

/* ---- Thenable hooks --------------------------------------------------------------------- */

static duk_ret_t get_then_body(duk_context *ctx, void *udata)
{
    (void)udata;
    duk_get_prop_literal(ctx, -1, "then");
    return 1;
}

static int hook_get_then(struct evl_loop *loop, void *ud, void *value, void **then_out,
                         evl_dtor_cb *then_dtor)
{
    struct evl_duk_promises *ps = ud;
    (void)loop;
    if (!IS_SLOT(value) || evl__duk_terminated(ps->d)) {
        return EVL_THENABLE_NO;
    }
    duk_context *ctx = ps->ctx;
    push_value(ps, value, NULL);
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        return EVL_THENABLE_NO;
    }
    int kind = EVL_THENABLE_NO;
    int ok = 1;
    void *out = NULL;
    if (duk_safe_call(ctx, get_then_body, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
        if (evl__duk_exec_tripped(ps->d) || evl__duk_terminated(ps->d)) {
            duk_pop(ctx);
            return EVL_THENABLE_NO;
        }
        out = value_new(ps, -1, &ok);
        kind = EVL_THENABLE_THREW;
    } else if (duk_is_callable(ctx, -1)) {
        out = value_new(ps, -1, &ok);
        kind = EVL_THENABLE_YES;
    }
    duk_pop(ctx);
    if (!ok) {
        return EVL_THENABLE_NO;
    }
    *then_out = out;
    *then_dtor = value_dtor;
    return kind;
}

/* The resolving functions handed to a thenable's then: magic 0 resolve, 1 reject. */
static duk_ret_t thenable_resolving_fn(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_of(ctx);
    duk_push_current_function(ctx);
    if (duk_get_magic(ctx, -1) == 1) {
        duk_get_prop_literal(ctx, -1, KEY_PEER);
        duk_remove(ctx, -2);
    }
    duk_get_prop_literal(ctx, -1, KEY_RESOLVERS);
    struct evl_promise_resolvers *r = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (!ps || !r || evl_promise_resolvers_done(r)) {
        return 0;
    }
    duk_push_current_function(ctx);
    int reject = duk_get_magic(ctx, -1) == 1;
    duk_pop(ctx);
    if (reject) {
        settle_reject(ps, &resolvers_ops, r, 0);
    } else {
        settle_resolve(ps, &resolvers_ops, r, 0);
    }
    return 0;
}

static duk_ret_t thenable_resolve_finalizer(duk_context *ctx)
{
    struct evl_promise_resolvers *r = NULL;
    if (duk_get_prop_literal(ctx, 0, KEY_RESOLVERS)) {
        r = duk_get_pointer(ctx, -1);
    }
    duk_pop(ctx);
    if (!r) {
        return 0;
    }
    duk_push_pointer(ctx, NULL);
    duk_put_prop_literal(ctx, 0, KEY_RESOLVERS);
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        return 0;
    }
    if (held_find(ps, r, HELD_RESOLVERS) == duk_get_heapptr(ctx, 0)) {
        (void)evl__hash_remove(&ps->by_c, held_key(r), NULL);
        evl_promise_resolvers_release(r);
    }
    return 0;
}

struct call_then_args {
    struct evl_duk_promises *ps;
    void *value;
    void *then_fn;
    struct evl_promise_resolvers *resolvers;
};

static duk_ret_t call_then_body(duk_context *ctx, void *udata)
{
    struct call_then_args *a = udata;
    struct evl_duk_promises *ps = a->ps;
    push_value(ps, a->then_fn, NULL);
    push_value(ps, a->value, NULL);
    /* resolve: holds the resolvers (one reference, released by its finalizer). */
    duk_push_c_function(ctx, thenable_resolving_fn, 1);
    duk_set_magic(ctx, -1, 0);
    if (evl__hash_put(&ps->by_c, held_key(a->resolvers),
                      held_value(duk_get_heapptr(ctx, -1), HELD_RESOLVERS)) != 0) {
        return DUK_RET_RANGE_ERROR;
    }
    evl_promise_resolvers_retain(a->resolvers);
    duk_push_pointer(ctx, a->resolvers);
    duk_put_prop_literal(ctx, -2, KEY_RESOLVERS);
    duk_push_heapptr(ctx, ps->res_final);
    duk_set_finalizer(ctx, -2);
    /* reject: reaches the resolvers through resolve, which it keeps alive. */
    duk_push_c_function(ctx, thenable_resolving_fn, 1);
    duk_set_magic(ctx, -1, 1);
    duk_dup(ctx, -2);
    duk_put_prop_literal(ctx, -2, KEY_PEER);
    int st = call_catching(ps->d, 2);
    if (st == EVL_EEXCEPTION && !evl_promise_resolvers_done(a->resolvers)) {
        settle_reject(ps, &resolvers_ops, a->resolvers, -1);
    }
    duk_pop(ctx);
    return 0;
}

static void hook_call_then(struct evl_loop *loop, void *ud, void *value, void *then_fn,
                           struct evl_promise_resolvers *resolvers)
{
    struct evl_duk_promises *ps = ud;
    (void)loop;
    if (evl__duk_terminated(ps->d)) {
        return;
    }
    struct call_then_args a = {ps, value, then_fn, resolvers};
    if (duk_safe_call(ps->ctx, call_then_body, &a, 0, 1) != DUK_EXEC_SUCCESS &&
        !evl__duk_terminated(ps->d) && !evl_promise_resolvers_done(resolvers)) {
        int ok;
        void *v = value_new(ps, -1, &ok);
        if (ok && evl_resolvers_reject(resolvers, v, value_dtor) != 0) {
            value_free(ps, v);
        }
    }
    duk_pop(ps->ctx);
}

/* ---- Rejection tracking ------------------------------------------------------------------ */

static duk_ret_t unhandled_body(duk_context *ctx, void *udata)
{
    struct evl_promise *p = udata;
    struct evl_duk_promises *ps = state_of(ctx);
    struct evl_duk *d = ps->d;
    push_value(ps, evl_promise_value(p), p); /* reason */
    duk_dup(ctx, -1);
    push_promise(ps, p);
    if (evl__duk_emit(d, "unhandledRejection", 2) > 0 || evl__duk_terminated(d)) {
        duk_pop(ctx);
        return 0;
    }
    /* Node's default ("throw" mode): the reason itself if it is an Error, else an
     * UnhandledPromiseRejection error, goes through the uncaught-exception path. */
    duk_push_heapptr(ctx, ps->helpers);
    duk_get_prop_literal(ctx, -1, "unhandledError");
    duk_remove(ctx, -2);
    duk_dup(ctx, -2);
    if (duk_pcall(ctx, 1) != DUK_EXEC_SUCCESS) {
        duk_pop(ctx);
        duk_dup(ctx, -1);
    }
    evl__duk_uncaught_origin(d, -1, "unhandledRejection");
    duk_pop_2(ctx);
    return 0;
}

static void hook_unhandled(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    struct evl_duk_promises *ps = ud;
    if (evl__duk_terminated(ps->d)) {
        return;
    }
    if (!evl_promise_is_exposed(p)) {
        /* Created and rejected in C, never seen by JS: JS could not have handled it, so
         * its listeners and its error policy do not hear of it. */
        const struct evl_error *err = evl_promise_reason_as_error(p);
        evl_log(loop, EVL_LOG_WARN, "promise", "unhandled rejection of a promise JS never saw%s%s",
                err ? ": " : "", err ? evl_error_message(err) : "");
        return;
    }
    (void)duk_safe_call(ps->ctx, unhandled_body, p, 0, 1);
    duk_pop(ps->ctx);
}

static duk_ret_t handled_later_body(duk_context *ctx, void *udata)
{
    struct evl_duk_promises *ps = state_of(ctx);
    push_promise(ps, udata);
    (void)evl__duk_emit(ps->d, "rejectionHandled", 1);
    return 0;
}

static void hook_handled_later(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    struct evl_duk_promises *ps = ud;
    (void)loop;
    if (evl__duk_terminated(ps->d)) {
        return;
    }
    (void)duk_safe_call(ps->ctx, handled_later_body, p, 0, 1);
    duk_pop(ps->ctx);
}

/* ---- Native functions --------------------------------------------------------------------- */

static struct evl_duk_promises *state_or_throw(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "Promise is not available (adapter removed)");
    }
    return ps;
}

static struct evl_promise *this_promise_or_throw(struct evl_duk_promises *ps, const char *method)
{
    duk_context *ctx = ps->ctx;
    duk_push_this(ctx);
    struct evl_promise *p = promise_at(ps, -1);
    duk_pop(ctx);
    if (!p) {
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
                        "Method Promise.prototype.%s called on incompatible receiver", method);
    }
    return p;
}

static void throw_code(duk_context *ctx, int rc)
{
    (void)duk_error(ctx, rc == EVL_ENOMEM ? DUK_ERR_RANGE_ERROR : DUK_ERR_ERROR, "%s",
                    evl_strerror(rc));
}

/* Creates a pending promise and pushes its wrapper. */
static struct evl_promise *push_pending(struct evl_duk_promises *ps)
{
    struct evl_promise *p = NULL;
    int rc = evl_promise_new(ps->loop, &p);
    if (rc != 0) {
        throw_code(ps->ctx, rc);
    }
    push_new_wrapper(ps, p);
    return p;
}

/*
 * Pushes a built-in function object as ECMA-262's CreateBuiltinFunction makes them for the
 * resolving functions, capability executors and element functions: own `length` then `name`
 * (""), both configurable only; extensible; no `prototype`. fn must refuse constructor calls
 * (builtin_refuse_new) since Duktape makes every native function constructable.
 */
static void push_builtin_fn(duk_context *ctx, duk_c_function fn, duk_idx_t nargs, int length)
{
    duk_push_c_function(ctx, fn, nargs);
    duk_push_string(ctx, "length");
    duk_push_int(ctx, length);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "");
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
}

#define KEY_IMPL DUK_HIDDEN_SYMBOL("impl") /* built-in trampoline -> its JS steps */

/* A built-in function whose steps are a JS function (the bootstrap's capability executors,
 * element functions and finally's functions): called with this = undefined. */
static duk_ret_t builtin_trampoline(duk_context *ctx)
{
    if (duk_is_constructor_call(ctx)) {
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "not a constructor");
    }
    duk_idx_t nargs = duk_get_top(ctx);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, KEY_IMPL);
    duk_remove(ctx, -2);
    duk_insert(ctx, 0);
    duk_push_undefined(ctx);
    duk_insert(ctx, 1);
    duk_call_method(ctx, nargs);
    return 1;
}

/* natives.builtin(steps, length) for the bootstrap: a built-in function running steps. */
static duk_ret_t js_make_builtin(duk_context *ctx)
{
    int length = duk_to_int(ctx, 1);
    push_builtin_fn(ctx, builtin_trampoline, DUK_VARARGS, length);
    duk_dup(ctx, 0);
    duk_put_prop_literal(ctx, -2, KEY_IMPL);
    return 1;
}

/* natives.isPromise(value): ECMA-262 IsPromise (one of our wrappers). */
static duk_ret_t js_is_promise(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_push_boolean(ctx, promise_at(ps, 0) != NULL);
    return 1;
}

/* natives.isConstructor(value): ECMA-262 IsConstructor. */
static duk_ret_t js_is_constructor(duk_context *ctx)
{
    duk_push_boolean(ctx, duk_is_object(ctx, 0) && duk_is_constructable(ctx, 0));
    return 1;
}

/* Pushes helpers[name] (+1). */
static void push_helper(struct evl_duk_promises *ps, const char *name)
{
    duk_push_heapptr(ps->ctx, ps->helpers);
    duk_get_prop_string(ps->ctx, -1, name);
    duk_remove(ps->ctx, -2);
}

/* Throws TypeError unless `this` is an object (the statics' first step); returns 1 when it is
 * %Promise% itself (the native fast path), 0 for another constructor (the bootstrap's
 * NewPromiseCapability path). */
static int this_is_intrinsic(struct evl_duk_promises *ps, const char *method)
{
    duk_context *ctx = ps->ctx;
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1)) {
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "%s called on non-object", method);
    }
    int same = duk_get_heapptr(ctx, -1) == ps->ctor;
    duk_pop(ctx);
    return same;
}

/* Calls helpers[name](this, args 0..nargs-1) and returns its result (the generic path). */
static duk_ret_t call_helper_with_this(struct evl_duk_promises *ps, const char *name,
                                       duk_idx_t nargs)
{
    duk_context *ctx = ps->ctx;
    duk_set_top(ctx, nargs);
    push_helper(ps, name);
    duk_insert(ctx, 0);
    duk_push_this(ctx);
    duk_insert(ctx, 1);
    duk_call(ctx, nargs + 1);
    return 1;
}

/* The executor's resolve (magic 0) and reject (magic 1): the promise's own resolving
 * functions, reached through the wrapper they keep alive. */
static duk_ret_t own_resolving_fn(duk_context *ctx)
{
    if (duk_is_constructor_call(ctx)) {
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "not a constructor");
    }
    struct evl_duk_promises *ps = state_of(ctx);
    duk_push_current_function(ctx);
    int reject = duk_get_magic(ctx, -1) == 1;
    if (!ps) {
        duk_pop(ctx);
        return 0;
    }
    duk_get_prop_literal(ctx, -1, KEY_WRAPPER);
    struct evl_promise *p = promise_at(ps, -1);
    duk_pop_2(ctx);
    if (!p) {
        return 0;
    }
    if (reject) {
        settle_reject(ps, &promise_ops, p, 0);
    } else {
        settle_resolve(ps, &promise_ops, p, 0);
    }
    return 0;
}

/* Pushes resolve and reject for the wrapper at idx. */
static void push_own_resolving_fns(duk_context *ctx, duk_idx_t wrapper)
{
    wrapper = duk_normalize_index(ctx, wrapper);
    for (int magic = 0; magic < 2; magic++) {
        push_builtin_fn(ctx, own_resolving_fn, 1, 1);
        duk_set_magic(ctx, -1, magic);
        duk_dup(ctx, wrapper);
        duk_put_prop_literal(ctx, -2, KEY_WRAPPER);
    }
}

static duk_ret_t js_promise_ctor(duk_context *ctx)
{
    if (!duk_is_constructor_call(ctx)) {
        return duk_error(ctx, DUK_ERR_TYPE_ERROR,
                         "Promise constructor cannot be invoked without 'new'");
    }
    struct evl_duk_promises *ps = state_or_throw(ctx);
    if (!duk_is_callable(ctx, 0)) {
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Promise resolver %s is not a function",
                         duk_is_object(ctx, 0) ? "[object]" : duk_safe_to_string(ctx, 0));
    }
    duk_push_this(ctx); /* 1: the new object, prototype from new.target */
    struct evl_promise *p = NULL;
    int rc = evl_promise_new(ps->loop, &p);
    if (rc != 0) {
        throw_code(ctx, rc);
    }
    wrapper_bind(ps, 1, p);
    duk_dup(ctx, 0);
    duk_push_undefined(ctx);
    push_own_resolving_fns(ctx, 1);
    if (duk_pcall_method(ctx, 2) != DUK_EXEC_SUCCESS) {
        if (evl__duk_exec_tripped(ps->d) || evl__duk_terminated(ps->d)) {
            (void)duk_throw(ctx);
        }
        settle_reject(ps, &promise_ops, p, -1);
    }
    duk_pop(ctx);
    return 0;
}

/* then(onFulfilled, onRejected) on the C promise p: pushes the derived promise. */
static void push_then(struct evl_duk_promises *ps, struct evl_promise *p, duk_idx_t on_f,
                      duk_idx_t on_r)
{
    duk_context *ctx = ps->ctx;
    int has_f = duk_is_callable(ctx, on_f);
    int has_r = duk_is_callable(ctx, on_r);
    evl_reaction_cb cb_f = NULL;
    evl_reaction_cb cb_r = NULL;
    void *arg = NULL;
    evl_dtor_cb arg_dtor = NULL;
    int ok = 1;
    if (has_f && has_r) {
        struct reaction *r = evl_malloc(sizeof(*r));
        if (!r) {
            throw_code(ctx, EVL_ENOMEM);
            return; /* not reached: throw_code unwinds with a longjmp */
        }
        int ok_r = 1;
        r->on_fulfilled = value_new(ps, on_f, &ok);
        r->on_rejected = value_new(ps, on_r, &ok_r);
        if (!ok || !ok_r) {
            reaction_dtor(ps->loop, r);
            throw_code(ctx, EVL_ENOMEM);
        }
        cb_f = on_fulfilled_cb;
        cb_r = on_rejected_cb;
        arg = r;
        arg_dtor = reaction_dtor;
    } else if (has_f || has_r) {
        arg = value_new(ps, has_f ? on_f : on_r, &ok);
        if (!ok) {
            throw_code(ctx, EVL_ENOMEM);
        }
        cb_f = has_f ? on_fulfilled_only_cb : NULL;
        cb_r = has_r ? on_rejected_only_cb : NULL;
        arg_dtor = value_dtor;
    }
    struct evl_promise *derived = NULL;
    int rc = evl_promise_then(p, cb_f, cb_r, arg, arg_dtor, &derived);
    if (rc != 0) {
        if (arg_dtor) {
            arg_dtor(ps->loop, arg);
        }
        throw_code(ctx, rc);
    }
    push_new_wrapper(ps, derived);
}

/*
 * SpeciesConstructor(this, %Promise%) for then: reads `constructor` once, then its
 * @@species; undefined at either step means %Promise%. Pushes the constructor and returns
 * 1 when it is %Promise% (the native path). Throws TypeError for a non-object constructor or
 * a species that is not a constructor; a throwing getter propagates.
 */
static int push_species(struct evl_duk_promises *ps)
{
    duk_context *ctx = ps->ctx;
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, "constructor");
    duk_remove(ctx, -2);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        duk_push_heapptr(ctx, ps->ctor);
        return 1;
    }
    if (!duk_is_object(ctx, -1)) {
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "The .constructor property is not an object");
    }
    duk_push_heapptr(ctx, ps->species_key);
    duk_get_prop(ctx, -2);
    duk_remove(ctx, -2);
    if (duk_is_null_or_undefined(ctx, -1)) {
        duk_pop(ctx);
        duk_push_heapptr(ctx, ps->ctor);
        return 1;
    }
    if (!duk_is_constructable(ctx, -1)) {
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
                        "object.constructor[Symbol.species] is not a "
                        "constructor");
    }
    return duk_get_heapptr(ctx, -1) == ps->ctor;
}

static duk_ret_t js_then(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_set_top(ctx, 2);
    struct evl_promise *p = this_promise_or_throw(ps, "then");
    if (push_species(ps)) {
        duk_pop(ctx);
        push_then(ps, p, 0, 1);
        return 1;
    }
    /* A subclass or another species: the bootstrap makes NewPromiseCapability(C) and
     * reacts through thenRaw with the spec's reaction job steps. */
    push_helper(ps, "thenThrough"); /* [onF onR C fn] */
    duk_insert(ctx, 0);             /* [fn onF onR C] */
    duk_push_this(ctx);
    duk_call(ctx, 4);
    return 1;
}

/* natives.thenRaw: PerformPromiseThen on a native promise without a derived capability of
 * another species (the bootstrap's reaction steps settle that one). */
static duk_ret_t js_then_raw(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    struct evl_promise *p = this_promise_or_throw(ps, "then");
    push_then(ps, p, 0, 1);
    return 1;
}

static duk_ret_t js_catch(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_push_this(ctx); /* 1 */
    struct evl_promise *p;
    if (native_thenable(ps, 1, &p)) {
        if (push_species(ps)) {
            duk_pop(ctx);
            duk_push_undefined(ctx);
            push_then(ps, p, 2, 0);
            return 1;
        }
        /* The original then with another species: its steps, constructor read once. */
        push_helper(ps, "thenThrough"); /* [onR this C fn] */
        duk_push_undefined(ctx);
        duk_dup(ctx, 0);
        duk_dup(ctx, 2);
        duk_dup(ctx, 1);
        duk_call(ctx, 4);
        return 1;
    }
    /* Generic: Invoke(this, "then", undefined, onRejected). */
    duk_get_prop_literal(ctx, 1, "then");
    duk_dup(ctx, 1);
    duk_push_undefined(ctx);
    duk_dup(ctx, 0);
    duk_call_method(ctx, 2);
    return 1;
}

static duk_ret_t js_finally(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_set_top(ctx, 1);
    duk_push_this(ctx);
    struct evl_promise *p = promise_at(ps, -1);
    if (!duk_is_object(ctx, -1)) {
        return duk_error(ctx, DUK_ERR_TYPE_ERROR,
                         "Method Promise.prototype.finally called on incompatible receiver");
    }
    duk_pop(ctx);
    /* SpeciesConstructor first (it reads constructor), then Invoke(this, "then"): the native
     * path needs both to be the originals, since a patched then (instrumentation) must see
     * the call. */
    int native = push_species(ps) && p != NULL; /* [onFinally C] */
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, "then");
    duk_remove(ctx, -2); /* [onFinally C then] */
    if (!native || duk_get_heapptr(ctx, -1) != ps->then_fn) {
        /* Any object with then (or a promise of another species or a patched then): the
         * spec's steps, which call that then with then-finally and catch-finally. */
        push_helper(ps, "finallyThrough");
        duk_push_this(ctx);
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        duk_dup(ctx, 2);
        duk_call(ctx, 4);
        return 1;
    }
    duk_pop_2(ctx);
    void *fn = NULL;
    int callable = duk_is_callable(ctx, 0);
    if (callable) {
        int ok;
        fn = value_new(ps, 0, &ok);
        if (!ok) {
            throw_code(ctx, EVL_ENOMEM);
        }
    }
    struct evl_promise *derived = NULL;
    int rc = evl_promise_finally(p, callable ? on_finally_cb : NULL, fn,
                                 callable ? value_dtor : NULL, &derived);
    if (rc != 0) {
        value_free(ps, fn);
        throw_code(ctx, rc);
    }
    push_new_wrapper(ps, derived);
    return 1;
}

static duk_ret_t js_resolve(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_set_top(ctx, 1);
    int intrinsic = this_is_intrinsic(ps, "PromiseResolve");
    /* PromiseResolve(C, x): x itself when it is a promise whose constructor is C. */
    if (promise_at(ps, 0)) {
        duk_get_prop_literal(ctx, 0, "constructor");
        duk_push_this(ctx);
        int same = duk_strict_equals(ctx, -1, -2);
        duk_pop_2(ctx);
        if (same) {
            duk_dup(ctx, 0);
            return 1;
        }
    }
    if (!intrinsic) {
        return call_helper_with_this(ps, "resolveWith", 1);
    }
    struct evl_promise *p = push_pending(ps);
    settle_resolve(ps, &promise_ops, p, 0);
    return 1;
}

static duk_ret_t js_reject(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_set_top(ctx, 1);
    if (!this_is_intrinsic(ps, "PromiseReject")) {
        return call_helper_with_this(ps, "rejectWith", 1);
    }
    struct evl_promise *p = push_pending(ps);
    settle_reject(ps, &promise_ops, p, 0);
    return 1;
}

static duk_ret_t js_with_resolvers(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_set_top(ctx, 0);
    if (!this_is_intrinsic(ps, "Promise.withResolvers")) {
        return call_helper_with_this(ps, "withResolversOf", 0);
    }
    duk_push_object(ctx);           /* 0 */
    (void)push_pending(ps);         /* 1 */
    push_own_resolving_fns(ctx, 1); /* 2, 3 */
    duk_dup(ctx, 1);
    duk_put_prop_literal(ctx, 0, "promise");
    duk_dup(ctx, 2);
    duk_put_prop_literal(ctx, 0, "resolve");
    duk_dup(ctx, 3);
    duk_put_prop_literal(ctx, 0, "reject");
    duk_set_top(ctx, 1);
    return 1;
}

static duk_ret_t js_try(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_idx_t nargs = duk_get_top(ctx);
    if (!this_is_intrinsic(ps, "Promise.try")) {
        duk_push_array(ctx);
        duk_insert(ctx, 0);
        for (duk_idx_t i = nargs - 1; i >= 1; i--) {
            duk_put_prop_index(ctx, 0, (duk_uarridx_t)(i - 1));
        }
        /* [args fn?] */
        if (nargs == 0) {
            duk_push_undefined(ctx);
        }
        duk_swap(ctx, 0, 1);
        return call_helper_with_this(ps, "tryWith", 2);
    }
    struct evl_promise *p = push_pending(ps); /* nargs */
    duk_insert(ctx, 0);                       /* [promise fn args...] */
    if (nargs == 0) {
        duk_push_undefined(ctx);
        nargs = 1;
    }
    duk_push_undefined(ctx);
    duk_insert(ctx, 2); /* [promise fn undefined args...] */
    if (duk_pcall_method(ctx, nargs - 1) == DUK_EXEC_SUCCESS) {
        settle_resolve(ps, &promise_ops, p, -1);
    } else {
        if (evl__duk_exec_tripped(ps->d) || evl__duk_terminated(ps->d)) {
            (void)duk_throw(ctx);
        }
        settle_reject(ps, &promise_ops, p, -1);
    }
    duk_pop(ctx);
    return 1;
}

/* all (magic 0), allSettled (1), any (2), race (3): the bootstrap's spec algorithms. */
static duk_ret_t js_combinator(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_or_throw(ctx);
    duk_push_current_function(ctx);
    int kind = duk_get_magic(ctx, -1);
    duk_pop(ctx);
    duk_push_heapptr(ctx, ps->helpers);
    duk_get_prop_literal(ctx, -1, "combinator");
    duk_push_this(ctx);
    duk_dup(ctx, 0);
    duk_push_int(ctx, kind);
    duk_call(ctx, 3);
    return 1;
}

/* ---- Bootstrap ---------------------------------------------------------------------------- */

/* ---- Install and teardown --------------------------------------------------------------- */

/* Defines obj[name] as a native method: length before name, both configurable only; the
 * method itself writable, configurable, not enumerable (as every built-in method). */
static void def_method(duk_context *ctx, duk_idx_t obj, const char *name, duk_c_function fn,
                       duk_idx_t nargs, int length, int magic)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_c_function(ctx, fn, nargs);
    duk_set_magic(ctx, -1, magic);
    duk_push_string(ctx, "length");
    duk_push_int(ctx, length);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, name);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_string(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
}

/* Defines obj[name] = value at -1 (popped) with the given attribute flags. */
static void def_value(duk_context *ctx, duk_idx_t obj, const char *name, duk_uint_t flags)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_string(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | flags);
}

#define ATTR_BUILTIN \
    (DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE)
#define ATTR_FROZEN \
    (DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_CLEAR_CONFIGURABLE)

/* internals.promiseState(value) for console.log: undefined unless value is one of our
 * promises, else {state: 'pending' | 'fulfilled' | 'rejected', value}. Reading the state
 * does not mark a rejection handled, as in Node. */
static duk_ret_t js_promise_state(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_of(ctx);
    struct evl_promise *p = ps ? promise_at(ps, 0) : NULL;
    if (!p) {
        return 0;
    }
    enum evl_promise_state st = evl_promise_state(p);
    duk_push_object(ctx);
    duk_push_string(ctx, st == EVL_PROMISE_PENDING     ? "pending"
                         : st == EVL_PROMISE_FULFILLED ? "fulfilled"
                                                       : "rejected");
    duk_put_prop_literal(ctx, -2, "state");
    if (st != EVL_PROMISE_PENDING) {
        push_value(ps, evl_promise_value(p), p);
        duk_put_prop_literal(ctx, -2, "value");
    }
    return 1;
}

static duk_ret_t js_species_getter(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

static duk_ret_t install_body(duk_context *ctx, void *udata)
{
    struct evl_duk_promises *ps = udata;
    /* The stash object keeps every heap pointer below alive. */
    duk_push_heap_stash(ctx);
    duk_push_object(ctx); /* stash object */
    ps->stash_obj = duk_get_heapptr(ctx, -1);
    duk_dup(ctx, -1);
    duk_put_prop_literal(ctx, -3, STASH_PROMISES);
    duk_remove(ctx, -2); /* [stash_obj] */
    duk_idx_t so = duk_get_top_index(ctx);

    /* Promise and Promise.prototype. */
    duk_push_c_function(ctx, js_promise_ctor, 1);
    duk_idx_t ctor = duk_get_top_index(ctx);
    duk_push_string(ctx, "length");
    duk_push_int(ctx, 1);
    duk_def_prop(ctx, ctor,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "Promise");
    duk_def_prop(ctx, ctor,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_object(ctx);
    duk_idx_t proto = duk_get_top_index(ctx);
    duk_dup(ctx, proto);
    def_value(ctx, ctor, "prototype", ATTR_FROZEN);
    def_method(ctx, ctor, "resolve", js_resolve, 1, 1, 0);
    def_method(ctx, ctor, "reject", js_reject, 1, 1, 0);
    def_method(ctx, ctor, "all", js_combinator, 1, 1, 0);
    def_method(ctx, ctor, "allSettled", js_combinator, 1, 1, 1);
    def_method(ctx, ctor, "any", js_combinator, 1, 1, 2);
    def_method(ctx, ctor, "race", js_combinator, 1, 1, 3);
    def_method(ctx, ctor, "withResolvers", js_with_resolvers, 0, 0, 0);
    def_method(ctx, ctor, "try", js_try, DUK_VARARGS, 1, 0);
    def_method(ctx, proto, "then", js_then, 2, 2, 0);
    def_method(ctx, proto, "catch", js_catch, 1, 1, 0);
    def_method(ctx, proto, "finally", js_finally, 1, 1, 0);
    duk_dup(ctx, ctor);
    def_value(ctx, proto, "constructor", ATTR_BUILTIN);
    duk_get_global_literal(ctx, "Symbol");
    duk_get_prop_literal(ctx, -1, "toStringTag");
    duk_remove(ctx, -2);
    duk_push_string(ctx, "Promise");
    duk_def_prop(ctx, proto,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_CLEAR_WRITABLE |
                     DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_c_function(ctx, wrapper_finalizer, 1);
    duk_set_finalizer(ctx, proto);
    duk_get_prop_literal(ctx, proto, "then");
    ps->then_fn = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, so, "then");
    ps->proto = duk_get_heapptr(ctx, proto);
    ps->ctor = duk_get_heapptr(ctx, ctor);
    duk_push_c_function(ctx, thenable_resolve_finalizer, 1);
    ps->res_final = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, so, "resFinal");

    /* Symbol.species (Duktape lacks it: defined like the other well-known symbols) and
     * get Promise[@@species] returning this. */
    duk_get_global_literal(ctx, "Symbol");
    if (!duk_get_prop_literal(ctx, -1, "species")) {
        duk_pop(ctx);
        duk_push_string(ctx, "species");
        duk_eval_string(ctx, "Symbol('Symbol.species')");
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
        duk_get_prop_literal(ctx, -1, "species");
    }
    ps->species_key = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, so, "species");
    duk_pop(ctx);
    duk_push_heapptr(ctx, ps->species_key);
    duk_push_c_function(ctx, js_species_getter, 0);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "get [Symbol.species]");
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_def_prop(ctx, ctor,
                 DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_FORCE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);

    /* The bootstrap. */
    evl__duk_push_bootstrap(ctx, evl_js_promise, evl_js_promise_len);
    duk_dup(ctx, ctor);
    duk_push_object(ctx);
    duk_push_c_function(ctx, js_make_builtin, 2);
    duk_put_prop_literal(ctx, -2, "builtin");
    duk_push_c_function(ctx, js_is_constructor, 1);
    duk_put_prop_literal(ctx, -2, "isConstructor");
    duk_push_c_function(ctx, js_is_promise, 1);
    duk_put_prop_literal(ctx, -2, "isPromise");
    duk_push_c_function(ctx, js_then_raw, 2);
    duk_put_prop_literal(ctx, -2, "thenRaw");
    duk_call(ctx, 2);
    ps->helpers = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, so, "helpers");

    /* Globals: writable, configurable, not enumerable (as in Node). */
    duk_push_global_object(ctx);
    duk_dup(ctx, ctor);
    def_value(ctx, -2, "Promise", ATTR_BUILTIN);
    duk_push_heapptr(ctx, ps->helpers);
    duk_get_prop_literal(ctx, -1, "AggregateError");
    duk_remove(ctx, -2);
    def_value(ctx, -2, "AggregateError", ATTR_BUILTIN);
    duk_pop(ctx);

    evl__duk_push_ref(ps->d, ps->d->internals_ref);
    duk_push_c_function(ctx, js_promise_state, 1);
    duk_put_prop_literal(ctx, -2, "promiseState");
    duk_pop(ctx);

    duk_dup(ctx, proto);
    duk_put_prop_literal(ctx, so, "proto");
    duk_dup(ctx, ctor);
    duk_put_prop_literal(ctx, so, "ctor");
    duk_set_top(ctx, 0);
    return 0;
}

int evl__duk_promise_install(struct evl_duk *d)
{
    struct evl_loop *loop = d->loop;
    duk_context *ctx = d->ctx;
    if (evl_loop_thenable_ud(loop)) {
        return EVL_EBUSY; /* One heap's Promise per loop: the hooks are loop-wide. */
    }
    struct evl_duk_promises *ps = evl_calloc(1, sizeof(*ps));
    if (!ps) {
        return EVL_ENOMEM;
    }
    ps->d = d;
    ps->ctx = ctx;
    ps->loop = loop;
    evl__hash_init(&ps->by_c, NULL);
    evl__hash_init(&ps->by_obj, NULL);
    if (duk_safe_call(ctx, install_body, ps, 0, 1) != DUK_EXEC_SUCCESS) {
        duk_pop(ctx);
        duk_push_heap_stash(ctx);
        duk_del_prop_literal(ctx, -1, STASH_PROMISES);
        duk_pop(ctx);
        evl__hash_deinit(&ps->by_c);
        evl__hash_deinit(&ps->by_obj);
        evl_free(ps);
        return EVL_ENOMEM;
    }
    duk_pop(ctx);
    const struct evl_thenable_hooks hooks = {hook_get_then, hook_call_then, ps};
    int rc = evl_loop_set_thenable_hooks(loop, &hooks);
    if (rc == 0) {
        rc = evl_loop_set_rejection_hooks(loop, hook_unhandled, hook_handled_later, ps);
        if (rc != 0) {
            (void)evl_loop_set_thenable_hooks(loop, NULL);
        }
    }
    if (rc != 0) {
        duk_push_heap_stash(ctx);
        duk_del_prop_literal(ctx, -1, STASH_PROMISES);
        duk_pop(ctx);
        evl__hash_deinit(&ps->by_c);
        evl__hash_deinit(&ps->by_obj);
        evl_free(ps);
        return rc;
    }
    d->promises = ps;
    return 0;
}

void evl__duk_promise_release(struct evl_duk *d)
{
    struct evl_loop *loop = d->loop;
    /* Through the binding: a terminated loop no longer knows its hooks' state. */
    struct evl_duk_promises *ps = d->promises;
    if (!ps || ps->d != d) {
        return;
    }
    /* Unhook first: from now on destructors of our values find no state and do nothing. */
    if (evl_loop_thenable_ud(loop) == ps) {
        (void)evl_loop_set_thenable_hooks(loop, NULL);
        (void)evl_loop_set_rejection_hooks(loop, NULL, NULL, NULL);
    }
    duk_context *ctx = d->ctx ? ps->ctx : NULL; /* NULL: the heap is being destroyed */
    if (ctx) {
        duk_push_heap_stash(ctx);
        duk_del_prop_literal(ctx, -1, STASH_PROMISES);
        duk_pop(ctx);
    }
    /* Wrappers outliving the binding become inert: they are no longer in by_obj. */
    uint32_t cursor = 0;
    uint64_t key;
    void *v;
    while (evl__hash_next(&ps->by_c, &cursor, &key, &v)) {
        void *c = (void *)(uintptr_t)key;
        if (ctx && held_kind_of(v) == HELD_RESOLVERS) {
            duk_push_heapptr(ctx, held_object(v));
            duk_push_pointer(ctx, NULL);
            duk_put_prop_literal(ctx, -2, KEY_RESOLVERS);
            duk_pop(ctx);
        }
        if (held_kind_of(v) == HELD_PROMISE) {
            evl_promise_release(c);
        } else {
            evl_promise_resolvers_release(c);
        }
    }
    if (!ctx) {
        /* The heap is going away: finalizers that still run must not find the state. */
        duk_push_heap_stash(ps->ctx);
        duk_del_prop_literal(ps->ctx, -1, STASH_PROMISES);
        duk_pop(ps->ctx);
    }
    d->promises = NULL;
    evl__hash_deinit(&ps->by_c);
    evl__hash_deinit(&ps->by_obj);
    evl_free(ps);
}

/* ---- Interop for embedders ------------------------------------------------------------ */

int evl_duk_push_promise(duk_context *ctx, struct evl_promise *p)
{
    if (!ctx || !p) {
        return EVL_EINVAL;
    }
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        return EVL_ENOENT;
    }
    if (evl_promise_loop(p) != ps->loop) {
        return EVL_EINVAL;
    }
    void *obj = held_find(ps, p, HELD_PROMISE);
    if (obj) {
        duk_push_heapptr(ctx, obj);
        return 0;
    }
    duk_push_object(ctx);
    duk_push_heapptr(ctx, ps->proto);
    duk_set_prototype(ctx, -2);
    if (wrapper_record(ps, duk_get_heapptr(ctx, -1), p) != 0) {
        duk_pop(ctx);
        return EVL_ENOMEM;
    }
    evl_promise_retain(p);
    return 0;
}

struct evl_promise *evl_duk_get_promise(duk_context *ctx, duk_idx_t idx)
{
    if (!ctx || !duk_is_valid_index(ctx, idx)) {
        return NULL;
    }
    struct evl_duk_promises *ps = state_of(ctx);
    return ps ? promise_at(ps, idx) : NULL;
}

int evl_duk_value_new(duk_context *ctx, duk_idx_t idx, void **value, evl_dtor_cb *dtor)
{
    if (!ctx || !value || !dtor || !duk_is_valid_index(ctx, idx)) {
        return EVL_EINVAL;
    }
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        return EVL_ENOENT;
    }
    int ok;
    void *v = value_new(ps, idx, &ok);
    if (!ok) {
        return EVL_ENOMEM;
    }
    *value = v;
    *dtor = value_dtor;
    return 0;
}

int evl_duk_push_value(duk_context *ctx, void *value)
{
    if (!ctx) {
        return EVL_EINVAL;
    }
    struct evl_duk_promises *ps = state_of(ctx);
    if (!ps) {
        return EVL_ENOENT;
    }
    push_value(ps, value, NULL);
    return 0;
}

size_t evl__duk_promise_live_values(duk_context *ctx)
{
    struct evl_duk_promises *ps = state_of(ctx);
    return ps ? ps->live_values : 0;
}

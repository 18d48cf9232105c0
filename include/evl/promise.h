/*
 * Promises that follow the ECMAScript algorithm to the microtask: reactions are promise jobs
 * queued with evl_queue_microtask, one job per reaction, and every operation takes the
 * number of turns the specification gives it (see docs/promises.md for the table).
 *
 * Ownership in one paragraph: a promise is reference counted; every function that returns a
 * promise returns +1 (release it with evl_promise_release); promise parameters are borrowed;
 * whatever keeps a promise (a reaction, a combinator, a pool job, a resolver) takes its own
 * reference. A settlement value is an opaque pointer plus an optional destructor: handing a
 * value to a settle call moves its ownership to libevl when the call returns 0, and leaves it
 * with the caller when the call fails. The promise that settles with a value owns exactly one
 * copy of it; any other promise that settles with the same value (pass-through reactions,
 * adoption, finally, combinators) shares that copy by holding a reference to the owner, so a
 * value's destructor runs exactly once, when the last promise sharing it is freed. Reactions
 * receive values borrowed.
 *
 * Threads: everything here is loop thread only, except evl_resolver_* (thread-safe).
 * A pending promise does not keep the loop alive.
 */
#ifndef EVL_PROMISE_H
#define EVL_PROMISE_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evl_promise;
struct evl_result;
struct evl_promise_resolvers;
struct evl_resolver;
struct evl_values;

enum evl_promise_state {
    EVL_PROMISE_PENDING = 0,
    EVL_PROMISE_FULFILLED = 1,
    EVL_PROMISE_REJECTED = 2
};

/*
 * A reaction handler (the onFulfilled/onRejected of then). value is the settlement value or
 * reason, borrowed for the call. The handler decides how the derived promise is resolved by
 * calling one evl_result_* function on result; if it calls none, the derived promise is
 * fulfilled with NULL (JavaScript's undefined). The outcome is applied after the handler
 * returns, as the specification does. Loop thread.
 */
typedef void (*evl_reaction_cb)(struct evl_loop *loop, void *value, void *arg,
                                struct evl_result *result);

/* A callback without an input value: finally's onFinally and evl_promise_try's function.
 * Outcome through result as for evl_reaction_cb. Loop thread. */
typedef void (*evl_promise_fn_cb)(struct evl_loop *loop, void *arg, struct evl_result *result);

/* ---- Construction and reference counting ---------------------------------------------- */

/*
 * A new pending promise (+1). It is settled with evl_promise_resolve/reject (its own
 * resolving functions, first call wins) or through resolvers from evl_promise_resolvers_get.
 * Loop thread only. Errors: EVL_EINVAL, EVL_EPERM (wrong thread), EVL_ENOMEM.
 */
EVL_API int evl_promise_new(struct evl_loop *loop, struct evl_promise **out);

/* Promise.resolve(value) for a plain value (+1): the value goes through the resolution
 * procedure (the thenable hook may make it adopt). On success value belongs to the promise.
 * Loop thread only. Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM. */
EVL_API int evl_promise_resolved(struct evl_loop *loop, void *value, evl_dtor_cb dtor,
                                 struct evl_promise **out);

/* Promise.resolve(p) for an evl promise: returns p itself with one more reference (+1),
 * exactly as Promise.resolve returns its argument. Loop thread only. */
EVL_API struct evl_promise *evl_promise_resolved_promise(struct evl_promise *p);

/* Promise.reject(reason) (+1). On success reason belongs to the promise. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM. */
EVL_API int evl_promise_rejected(struct evl_loop *loop, void *reason, evl_dtor_cb dtor,
                                 struct evl_promise **out);

/* Adds a reference; returns p. Loop thread only. */
EVL_API struct evl_promise *evl_promise_retain(struct evl_promise *p);

/* Drops a reference (NULL is a no-op). The last release frees the promise, its value (if it
 * owns it) and, if it is still pending, its reactions (each reaction's arg destructor runs
 * and its derived promise loses a reference). Loop thread only. */
EVL_API void evl_promise_release(struct evl_promise *p);

/* ---- Settling through the promise's own resolving functions ---------------------------- */

/*
 * The resolve function: resolving with a value runs the resolution procedure (thenable hook,
 * then fulfil). Returns 0 (value now belongs to libevl), or EVL_EALREADY when this promise's
 * resolving functions were already used (the value stays the caller's). Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_EALREADY.
 */
EVL_API int evl_promise_resolve(struct evl_promise *p, void *value, evl_dtor_cb dtor);

/* Resolve with another evl promise q (borrowed): p follows q after the spec's two extra
 * turns; q == p rejects p with an EVL_ETYPE error. Errors: as evl_promise_resolve,
 * EVL_ENOMEM. Loop thread only. */
EVL_API int evl_promise_resolve_promise(struct evl_promise *p, struct evl_promise *q);

/* The reject function. Errors: as evl_promise_resolve. Loop thread only. */
EVL_API int evl_promise_reject(struct evl_promise *p, void *reason, evl_dtor_cb dtor);

/* ---- Resolving functions as an object (what an adapter wraps into resolve/reject) ------- */

/*
 * Promise.withResolvers(): a new pending promise (+1) and its resolving functions (+1,
 * released with evl_promise_resolvers_release). The resolvers share the promise's
 * already-resolved flag, so they and evl_promise_resolve/reject are one set of functions.
 * Loop thread only. Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM (nothing is created).
 */
EVL_API int evl_promise_with_resolvers(struct evl_loop *loop, struct evl_promise **promise_out,
                                       struct evl_promise_resolvers **resolvers_out);

/* The resolving functions of an existing promise (+1), sharing its already-resolved flag.
 * Loop thread only. Errors: EVL_EINVAL, EVL_ENOMEM. */
EVL_API int evl_promise_resolvers_get(struct evl_promise *p, struct evl_promise_resolvers **out);

EVL_API struct evl_promise_resolvers *evl_promise_resolvers_retain(struct evl_promise_resolvers *r);
EVL_API void evl_promise_resolvers_release(struct evl_promise_resolvers *r);

/* The promise these functions resolve (borrowed). Loop thread only. */
EVL_API struct evl_promise *evl_promise_resolvers_promise(const struct evl_promise_resolvers *r);

/* Nonzero once the shared already-resolved flag is set. Loop thread only. */
EVL_API int evl_promise_resolvers_done(const struct evl_promise_resolvers *r);

/* resolve(value), resolve(promise) and reject(reason) through the shared flag. Return 0 or
 * EVL_EALREADY (value stays the caller's); EVL_ENOMEM, EVL_EINVAL. Loop thread only. */
EVL_API int evl_resolvers_resolve(struct evl_promise_resolvers *r, void *value, evl_dtor_cb dtor);
EVL_API int evl_resolvers_resolve_promise(struct evl_promise_resolvers *r, struct evl_promise *q);
EVL_API int evl_resolvers_reject(struct evl_promise_resolvers *r, void *reason, evl_dtor_cb dtor);

/* ---- Reactions ------------------------------------------------------------------------- */

/*
 * then(on_fulfilled, on_rejected): registers one reaction and returns the derived promise
 * (+1) in *out. A NULL handler passes the value or reason through (still one job). arg is
 * passed to whichever handler runs; arg_dtor (may be NULL) runs exactly once: after the
 * reaction ran, or when the reaction is dropped (source freed while pending, or the job
 * could not be queued because the loop closed). out may be NULL when the caller does not
 * want the derived promise (the reaction still runs and its outcome is discarded).
 * On failure nothing is registered and arg_dtor is not called. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM.
 */
EVL_API int evl_promise_then(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                             evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                             struct evl_promise **out);

/* catch(on_rejected) = then(NULL, on_rejected). Same contract. */
EVL_API int evl_promise_catch(struct evl_promise *p, evl_reaction_cb on_rejected, void *arg,
                              evl_dtor_cb arg_dtor, struct evl_promise **out);

/*
 * finally(on_finally) exactly as the specification: then(thenFinally, catchFinally), where
 * each calls on_finally, resolves what it returned to a promise and waits for it; the
 * original outcome passes through unless on_finally rejects (then its reason replaces it).
 * on_finally NULL = then(NULL, NULL). Same contract as evl_promise_then.
 */
EVL_API int evl_promise_finally(struct evl_promise *p, evl_promise_fn_cb on_finally, void *arg,
                                evl_dtor_cb arg_dtor, struct evl_promise **out);

/*
 * Promise.try(fn): calls fn now; the returned promise (+1) is resolved with its outcome
 * (value, promise to adopt, or rejection). arg_dtor runs after fn returns. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM (fn not called, arg_dtor not called).
 */
EVL_API int evl_promise_try(struct evl_loop *loop, evl_promise_fn_cb fn, void *arg,
                            evl_dtor_cb arg_dtor, struct evl_promise **out);

/* ---- Handler outcomes (valid only during the handler call) ------------------------------ */

/* Resolve the derived promise with a value (resolution procedure). Returns 0, or
 * EVL_EALREADY if an outcome was already chosen (the value stays the caller's). */
EVL_API int evl_result_resolve(struct evl_result *result, void *value, evl_dtor_cb dtor);

/* Resolve the derived promise with an evl promise q (borrowed; adoption, two extra turns). */
EVL_API int evl_result_resolve_promise(struct evl_result *result, struct evl_promise *q);

/* Reject the derived promise ("throw"). Ownership as evl_result_resolve. */
EVL_API int evl_result_reject(struct evl_result *result, void *reason, evl_dtor_cb dtor);

/* Settle the derived promise as the source settled, sharing the value or reason (what a
 * missing handler does: resolve with the value, or reject with the reason). */
EVL_API int evl_result_forward(struct evl_result *result);

/* The promise whose settlement runs this handler (borrowed; NULL for evl_promise_try and
 * finally callbacks), e.g. for evl_promise_reason_as_error. */
EVL_API struct evl_promise *evl_result_source(const struct evl_result *result);

/* ---- Inspection (loop thread only) ----------------------------------------------------- */

EVL_API enum evl_promise_state evl_promise_state(const struct evl_promise *p);
/* The fulfilment value or rejection reason (borrowed); NULL while pending. */
EVL_API void *evl_promise_value(const struct evl_promise *p);
/* The loop the promise belongs to. */
EVL_API struct evl_loop *evl_promise_loop(const struct evl_promise *p);
/* The rejection reason if p is rejected with an evl_error (made by evl_error_new or by
 * libevl), else NULL. Safe on any promise: the check uses the value's destructor identity,
 * never dereferences an unknown value. Borrowed. */
EVL_API const struct evl_error *evl_promise_reason_as_error(const struct evl_promise *p);
/* Nonzero once a handler was attached ([[PromiseIsHandled]]). */
EVL_API int evl_promise_is_handled(const struct evl_promise *p);
/* Marks p handled without attaching a reaction (no "handled later" report is produced). */
EVL_API void evl_promise_mark_handled(struct evl_promise *p);
/* Marks p as seen by a script engine (the Duktape adapter marks every promise it hands to
 * JS), so that rejection hooks can tell the script's promises from C-only ones; nonzero once
 * marked. Loop thread. */
EVL_API void evl_promise_mark_exposed(struct evl_promise *p);
EVL_API int evl_promise_is_exposed(const struct evl_promise *p);

/* ---- Combinators -------------------------------------------------------------------- */

/* One input of a combinator: an evl promise (borrowed), or a plain value (promise == NULL;
 * ownership moves to the combinator when the call returns 0). */
struct evl_promise_input {
    struct evl_promise *promise;
    void *value;
    evl_dtor_cb dtor;
};

/*
 * Promise.all / allSettled / any / race over inputs[0..n), with the specification's
 * structure (PromiseResolve then then for each input, a remaining-elements counter starting
 * at 1), so settle turns match Node. Results (+1 promise in *out):
 *   all:         fulfils with a struct evl_values of the values, or rejects with the first reason
 *   all_settled: fulfils with a struct evl_values of status + value/reason records
 *   any:         fulfils with the first value, or rejects with an EVL_EAGGREGATE evl_error
 *                whose evl_error_errors() lists every reason (n == 0: empty list)
 *   race:        settles like the first input to settle (n == 0: stays pending)
 * On failure nothing is registered and every plain value stays the caller's.
 * Loop thread only. Errors: EVL_EINVAL (NULL inputs with n > 0), EVL_EPERM, EVL_ENOMEM.
 */
EVL_API int evl_promise_all(struct evl_loop *loop, const struct evl_promise_input *inputs, size_t n,
                            struct evl_promise **out);
EVL_API int evl_promise_all_settled(struct evl_loop *loop, const struct evl_promise_input *inputs,
                                    size_t n, struct evl_promise **out);
EVL_API int evl_promise_any(struct evl_loop *loop, const struct evl_promise_input *inputs, size_t n,
                            struct evl_promise **out);
EVL_API int evl_promise_race(struct evl_loop *loop, const struct evl_promise_input *inputs,
                             size_t n, struct evl_promise **out);

/* A read-only list of settlement records (the value of all/allSettled, the reasons of an
 * aggregate error). Borrowed from the promise or error that holds it. Loop thread only. */
EVL_API size_t evl_values_count(const struct evl_values *v);
/* The i-th value or reason (borrowed), NULL if i is out of range. */
EVL_API void *evl_values_get(const struct evl_values *v, size_t i);
/* EVL_PROMISE_FULFILLED or EVL_PROMISE_REJECTED (allSettled's status); PENDING if out of
 * range. */
EVL_API enum evl_promise_state evl_values_status(const struct evl_values *v, size_t i);
/* The i-th entry as an evl_error if it is one (see evl_promise_reason_as_error), else NULL. */
EVL_API const struct evl_error *evl_values_error(const struct evl_values *v, size_t i);

/* ---- Thread-safe resolver ---------------------------------------------------------------- */

/*
 * A handle another thread uses to settle p exactly once (+1, released with
 * evl_resolver_release from any thread). Settling hops onto the loop through
 * evl_loop_submit; the promise is then resolved as evl_promise_resolve would (first settle
 * wins there too). Creating it: loop thread only. Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM.
 */
EVL_API int evl_resolver_new(struct evl_promise *p, struct evl_resolver **out);

/*
 * Settle from any thread. Returns 0 (value now belongs to libevl; if the loop is closed
 * before the hop runs, the value is destroyed with dtor), EVL_EALREADY (this resolver was
 * already used), or EVL_ECLOSED / EVL_ENOMEM (refused: nothing happened, the resolver is
 * still unused and the value stays the caller's). Thread-safe.
 */
EVL_API int evl_resolver_resolve(struct evl_resolver *r, void *value, evl_dtor_cb dtor);
EVL_API int evl_resolver_reject(struct evl_resolver *r, void *reason, evl_dtor_cb dtor);

/* Drops the caller's handle. Releasing an unused resolver leaks nothing: the promise
 * reference it holds is dropped on the loop thread (or at loop teardown). Thread-safe. */
EVL_API void evl_resolver_release(struct evl_resolver *r);

/* ---- Loop-level hooks and statistics (loop thread only) ---------------------------------- */

enum evl_thenable_kind {
    EVL_THENABLE_NO = 0,   /* not an object with a callable then: fulfil with it */
    EVL_THENABLE_YES = 1,  /* *then_out is the captured then function */
    EVL_THENABLE_THREW = 2 /* Get(value, "then") threw: *then_out is the reason */
};

/*
 * The foreign-thenable hook an adapter installs, implementing the spec's steps exactly:
 * get_then is Get(resolution, "then"), called synchronously inside the resolve function for
 * every non-NULL value (never for evl promises, which are recognised directly); it returns
 * an evl_thenable_kind and, for YES and THREW, gives an object to libevl in *then_out (with
 * destructor *then_dtor). For YES a NewPromiseResolveThenableJob is queued; it calls
 * call_then(value, then, resolvers): the adapter calls then with two functions wrapping
 * resolvers (fresh resolving functions with their own already-resolved flag; retain them
 * to keep them) and, if that call throws, calls evl_resolvers_reject with the error
 * (ignored if already resolved). value and then are borrowed during call_then.
 */
struct evl_thenable_hooks {
    int (*get_then)(struct evl_loop *loop, void *ud, void *value, void **then_out,
                    evl_dtor_cb *then_dtor);
    void (*call_then)(struct evl_loop *loop, void *ud, void *value, void *then_fn,
                      struct evl_promise_resolvers *resolvers);
    void *ud;
};

/* Installs the thenable hooks (copied; NULL removes). Loop thread only. Errors: EVL_EINVAL,
 * EVL_ENOMEM. */
EVL_API int evl_loop_set_thenable_hooks(struct evl_loop *loop,
                                        const struct evl_thenable_hooks *hooks);
/* The ud of the installed thenable hooks (NULL if none); lets destructors find the adapter. */
EVL_API void *evl_loop_thenable_ud(struct evl_loop *loop);

/* A rejection-tracking report: p is borrowed for the call (retain it to keep it). */
typedef void (*evl_rejection_cb)(struct evl_loop *loop, struct evl_promise *p, void *ud);

/*
 * HostPromiseRejectionTracker reports, delivered at the end of a microtask checkpoint:
 * on_unhandled for promises rejected with no handler that still have none; on_handled_later
 * for promises reported unhandled earlier that got a handler since (Node's
 * 'rejectionHandled'). Handled-later reports come first, as in Node. NULL hooks restore the
 * default, which logs at warn through evl_log. Loop thread only. Errors: EVL_EINVAL,
 * EVL_ENOMEM.
 */
EVL_API int evl_loop_set_rejection_hooks(struct evl_loop *loop, evl_rejection_cb on_unhandled,
                                         evl_rejection_cb on_handled_later, void *ud);

struct evl_promise_stats {
    uint64_t live;    /* promises allocated and not yet freed */
    uint64_t pending; /* live and pending */
    uint64_t settled; /* live and settled */
    uint64_t created; /* total created on this loop */
};

/* Counters of this loop's promises (all builds). Loop thread only. */
EVL_API void evl_loop_promise_stats(struct evl_loop *loop, struct evl_promise_stats *out);

/*
 * The leak registry: with it on, every promise created afterwards is recorded with its
 * creation site (file:line of the public call, captured by the macros below when
 * EVL_PROMISE_SITES is defined, as it is by default in builds without NDEBUG).
 * It is on by default in debug builds of libevl. Loop thread only. Errors: EVL_EINVAL,
 * EVL_ENOMEM.
 */
EVL_API int evl_loop_promise_registry(struct evl_loop *loop, int enable);

/* A registry entry as reported by evl_loop_promise_dump. */
typedef void (*evl_promise_site_cb)(struct evl_promise *p, const char *file, int line, void *ud);

/* Calls cb for every live registered promise (oldest first); returns their number. Loop
 * thread only. */
EVL_API size_t evl_loop_promise_dump(struct evl_loop *loop, evl_promise_site_cb cb, void *ud);

/* The recorded creation site of p (file NULL when unknown). Loop thread only. */
EVL_API void evl_promise_site(const struct evl_promise *p, const char **file, int *line);

/* Records the creation site for the next promise created on this thread (used by the
 * macros below; rarely called directly). Thread-safe (thread-local). */
EVL_API void evl_promise_set_site(const char *file, int line);

/*
 * Creation-site capture: each macro has the function's name, records file:line and then
 * calls the function (a function-like macro does not expand recursively). Call
 * (evl_promise_then)(...) to bypass it. Off when NDEBUG is defined unless
 * EVL_PROMISE_SITES is defined; EVL_NO_PROMISE_SITES turns it off.
 */
#if !defined(EVL_NO_PROMISE_SITES) && (defined(EVL_PROMISE_SITES) || !defined(NDEBUG))
#define EVL__SITE(call)                 (evl_promise_set_site(__FILE__, __LINE__), call)
#define evl_promise_new(...)            EVL__SITE(evl_promise_new(__VA_ARGS__))
#define evl_promise_resolved(...)       EVL__SITE(evl_promise_resolved(__VA_ARGS__))
#define evl_promise_rejected(...)       EVL__SITE(evl_promise_rejected(__VA_ARGS__))
#define evl_promise_with_resolvers(...) EVL__SITE(evl_promise_with_resolvers(__VA_ARGS__))
#define evl_promise_then(...)           EVL__SITE(evl_promise_then(__VA_ARGS__))
#define evl_promise_catch(...)          EVL__SITE(evl_promise_catch(__VA_ARGS__))
#define evl_promise_finally(...)        EVL__SITE(evl_promise_finally(__VA_ARGS__))
#define evl_promise_try(...)            EVL__SITE(evl_promise_try(__VA_ARGS__))
#define evl_promise_all(...)            EVL__SITE(evl_promise_all(__VA_ARGS__))
#define evl_promise_all_settled(...)    EVL__SITE(evl_promise_all_settled(__VA_ARGS__))
#define evl_promise_any(...)            EVL__SITE(evl_promise_any(__VA_ARGS__))
#define evl_promise_race(...)           EVL__SITE(evl_promise_race(__VA_ARGS__))
#endif

#ifdef __cplusplus
}
#endif

#endif

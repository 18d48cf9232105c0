/*
 * Internals shared by promise.c, combinator.c, rejection.c, pool.c and error.c. Loop thread
 * only unless a comment says otherwise.
 */
#ifndef EVL_PROMISE_INTERNAL_H
#define EVL_PROMISE_INTERNAL_H

#ifndef EVL_NO_PROMISE_SITES
#define EVL_NO_PROMISE_SITES 1
#endif

#include "evl/error.h"
#include "evl/pool.h"
#include "evl/promise.h"

#include "core/loop_internal.h"

#include <pthread.h>
#include <stdbool.h>

/* evl_queue_microtask without the argument and thread checks (callers are on the loop). */
static inline int evl__queue_job(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (loop->admission_closed) {
        return EVL_ECLOSED;
    }
    /* Fast path: room in the ring (the same test evl__ring_push makes before growing). */
    struct evl__ring *r = &loop->micro;
    if (r->buf && r->tail - r->head <= r->mask) {
        struct evl__task *slot = &r->buf[r->tail & r->mask];
        slot->fn = fn;
        slot->arg = arg;
        r->tail++;
        return 0;
    }
    return evl__ring_push(loop, r, fn, arg);
}

/* Promise flags: the state lives in the two low bits. */
enum {
    EVL__P_STATE = 3u,
    EVL__P_RESOLVED = 1u << 2, /* the original resolving functions were used */
    EVL__P_HANDLED = 1u << 3,  /* [[PromiseIsHandled]] */
    EVL__P_SHARED = 1u << 4,   /* value is owned by u.owner, not by this promise */
    EVL__P_REPORTED = 1u << 5, /* reported to the unhandled hook */
    EVL__P_TRACKED = 1u << 6,  /* in the pending-unhandled list (holds a reference) */
    EVL__P_FREEING = 1u << 7   /* on the free worklist */
};

struct evl__reaction;
struct evl__site;
struct evl__pstate;

/*
 * 40 bytes on LP64. While pending, value holds the tail of the circular reaction list
 * (tail->next is the head); once settled it holds the value and u says who owns it.
 */
struct evl_promise {
    struct evl__pstate *ps;
    uint32_t refs;
    uint32_t flags;
    void *value;
    union {
        evl_dtor_cb dtor;          /* the promise owns value */
        struct evl_promise *owner; /* EVL__P_SHARED: owner owns value (+1 held here) */
        struct evl_promise *next;  /* on the free worklist */
    } u;
    struct evl__site *site; /* leak registry node, NULL when not registered */
};

/*
 * One reaction record (PromiseReaction pair + derived capability), 48 bytes. While queued
 * as a job, next holds the settled source promise (+1).
 */
struct evl__reaction {
    void *next;
    evl_reaction_cb on_fulfilled;
    evl_reaction_cb on_rejected;
    void *arg;
    evl_dtor_cb arg_dtor;
    struct evl_promise *derived; /* +1, NULL when nobody observes the outcome */
};

/* A value in transit: at most one of dtor and owner is set (owner is +1). */
struct evl__val {
    void *ptr;
    evl_dtor_cb dtor;
    struct evl_promise *owner;
};

/* The outcome a handler chose. */
enum evl__outcome {
    EVL__OUT_NONE = 0,
    EVL__OUT_VALUE,
    EVL__OUT_PROMISE,
    EVL__OUT_REJECT,
    EVL__OUT_FORWARD
};

struct evl_result {
    struct evl_promise *source; /* borrowed; NULL for try and finally callbacks */
    int kind;
    struct evl__val val;
    struct evl_promise *promise; /* EVL__OUT_PROMISE: +1 */
};

struct evl_promise_resolvers {
    uint32_t refs;
    uint8_t fresh; /* own already-resolved flag (thenable jobs) instead of the promise's */
    uint8_t done;
    struct evl_promise *p; /* +1 */
};

struct evl__site {
    struct evl__site *prev;
    struct evl__site *next;
    struct evl_promise *p;
    const char *file;
    int line;
};

/* A value list: each entry shares the value of a settled promise (+1 on its owner). */
struct evl_values {
    size_t n;
    struct {
        void *value;
        struct evl_promise *owner;
        uint8_t status;
    } items[];
};

struct evl_values *evl__values_new(size_t n);
/* Stores settled's value (shared) and state at index i. */
void evl__values_set(struct evl_values *v, size_t i, struct evl_promise *settled);

struct evl__pool_job;
struct evl_resolver;

/* Per-loop promise state, created on first use. */
struct evl__pstate {
    struct evl_loop *loop;
    void *free_objs; /* pooled 48-byte records (promises and reactions) */
    size_t n_free;
    void *slabs;                   /* release builds: slab list */
    struct evl_promise *free_work; /* promises whose last reference went */
    bool freeing;
    bool has_thenable;
    bool registry;
    bool closing;
    struct evl_thenable_hooks thenable;
    evl_rejection_cb on_unhandled;
    evl_rejection_cb on_handled_later;
    void *rejection_ud;
    struct evl_promise **unhandled; /* pending "reject" operations (+1 each) */
    size_t n_unhandled;
    size_t cap_unhandled;
    struct evl_promise **handled; /* "handle" operations on reported promises (+1 each) */
    size_t n_handled;
    size_t cap_handled;
    struct evl_promise_stats stats;
    struct evl__site sites;         /* registry list head */
    struct evl__pool_job *jobs;     /* this loop's pool jobs not yet completed */
    struct evl_resolver *resolvers; /* unsettled thread-safe resolvers */
};

/* The state of loop, created on first use (NULL on allocation failure). */
struct evl__pstate *evl__pstate_get(struct evl_loop *loop);

/* Site capture: takes and clears the calling thread's pending site. */
void evl__site_take(const char **file, int *line);

/* Allocation and settlement primitives. */
/* site: take the creation site recorded by the public macros (public entry points only). */
struct evl_promise *evl__promise_alloc(struct evl__pstate *ps, int site);
void evl__promise_free(struct evl_promise *p);
/* Drops a reference; the last one frees (through a work list, never recursively). */
static inline void evl__promise_release(struct evl_promise *p)
{
    if (--p->refs == 0) {
        evl__promise_free(p);
    }
}
struct evl__reaction *evl__reaction_alloc(struct evl__pstate *ps);
void evl__reaction_free(struct evl__pstate *ps, struct evl__reaction *rx);
/* Runs the resolve function's steps on a pending promise (value ownership moves in). */
void evl__promise_do_resolve(struct evl_promise *p, struct evl__val v);
void evl__promise_do_resolve_promise(struct evl_promise *p, struct evl_promise *q);
void evl__promise_do_reject(struct evl_promise *p, struct evl__val v);
/* The value of a settled promise as a shared value (+1 on its owner). */
struct evl__val evl__promise_share(struct evl_promise *p);
void evl__val_drop(struct evl__pstate *ps, struct evl__val v);
/* PerformPromiseThen with a prepared reaction record (ownership of rx moves in on success;
 * on failure, only possible on a settled promise, nothing happened). */
int evl__promise_perform_then(struct evl_promise *p, struct evl__reaction *rx);
/* A rejection with a fresh evl_error (a static fallback on allocation failure). */
struct evl__val evl__error_val(int code, const char *msg);
/* Nonzero if (value, dtor) is an evl_error. */
int evl__error_is(const void *value, evl_dtor_cb dtor);
/* Aggregate error creation for any(): takes ownership of list. */
struct evl__val evl__error_aggregate(struct evl_values *list);
void evl__values_free(struct evl_values *v);
void evl__values_dtor(struct evl_loop *loop, void *v);
bool evl__on_loop(struct evl_loop *loop);

/* rejection.c: HostPromiseRejectionTracker operations and the checkpoint hook. */
void evl__rejection_reject(struct evl_promise *p);
void evl__rejection_handle(struct evl_promise *p);
void evl__rejection_checkpoint(struct evl_loop *loop, void *ud);
void evl__rejection_deinit(struct evl__pstate *ps);

/* pool.c and promise.c teardown hooks. */
void evl__pool_loop_teardown(struct evl__pstate *ps);
void evl__resolvers_loop_teardown(struct evl__pstate *ps);

#endif

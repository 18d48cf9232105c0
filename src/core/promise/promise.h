/*
 * The promise module's private header (src/core/promise/): records, the per-loop state and
 * the primitives shared by its files and by the subsystems that settle promises (pool/).
 * Loop thread only unless a comment says otherwise.
 *
 *   promise.c     objects, the resolution procedure, reactions as promise jobs, then
 *   resolvers.c   resolving functions as objects, and the thread-safe resolver
 *   combinator.c  all, allSettled, any, race, and finally and try over then
 *   rejection.c   HostPromiseRejectionTracker and the checkpoint hook that reports
 *   values.c      value lists (struct evl_values) and the aggregate error
 *   state.c       the per-loop state: creation, hooks, statistics, registry, teardown
 *
 * It knows no layout of struct evl_loop; the inline paths that read the loop's members are
 * in promise_internal.h.
 */
#ifndef EVL_CORE_PROMISE_PROMISE_H
#define EVL_CORE_PROMISE_PROMISE_H

#ifndef EVL_NO_PROMISE_SITES
#define EVL_NO_PROMISE_SITES 1
#endif

#include "evl/error.h"
#include "evl/promise.h"

#include "core/error/error.h"

#include <pthread.h>
#include <stdbool.h>

/* Promise flags: the state lives in the two low bits. */
enum {
    EVL__P_STATE = 3u,
    EVL__P_RESOLVED = 1u << 2, /* the original resolving functions were used */
    EVL__P_HANDLED = 1u << 3,  /* [[PromiseIsHandled]] */
    EVL__P_SHARED = 1u << 4,   /* value is owned by u.owner, not by this promise */
    EVL__P_REPORTED = 1u << 5, /* reported to the unhandled hook */
    EVL__P_TRACKED = 1u << 6,  /* in the pending-unhandled list (holds a reference) */
    EVL__P_FREEING = 1u << 7,  /* on the free worklist */
    EVL__P_SITE = 1u << 8,     /* a registry record: struct evl__site_promise, own malloc */
    EVL__P_EXPOSED = 1u << 9   /* a script engine has seen it (evl_promise_mark_exposed) */
};

struct evl__reaction;
struct evl__site;
struct evl__pstate;

/*
 * 32 bytes on LP64, one pooled slot (16-byte aligned: the reaction tags fit below it). While
 * pending, value holds the tail of the circular reaction list (tail->next is the head); once
 * settled it holds the value and u says who owns it. The leak registry's node is not here: a
 * promise created with the registry on is a struct evl__site_promise (EVL__P_SITE), so the common
 * record carries no site pointer.
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
};

/* Tag bits in evl__reaction.dtag, below the derived promise pointer. */
enum {
    EVL__RX_EXT = 1u,  /* the record is a struct evl__reaction_ext (48-byte slot) */
    EVL__RX_LAZY = 2u, /* nobody asked for the derived promise: it is made in the job, and
                        * only when the outcome could reject it (rejection tracking) */
    EVL__RX_CTX = 4u,  /* an extended record whose frame holds the context captured by then
                        * (HostMakeJobCallback), current around the handler */
    EVL__RX_TAGS = 7u
};

/*
 * One reaction record (PromiseReaction pair + derived capability), 32 bytes: the common
 * then(on_fulfilled) without on_rejected or arg destructor. A reaction with either is a
 * struct evl__reaction_ext (48 bytes, EVL__RX_EXT). While queued as a job, next holds the
 * settled source promise (+1).
 */
struct evl__reaction {
    void *next;
    uintptr_t dtag; /* derived promise (+1, may be NULL) | EVL__RX_* tags */
    evl_reaction_cb on_fulfilled;
    void *arg;
};

struct evl_context_frame;

struct evl__reaction_ext {
    struct evl__reaction rx;
    evl_reaction_cb on_rejected;
    evl_dtor_cb arg_dtor;
    struct evl_context_frame *frame; /* EVL__RX_CTX: +1 */
};

static inline struct evl_promise *evl__rx_derived(const struct evl__reaction *rx)
{
    return (struct evl_promise *)(rx->dtag & ~(uintptr_t)EVL__RX_TAGS);
}

static inline void evl__rx_set_derived(struct evl__reaction *rx, struct evl_promise *d)
{
    rx->dtag = (uintptr_t)d | (rx->dtag & (EVL__RX_EXT | EVL__RX_CTX));
}

static inline evl_reaction_cb evl__rx_on_rejected(const struct evl__reaction *rx)
{
    return (rx->dtag & EVL__RX_EXT) ? ((const struct evl__reaction_ext *)rx)->on_rejected : NULL;
}

static inline evl_dtor_cb evl__rx_arg_dtor(const struct evl__reaction *rx)
{
    return (rx->dtag & EVL__RX_EXT) ? ((const struct evl__reaction_ext *)rx)->arg_dtor : NULL;
}

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

/* A promise created with the leak registry on: the record and its registry node together. */
struct evl__site_promise {
    struct evl_promise p;
    struct evl__site site;
};

/* A free list of fixed-size pooled records, refilled a slab at a time. */
struct evl__objpool {
    void *free;
    unsigned char *bump; /* release builds: the newest slab's records not yet handed out */
    unsigned char *bump_end;
    void *slabs; /* release builds: slab list */
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

struct evl_resolver;

/* Per-loop promise state, created on first use. */
struct evl__pstate {
    struct evl_loop *loop;
    struct evl__objpool small;     /* 32-byte records: promises and compact reactions */
    struct evl__objpool large;     /* 48-byte records: extended reactions */
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
    struct evl_resolver *resolvers; /* unsettled thread-safe resolvers */
};

/* state.c: creates the state of loop (NULL on allocation failure or once the loop's
 * teardown began). */
struct evl__pstate *evl__pstate_create(struct evl_loop *loop);

/* promise.c: frees the state and its record slabs (no promise is live any more). */
void evl__pstate_free(struct evl__pstate *ps);
/* promise.c: the checkpoint's discard function (close drops queued promise jobs). */
void evl__promise_micro_discard(struct evl_loop *loop, evl_task_cb fn, void *arg);

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
/* An extended reaction record (dtag = EVL__RX_EXT, no derived promise). */
struct evl__reaction_ext *evl__reaction_ext_alloc(struct evl__pstate *ps);
/* Returns a reaction record of either size to its pool. */
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
/* evl_promise_then; site 0: the derived promise takes no creation site (internal calls). */
int evl__promise_then(struct evl_promise *p, evl_reaction_cb on_fulfilled,
                      evl_reaction_cb on_rejected, void *arg, evl_dtor_cb arg_dtor,
                      struct evl_promise **out, int site);
/* A rejection with a fresh evl_error (a static fallback on allocation failure). */
static inline struct evl__val evl__promise_error_val(int code, const char *msg)
{
    struct evl__val v = {NULL, NULL, NULL};
    v.ptr = evl__error_make(code, msg, &v.dtor);
    return v;
}
/* values.c: an aggregate error for any(); takes ownership of list. */
struct evl__val evl__values_aggregate_error(struct evl_values *list);
void evl__values_free(struct evl_values *v);
void evl__values_dtor(struct evl_loop *loop, void *v);

/* rejection.c: HostPromiseRejectionTracker operations and the checkpoint hook. */
void evl__rejection_reject(struct evl_promise *p);
void evl__rejection_handle(struct evl_promise *p);
void evl__rejection_checkpoint(struct evl_loop *loop, void *ud);
void evl__rejection_deinit(struct evl__pstate *ps);

/* resolvers.c: detaches every thread-safe resolver still listed (state teardown). */
void evl__resolvers_loop_teardown(struct evl__pstate *ps);

#endif

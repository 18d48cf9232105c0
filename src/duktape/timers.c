/*
 * setTimeout/setInterval/setImmediate and their clears, queueMicrotask, process.nextTick.
 *
 * Kept in one file because the timer functions share the id map and the Timeout/Immediate
 * records; the containers themselves (the map, the record pool) live elsewhere.
 *
 * A Timeout or Immediate object holds its callback and arguments in hidden properties and is
 * kept alive by one registry handle while the loop has it pending. The C record
 * (struct evl_duk_timer) is the loop callback's argument; a map from the loop's id to the
 * record lets clearTimeout(number) find it. Ids are the loop's: timeouts, intervals and
 * immediates share one space, so any clear works on any id.
 *
 * The hot path (setTimeout + clearTimeout) goes through the engine fast paths of
 * engine/duk_engine.h: the object is born with its hidden properties in a table of the right
 * size, and the id is read and negated in place; the public API remains the fallback and the
 * path for the rare methods (ref, refresh, ...).
 */
#include "duktape/timers.h"

#include "container/hash.h"

#include "duktape/engine/duk_engine.h"
#include "duktape/bootstrap.h"
#include "duktape/error.h"
#include "duktape/limits.h"
#include "duktape/process.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define KEY_ID   DUK_HIDDEN_SYMBOL("id")
#define KEY_CB   DUK_HIDDEN_SYMBOL("cb")
#define KEY_ARGS DUK_HIDDEN_SYMBOL("args")
/* The delay in ms, negative for an interval (one property instead of two). */
#define KEY_DELAY DUK_HIDDEN_SYMBOL("delay")
#define KEY_UNREF DUK_HIDDEN_SYMBOL("unref")
#define KEY_FN    DUK_HIDDEN_SYMBOL("fn")

#define STASH_TIMEOUT_PROTO   DUK_HIDDEN_SYMBOL("evl_timeout_proto")
#define STASH_IMMEDIATE_PROTO DUK_HIDDEN_SYMBOL("evl_immediate_proto")
#define STASH_TIMER_KEYS      DUK_HIDDEN_SYMBOL("evl_timer_keys")

/* Node's TIMEOUT_MAX: 2^31 - 1 ms. */
#define NODE_TIMEOUT_MAX 2147483647.0

enum timer_kind { KIND_TIMEOUT = 0, KIND_INTERVAL = 1, KIND_IMMEDIATE = 2 };

struct evl_duk_timer {
    struct evl_duk *d;
    uint64_t id;
    uint32_t ref; /* registry handle of the Timeout/Immediate object */
    uint8_t kind;
};

struct evl_duk_task {
    struct evl_duk *d; /* NULL once the binding is gone: the job only frees itself */
    uint32_t ref;      /* the function, or [fn, args...] when with_args */
    uint8_t with_args;
    struct evl_duk_task *prev, *next;
};

/* ---- id -> record map (d->timers, container/hash.h) ----------------------------------- */

static struct evl_duk_timer *map_find(struct evl_duk *d, uint64_t id)
{
    void *t;
    return evl__hash_get(&d->timers, id, &t) ? t : NULL;
}

static int map_insert(struct evl_duk *d, struct evl_duk_timer *t)
{
    return evl__hash_put(&d->timers, t->id, t);
}

static void map_remove(struct evl_duk *d, struct evl_duk_timer *t)
{
    (void)evl__hash_remove(&d->timers, t->id, NULL);
}

/* Records kept for reuse (d->timer_pool): enough for any steady churn, bounded so that a
 * burst of pending timers does not pin its memory forever. */
#define TIMER_POOL_MAX 256

static struct evl_duk_timer *timer_alloc(struct evl_duk *d)
{
    struct evl_duk_timer *t = evl__duk_pool_get(&d->timer_pool);
    if (t) {
        memset(t, 0, sizeof(*t));
        return t;
    }
    return evl_calloc(1, sizeof(*t));
}

static void timer_release(struct evl_duk *d, struct evl_duk_timer *t)
{
    if (!evl__duk_pool_put(&d->timer_pool, t)) {
        evl_free(t);
    }
}

/* Drops a record already out of the map: registry handle, memory. */
static void timer_drop(struct evl_duk *d, struct evl_duk_timer *t)
{
    evl__duk_unref(d, t->ref);
    timer_release(d, t);
}

/* Forgets a pending record: map entry, registry handle, memory. The loop side must already
 * be done (fired one-shot) or cleared. */
static void timer_forget(struct evl_duk *d, struct evl_duk_timer *t)
{
    map_remove(d, t);
    timer_drop(d, t);
}

/* The end of the run (process.exit, an uncaught error): every timer goes. Queued nextTick
 * and queueMicrotask jobs stay linked: if the loop runs them they only free themselves (the
 * binding is terminated), and if it drops them instead the final release frees them. */
static void timers_cancel(struct evl_duk *d)
{
    uint32_t cursor = 0;
    uint64_t id;
    void *t;
    while (evl__hash_next(&d->timers, &cursor, &id, &t)) {
        (void)evl_timer_clear(d->loop, id);
        evl_free(t);
    }
    evl__hash_deinit(&d->timers);
    evl__duk_pool_drain(&d->timer_pool, evl_free);
    evl__duk_pool_drain(&d->task_pool, evl_free);
}

void evl__duk_timers_release(struct evl_duk *d)
{
    timers_cancel(d);
    /* A terminated loop dropped its queues: the jobs still listed will never run. A live one
     * may still run them, and a queued job cannot be taken back: orphan them (they free
     * themselves when run, or in discard_task when the loop is closed or freed first). */
    int dropped = evl_loop_state(d->loop) == EVL_LOOP_TERMINATED;
    struct evl_duk_task *task = d->tasks;
    while (task) {
        struct evl_duk_task *next = task->next;
        if (dropped) {
            evl_free(task);
        } else {
            task->d = NULL;
            task->prev = task->next = NULL;
        }
        task = next;
    }
    d->tasks = NULL;
}

/* ---- helpers --------------------------------------------------------------------------- */

static struct evl_duk *binding_or_throw(duk_context *ctx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        (void)duk_error(ctx, DUK_ERR_ERROR, "evl: the heap is not bound to a loop");
    }
    if (d->terminated) {
        (void)duk_error(ctx, DUK_ERR_ERROR, "evl: the process is exiting");
    }
    return d;
}

/* Throws Node's ERR_INVALID_ARG_TYPE TypeError for argument idx. */
static duk_ret_t throw_invalid_arg(struct evl_duk *d, const char *name, const char *expected,
                                   duk_idx_t idx)
{
    duk_context *ctx = d->ctx;
    idx = duk_normalize_index(ctx, idx);
    if (evl__duk_push_internal(d, "invalidArgType")) {
        duk_push_string(ctx, name);
        duk_push_string(ctx, expected);
        duk_dup(ctx, idx);
        duk_call(ctx, 3);
        return duk_throw(ctx);
    }
    return duk_error(ctx, DUK_ERR_TYPE_ERROR, "The \"%s\" argument must be of type %s", name,
                     expected);
}

static void throw_evl_error(duk_context *ctx, int rc)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "evl: %s", evl_strerror(rc));
    evl__duk_push_error_code(ctx, rc, NULL, rc == EVL_ENOMEM ? NULL : msg);
    (void)duk_throw(ctx);
}

/* Node's TimeoutOverflowWarning, through process.emitWarning (which a script may replace,
 * so it is looked up at each use). Throws what emitWarning throws. */
static void warn_overflow(struct evl_duk *d, double ms)
{
    duk_context *ctx = d->ctx;
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    duk_remove(ctx, -2);
    duk_get_prop_string(ctx, -1, "emitWarning");
    if (!duk_is_function(ctx, -1)) {
        duk_pop_2(ctx);
        return;
    }
    duk_swap_top(ctx, -2);
    duk_push_number(ctx, ms);
    duk_push_string(ctx,
                    " does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.");
    duk_concat(ctx, 2);
    duk_push_string(ctx, "TimeoutOverflowWarning");
    duk_call_method(ctx, 2);
    duk_pop(ctx);
}

/* Node's delay coercion (the Timeout's _idleTimeout): missing, NaN, < 1 or > 2^31-1 => 1 ms
 * (the last with a warning). Fractions are kept here and truncated when armed, as Node keys
 * its timer lists by whole milliseconds. */
static double coerce_delay(struct evl_duk *d, duk_idx_t idx)
{
    duk_context *ctx = d->ctx;
    double ms = duk_is_undefined(ctx, idx) ? NAN : duk_to_number(ctx, idx);
    if (ms >= 1 && ms <= NODE_TIMEOUT_MAX) {
        return ms;
    }
    if (ms > NODE_TIMEOUT_MAX) {
        warn_overflow(d, ms);
    }
    return 1;
}

static void fire(struct evl_loop *loop, uint64_t id, void *arg);

/* Arms the loop timer for the object at obj_idx and records it. Returns 0 or an EVL_E*. */
static int arm(struct evl_duk *d, duk_idx_t obj_idx, enum timer_kind kind, uint64_t delay,
               int rearm)
{
    duk_context *ctx = d->ctx;
    if (!rearm && d->max_timers && evl__hash_count(&d->timers) >= d->max_timers) {
        return EVL_ELIMIT;
    }
    struct evl_duk_timer *t = timer_alloc(d);
    if (!t) {
        return EVL_ENOMEM;
    }
    t->d = d;
    t->kind = (uint8_t)kind;
    t->ref = evl__duk_ref(d, obj_idx);
    if (!t->ref) {
        evl_free(t);
        return EVL_ENOMEM;
    }
    int rc;
    if (kind == KIND_IMMEDIATE) {
        rc = evl_immediate_set(d->loop, fire, t, &t->id);
    } else {
        rc = evl_timer_set(d->loop, fire, t, delay, kind == KIND_INTERVAL ? delay : 0, &t->id);
    }
    if (rc == 0) {
        rc = map_insert(d, t);
        if (rc != 0) {
            (void)evl_timer_clear(d->loop, t->id);
        }
    }
    if (rc != 0) {
        evl__duk_unref(d, t->ref);
        timer_release(d, t);
        return rc;
    }
    if (!evl__duk_set_own_number(ctx, obj_idx, d->key_id, (double)t->id)) {
        duk_push_number(ctx, (double)t->id);
        duk_put_prop_literal(ctx, obj_idx, KEY_ID);
    }
    if (rearm) {
        /* refresh() of a fired timer keeps its unref'd state. */
        if (duk_get_prop_literal(ctx, obj_idx, KEY_UNREF) && duk_to_boolean(ctx, -1)) {
            (void)evl_timer_unref(d->loop, t->id);
        }
        duk_pop(ctx);
    }
    return 0;
}

static void fire(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    struct evl_duk_timer *t = arg;
    struct evl_duk *d = t->d;
    duk_context *ctx = d->ctx;
    evl__duk_push_ref(d, t->ref);
    duk_idx_t obj = duk_get_top_index(ctx);
    if (t->kind != KIND_INTERVAL) {
        timer_forget(d, t);
    }
    (void)evl__duk_get_own(ctx, obj, d->key_cb);
    duk_dup(ctx, obj);
    duk_idx_t nargs = 0;
    if (evl__duk_get_own(ctx, obj, d->key_args)) {
        nargs = (duk_idx_t)duk_get_length(ctx, -1);
        duk_require_stack(ctx, nargs);
        for (duk_idx_t i = 0; i < nargs; i++) {
            duk_get_prop_index(ctx, -1 - i, (duk_uarridx_t)i);
        }
        duk_remove(ctx, -1 - nargs);
    } else {
        duk_pop(ctx);
    }
    void *outer = d->firing;
    d->firing = duk_get_heapptr(ctx, obj);
    (void)evl__duk_call_method_guarded(d, nargs);
    d->firing = outer;
    duk_pop_2(ctx);
}

/* setTimeout / setInterval / setImmediate: magic is the kind. Returns the new object. */
static duk_ret_t js_set(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    enum timer_kind kind = (enum timer_kind)duk_get_current_magic(ctx);
    duk_idx_t top = duk_get_top(ctx);
    duk_idx_t first_arg = kind == KIND_IMMEDIATE ? 1 : 2;
    if (top < first_arg) {
        duk_set_top(ctx, first_arg); /* missing callback or delay read as undefined */
        top = first_arg;
    }
    if (!duk_is_function(ctx, 0)) {
        return throw_invalid_arg(d, "callback", "function", 0);
    }
    double after = kind == KIND_IMMEDIATE ? 0 : coerce_delay(d, 1);
    uint64_t delay = (uint64_t)after;

    /* The hidden properties' values in key order: callback, id (set by arm), then the delay
     * for timers and the argument array when there are arguments. */
    void *keys[4] = {d->key_cb, d->key_id, NULL, NULL};
    duk_idx_t vals = duk_get_top(ctx);
    duk_idx_t n = 2;
    duk_dup(ctx, 0);
    duk_push_number(ctx, 0);
    if (kind != KIND_IMMEDIATE) {
        keys[n++] = d->key_delay;
        duk_push_number(ctx, kind == KIND_INTERVAL ? -after : after);
    }
    if (top > first_arg) {
        keys[n++] = d->key_args;
        duk_push_array(ctx);
        for (duk_idx_t i = first_arg; i < top; i++) {
            duk_dup(ctx, i);
            duk_put_prop_index(ctx, -2, (duk_uarridx_t)(i - first_arg));
        }
    }
    (void)evl__duk_push_record(ctx, kind == KIND_IMMEDIATE ? d->immediate_proto : d->timeout_proto,
                               keys, vals, n);
    duk_idx_t obj = duk_get_top_index(ctx);
    int rc = arm(d, obj, kind, delay, 0);
    if (rc == EVL_ELIMIT) {
        if (kind == KIND_IMMEDIATE) {
            evl__duk_throw_limit(ctx, "ERR_EVL_LIMIT_IMMEDIATES",
                                 "too many pending immediates (sandbox limit)");
        }
        evl__duk_throw_limit(ctx, "ERR_EVL_LIMIT_TIMERS", "too many live timers (sandbox limit)");
    }
    if (rc != 0) {
        throw_evl_error(ctx, rc);
    }
    return 1;
}

/*
 * The id behind a Timeout/Immediate object or a number; 0 if neither. An object's id is
 * stored negated once the object was cleared (so a cleared timer is never re-armed by
 * refresh), which costs a write to an existing property rather than a new one.
 */
static uint64_t id_from_number(double v)
{
    if (!(v >= 1 && v <= (double)EVL_TIMER_ID_MAX) || v != floor(v)) {
        return 0;
    }
    return (uint64_t)v;
}

/* The stored (signed) id of a Timeout/Immediate object; 0 if it has none. */
static double stored_id(struct evl_duk *d, duk_idx_t idx)
{
    double v = 0;
    if (evl__duk_get_own_number(d->ctx, idx, d->key_id, &v)) {
        return v;
    }
    duk_get_prop_literal(d->ctx, idx, KEY_ID);
    v = duk_get_number_default(d->ctx, -1, 0);
    duk_pop(d->ctx);
    return v;
}

static uint64_t id_of(struct evl_duk *d, duk_idx_t idx)
{
    duk_context *ctx = d->ctx;
    double v = 0;
    if (duk_is_object(ctx, idx)) {
        v = fabs(stored_id(d, idx));
    } else if (duk_is_number(ctx, idx)) {
        v = duk_get_number(ctx, idx);
    } else if (duk_is_string(ctx, idx) && !duk_is_symbol(ctx, idx)) {
        /* Symbols count as strings to the engine but cannot become numbers: not an id. */
        v = duk_to_number(ctx, idx);
    }
    return id_from_number(v);
}

static void clear_id(struct evl_duk *d, uint64_t id)
{
    void *t; /* found and removed in one probe */
    if (id && evl__hash_remove(&d->timers, id, &t)) {
        (void)evl_timer_clear(d->loop, id);
        timer_drop(d, t);
    }
}

/* Clears the Timeout/Immediate object at idx: negates its stored id, then clears that id. */
static void clear_object(struct evl_duk *d, duk_idx_t idx)
{
    duk_context *ctx = d->ctx;
    idx = duk_normalize_index(ctx, idx);
    double v = stored_id(d, idx);
    if (v > 0 && !evl__duk_set_own_number(ctx, idx, d->key_id, -v)) {
        duk_push_number(ctx, -v);
        duk_put_prop_literal(ctx, idx, KEY_ID);
    }
    clear_id(d, id_from_number(fabs(v)));
}

/* clearTimeout / clearInterval / clearImmediate: any of them clears any id. */
static duk_ret_t js_clear(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    if (duk_is_object(ctx, 0)) {
        clear_object(d, 0);
    } else {
        clear_id(d, id_of(d, 0));
    }
    return 0;
}

/* Timeout.prototype / Immediate.prototype methods; `this` is the object. */
static uint64_t this_pending(duk_context *ctx, struct evl_duk *d)
{
    duk_push_this(ctx);
    uint64_t id = id_of(d, -1);
    return id && map_find(d, id) ? id : 0;
}

static duk_ret_t js_ref(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    int unref = duk_get_current_magic(ctx);
    uint64_t id = this_pending(ctx, d);
    if (id) {
        (void)(unref ? evl_timer_unref(d->loop, id) : evl_timer_ref(d->loop, id));
    }
    duk_push_boolean(ctx, unref);
    duk_put_prop_literal(ctx, -2, KEY_UNREF);
    return 1;
}

static duk_ret_t js_has_ref(duk_context *ctx)
{
    (void)binding_or_throw(ctx);
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, KEY_UNREF);
    duk_push_boolean(ctx, !duk_to_boolean(ctx, -1));
    return 1;
}

static duk_ret_t js_refresh(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    uint64_t id = this_pending(ctx, d);
    if (id) {
        (void)evl_timer_refresh(d->loop, id);
        return 1;
    }
    /* Node re-arms a timer that already fired, but not one that was cleared. */
    duk_idx_t obj = duk_get_top_index(ctx);
    int dead = stored_id(d, obj) < 0;
    if (!dead && duk_get_prop_literal(ctx, obj, KEY_DELAY)) {
        double stored = duk_get_number(ctx, -1);
        uint64_t delay = (uint64_t)fabs(stored); /* truncated, as when first armed */
        enum timer_kind kind = stored < 0 ? KIND_INTERVAL : KIND_TIMEOUT;
        duk_pop(ctx);
        int rc = arm(d, obj, kind, delay, 1);
        if (rc != 0) {
            throw_evl_error(ctx, rc);
        }
    } else {
        duk_pop(ctx);
    }
    return 1;
}

static duk_ret_t js_close(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    duk_push_this(ctx);
    if (duk_is_object(ctx, -1)) {
        clear_object(d, -1);
    }
    return 1;
}

/*
 * The fields Node scripts read on Timeout/Immediate objects, as accessors on the prototypes
 * (the objects keep their compact hidden layout): magic 0 _idleTimeout, 1 _repeat,
 * 2 _destroyed, 3 _onTimeout/_onImmediate (with a setter, magic 4).
 */
static duk_ret_t js_field(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    int field = duk_get_current_magic(ctx);
    duk_push_this(ctx);
    duk_idx_t obj = duk_get_top_index(ctx);
    if (!duk_is_object(ctx, obj)) {
        return 0;
    }
    if (field == 4) {
        duk_dup(ctx, 0);
        duk_put_prop_literal(ctx, obj, KEY_CB);
        return 0;
    }
    if (field == 3) {
        duk_get_prop_literal(ctx, obj, KEY_CB);
        return 1;
    }
    double id = stored_id(d, obj);
    uint64_t pending = id > 0 && map_find(d, (uint64_t)id) ? (uint64_t)id : 0;
    if (field == 2) {
        duk_push_boolean(ctx, !pending && duk_get_heapptr(ctx, obj) != d->firing);
        return 1;
    }
    duk_get_prop_literal(ctx, obj, KEY_DELAY);
    double delay = duk_get_number_default(ctx, -1, 1);
    if (field == 1) {
        if (delay < 0) {
            duk_push_number(ctx, -delay);
        } else {
            duk_push_null(ctx);
        }
        return 1;
    }
    duk_push_number(ctx, id < 0 ? -1 : fabs(delay));
    return 1;
}

static void put_accessor(duk_context *ctx, duk_idx_t obj, const char *name, int get_magic,
                         int set_magic)
{
    duk_push_string(ctx, name);
    duk_push_c_function(ctx, js_field, 0);
    duk_set_magic(ctx, -1, get_magic);
    duk_uint_t flags =
        DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE;
    if (set_magic >= 0) {
        duk_push_c_function(ctx, js_field, 1);
        duk_set_magic(ctx, -1, set_magic);
        flags |= DUK_DEFPROP_HAVE_SETTER;
    }
    duk_def_prop(ctx, obj, flags);
}

static duk_ret_t js_to_primitive(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, KEY_ID);
    duk_push_number(ctx, fabs(duk_get_number_default(ctx, -1, 0)));
    return 1;
}

/* ---- nextTick and queueMicrotask -------------------------------------------------------- */

/* Job records are recycled through d->task_pool like Timeout records. An orphaned job (its
 * binding gone) frees its record itself. */
#define TASK_POOL_MAX 256

static struct evl_duk_task *task_alloc(struct evl_duk *d)
{
    struct evl_duk_task *task = evl__duk_pool_get(&d->task_pool);
    if (task) {
        memset(task, 0, sizeof(*task));
        return task;
    }
    return evl_calloc(1, sizeof(*task));
}

static void task_release(struct evl_duk *d, struct evl_duk_task *task)
{
    if (!evl__duk_pool_put(&d->task_pool, task)) {
        evl_free(task);
    }
}

static void task_unlink(struct evl_duk *d, struct evl_duk_task *task)
{
    if (task->prev) {
        task->prev->next = task->next;
    } else {
        d->tasks = task->next;
    }
    if (task->next) {
        task->next->prev = task->prev;
    }
}

static void run_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_duk_task *task = arg;
    struct evl_duk *d = task->d;
    if (!d) {
        evl_free(task);
        return;
    }
    task_unlink(d, task);
    duk_context *ctx = d->ctx;
    uint32_t ref = task->ref;
    int with_args = task->with_args;
    task_release(d, task);
    if (d->terminated) {
        evl__duk_unref(d, ref); /* the run ended: no more JS */
        return;
    }
    evl__duk_push_ref(d, ref);
    evl__duk_unref(d, ref);
    duk_idx_t nargs = 0;
    if (with_args) {
        duk_idx_t arr = duk_get_top_index(ctx);
        duk_idx_t len = (duk_idx_t)duk_get_length(ctx, arr);
        duk_require_stack(ctx, len + 1);
        duk_get_prop_index(ctx, arr, 0);
        duk_push_undefined(ctx);
        for (duk_idx_t i = 1; i < len; i++) {
            duk_get_prop_index(ctx, arr, (duk_uarridx_t)i);
        }
        nargs = len - 1;
        duk_remove(ctx, arr);
    } else {
        duk_push_undefined(ctx);
    }
    (void)evl__duk_call_method_guarded(d, nargs);
    duk_pop(ctx);
}

/* The loop dropped a job without running it (closed or freed first): what run_task would
 * have released, without calling into JavaScript. */
static void discard_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_duk_task *task = arg;
    struct evl_duk *d = task->d;
    if (!d) {
        evl_free(task); /* orphaned: the heap went first */
        return;
    }
    task_unlink(d, task);
    evl__duk_unref(d, task->ref);
    task_release(d, task);
}

/* Queues the value at the top of the stack (popped) as a job; magic 1 = nextTick. */
static int queue_task(struct evl_duk *d, int next_tick, int with_args)
{
    duk_context *ctx = d->ctx;
    struct evl_duk_task *task = task_alloc(d);
    if (!task) {
        duk_pop(ctx);
        return EVL_ENOMEM;
    }
    task->d = d;
    task->with_args = (uint8_t)with_args;
    task->ref = evl__duk_ref(d, -1);
    duk_pop(ctx);
    if (!task->ref) {
        task_release(d, task);
        return EVL_ENOMEM;
    }
    int rc = next_tick ? evl_next_tick_ex(d->loop, run_task, discard_task, task)
                       : evl_queue_microtask_ex(d->loop, run_task, discard_task, task);
    if (rc != 0) {
        evl__duk_unref(d, task->ref);
        task_release(d, task);
        return rc;
    }
    task->next = d->tasks;
    if (d->tasks) {
        d->tasks->prev = task;
    }
    d->tasks = task;
    return 0;
}

static duk_ret_t js_queue_microtask(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    if (!duk_is_function(ctx, 0)) {
        return throw_invalid_arg(d, "callback", "function", 0);
    }
    duk_dup(ctx, 0);
    int rc = queue_task(d, 0, 0);
    if (rc != 0) {
        throw_evl_error(ctx, rc);
    }
    return 0;
}

static duk_ret_t next_tick_native(duk_context *ctx)
{
    struct evl_duk *d = binding_or_throw(ctx);
    duk_idx_t top = duk_get_top(ctx);
    if (top == 0) {
        duk_push_undefined(ctx);
        top = 1;
    }
    if (!duk_is_function(ctx, 0)) {
        return throw_invalid_arg(d, "callback", "function", 0);
    }
    int with_args = top > 1;
    if (with_args) {
        duk_push_array(ctx);
        for (duk_idx_t i = 0; i < top; i++) {
            duk_dup(ctx, i);
            duk_put_prop_index(ctx, -2, (duk_uarridx_t)i);
        }
    } else {
        duk_dup(ctx, 0);
    }
    int rc = queue_task(d, 1, with_args);
    if (rc != 0) {
        throw_evl_error(ctx, rc);
    }
    return 0;
}

/* ---- installation ------------------------------------------------------------------------ */

/* Defines obj[name] as a native function with Node's `length` and `name`. */
static void put_function(duk_context *ctx, duk_idx_t obj, const char *name, duk_c_function fn,
                         duk_idx_t nargs, int magic, int length, int enumerable)
{
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
    /* Writable and configurable; Node's timer globals are enumerable, class methods not. */
    duk_push_string(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE |
                     (enumerable ? DUK_DEFPROP_SET_ENUMERABLE : DUK_DEFPROP_CLEAR_ENUMERABLE));
}

/* Pushes Symbol[name] (a well-known symbol). */
static void push_well_known_symbol(duk_context *ctx, const char *name)
{
    duk_get_global_string(ctx, "Symbol");
    duk_get_prop_string(ctx, -1, name);
    duk_remove(ctx, -2);
}

/* Pushes Symbol.dispose, defining Symbol.dispose and Symbol.asyncDispose first where the
 * engine lacks them (Node 20 has both for `using` in TypeScript output and libraries). */
static void push_dispose_symbol(duk_context *ctx)
{
    static const char *const names[] = {"asyncDispose", "dispose"};
    duk_get_global_string(ctx, "Symbol");
    for (size_t i = 0; i < 2; i++) {
        if (!duk_get_prop_string(ctx, -1, names[i])) {
            duk_pop(ctx);
            duk_push_string(ctx, names[i]);
            duk_get_global_string(ctx, "Symbol");
            duk_push_sprintf(ctx, "Symbol.%s", names[i]);
            duk_call(ctx, 1);
            duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
        } else {
            duk_pop(ctx);
        }
    }
    duk_get_prop_string(ctx, -1, "dispose");
    duk_remove(ctx, -2);
}

/* Makes a prototype object with a constructor named name (for console output as
 * "Timeout {...}") and stores it in the stash under key. Leaves it on the stack. */
static void *make_proto(duk_context *ctx, const char *name, const char *key)
{
    duk_push_object(ctx);
    duk_push_string(ctx, "(function ");
    duk_push_string(ctx, name);
    duk_push_string(ctx, "() {})");
    duk_concat(ctx, 3);
    duk_eval(ctx);
    duk_dup(ctx, -2);
    duk_put_prop_string(ctx, -2, "prototype");
    duk_push_string(ctx, "constructor");
    duk_insert(ctx, -2);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_heap_stash(ctx);
    duk_dup(ctx, -2);
    duk_put_prop_string(ctx, -2, key);
    duk_pop(ctx);
    /* Reachable from the stash for the heap's life, so the pointer stays valid. */
    return duk_get_heapptr(ctx, -1);
}

/* Interns the hidden keys of Timeout/Immediate objects once; an array in the stash keeps
 * them reachable, so the heap pointers stay valid for the heap's life. */
static void intern_keys(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    void **slots[] = {&d->key_cb, &d->key_id, &d->key_delay, &d->key_args};
    duk_push_heap_stash(ctx);
    duk_push_array(ctx);
    duk_push_literal(ctx, KEY_CB);
    duk_push_literal(ctx, KEY_ID);
    duk_push_literal(ctx, KEY_DELAY);
    duk_push_literal(ctx, KEY_ARGS);
    for (duk_idx_t i = 0; i < 4; i++) {
        *slots[i] = duk_get_heapptr(ctx, -4 + i);
    }
    for (duk_idx_t i = 3; i >= 0; i--) {
        duk_put_prop_index(ctx, -2 - i, (duk_uarridx_t)i);
    }
    duk_put_prop_literal(ctx, -2, STASH_TIMER_KEYS);
    duk_pop(ctx);
}

int evl__duk_timers_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    evl__hash_init(&d->timers, NULL);
    evl__duk_pool_init(&d->timer_pool, TIMER_POOL_MAX);
    evl__duk_pool_init(&d->task_pool, TASK_POOL_MAX);
    d->cancel_timers = timers_cancel;
    intern_keys(d);

    d->timeout_proto = make_proto(ctx, "Timeout", STASH_TIMEOUT_PROTO);
    duk_idx_t tp = duk_get_top_index(ctx);
    put_function(ctx, tp, "ref", js_ref, 0, 0, 0, 0);
    put_function(ctx, tp, "unref", js_ref, 0, 1, 0, 0);
    put_function(ctx, tp, "hasRef", js_has_ref, 0, 0, 0, 0);
    put_function(ctx, tp, "refresh", js_refresh, 0, 0, 0, 0);
    put_function(ctx, tp, "close", js_close, 0, 0, 0, 0);
    put_accessor(ctx, tp, "_idleTimeout", 0, -1);
    put_accessor(ctx, tp, "_repeat", 1, -1);
    put_accessor(ctx, tp, "_destroyed", 2, -1);
    put_accessor(ctx, tp, "_onTimeout", 3, 4);
    push_dispose_symbol(ctx);
    duk_push_c_function(ctx, js_close, 0);
    duk_def_prop(ctx, tp,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
    push_well_known_symbol(ctx, "toPrimitive");
    duk_push_c_function(ctx, js_to_primitive, 1);
    duk_def_prop(ctx, tp,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop(ctx);

    d->immediate_proto = make_proto(ctx, "Immediate", STASH_IMMEDIATE_PROTO);
    duk_idx_t ip = duk_get_top_index(ctx);
    put_function(ctx, ip, "ref", js_ref, 0, 0, 0, 0);
    put_function(ctx, ip, "unref", js_ref, 0, 1, 0, 0);
    put_function(ctx, ip, "hasRef", js_has_ref, 0, 0, 0, 0);
    put_accessor(ctx, ip, "_destroyed", 2, -1);
    put_accessor(ctx, ip, "_onImmediate", 3, 4);
    push_dispose_symbol(ctx);
    duk_push_c_function(ctx, js_close, 0);
    duk_def_prop(ctx, ip,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                     DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop(ctx);

    evl__duk_push_natives(d);
    duk_push_c_function(ctx, next_tick_native, DUK_VARARGS);
    duk_push_string(ctx, "length");
    duk_push_int(ctx, 1);
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "nextTick");
    duk_def_prop(ctx, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_put_prop_string(ctx, -2, "nextTick");
    duk_pop(ctx);

    duk_push_global_object(ctx);
    duk_idx_t g = duk_get_top_index(ctx);
    put_function(ctx, g, "setTimeout", js_set, DUK_VARARGS, KIND_TIMEOUT, 5, 1);
    put_function(ctx, g, "setInterval", js_set, DUK_VARARGS, KIND_INTERVAL, 5, 1);
    put_function(ctx, g, "setImmediate", js_set, DUK_VARARGS, KIND_IMMEDIATE, 4, 1);
    put_function(ctx, g, "clearTimeout", js_clear, 1, 0, 1, 1);
    put_function(ctx, g, "clearInterval", js_clear, 1, 0, 1, 1);
    put_function(ctx, g, "clearImmediate", js_clear, 1, 0, 1, 1);
    put_function(ctx, g, "queueMicrotask", js_queue_microtask, 1, 0, 1, 1);
    duk_pop(ctx);
    return 0;
}

/*
 * Kept in one file because arming, clearing, firing and the audit all edit the same
 * records and id table in step; the containers and the cross-thread half are apart.
 * Timers and immediates: the policy over four containers (src/container):
 *   timer_pool  the records (48 bytes each), recycled through a free list;
 *   timer_runs  per-period sorted lists, where most timers go (O(1) arm and fire);
 *   timer_heap  an 8-ary heap for the timers that do not sort last in their run;
 *   id_table    id -> record, for clear, refresh and ref.
 * The pool, the heap and the id table grow together, so re-arming and firing a timer never
 * fail: no allocation per timer in steady state.
 *
 * The timer phase pops and runs one due timer at a time (no ready list): a timer armed
 * during the phase carries a sequence number issued during the phase and stops it, so it
 * never runs before the next phase, even with a zero delay.
 *
 * Ids come from one atomic counter shared by timeouts, intervals and immediates (any thread
 * can allocate one), start at options.first_id (default 1), are never reused, and stop at
 * EVL_TIMER_ID_MAX (2^53-1): beyond it evl_timer_set fails with EVL_ERANGE.
 *
 * Equal deadlines keep scheduling order through a 32-bit sequence number compared with
 * wrap-around arithmetic (correct while fewer than 2^31 re-arms separate two pending timers).
 */
#include "core/timer/timer.h"

#include "core/context/context_internal.h"
#include "core/loop_state.h"
#include "core/overload/overload.h"

#include <string.h>

#define NONE    EVL__TIMER_NONE
#define RUNNING EVL__TIMER_RUNNING

#define F_REF       EVL__TIMER_REF
#define F_INTERVAL  EVL__TIMER_INTERVAL
#define F_IMMEDIATE EVL__TIMER_IMMEDIATE
#define F_CANCELLED EVL__TIMER_CANCELLED
#define F_RUN       EVL__TIMER_IN_RUN
#define F_AUDIT     EVL__TIMER_AUDIT

/* held[] is indexed by the limit kind. */
_Static_assert(EVL__LIMIT_TIMERS == 0 && EVL__LIMIT_IMMEDIATES == 1, "held[] layout");

int evl__timers_check(const struct evl__timers *T)
{
    int rc = evl__timer_pool_check(&T->pool);
    if (rc == 0) {
        rc = evl__timer_heap_check(&T->heap, T->pool.recs, T->pool.used);
    }
    if (rc == 0) {
        rc = evl__timer_runs_check(&T->runs, T->pool.recs, T->pool.used);
    }
    if (rc == 0) {
        rc = evl__id_table_check(&T->ids, T->pool.recs, T->pool.used);
    }
    return rc;
}

int evl__timers_init(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    memset(T, 0, sizeof(*T));
    T->alloc = loop->alloc.custom ? &loop->alloc.fns : NULL;
    evl__timer_pool_init(&T->pool);
    evl__timer_heap_init(&T->heap);
    evl__id_table_init(&T->ids, T->alloc);
    evl__timer_runs_init(&T->runs);
    T->imm_head = NONE;
    T->imm_tail = NONE;
    atomic_init(&T->foreign_sets, 0);
    atomic_init(&T->held[0], 0);
    atomic_init(&T->held[1], 0);
    atomic_store_explicit(&T->policy,
                          loop->clamp == EVL_TIMER_CLAMP_NODE   ? EVL__TPOL_NODE
                          : loop->clamp == EVL_TIMER_CLAMP_HTML ? EVL__TPOL_HTML
                                                                : 0u,
                          memory_order_relaxed);
    return 0;
}

void evl__timers_set_audit(struct evl_loop *loop, int on)
{
    struct evl__timers *T = &loop->timers;
    if (on) {
        atomic_fetch_or_explicit(&T->policy, EVL__TPOL_AUDIT, memory_order_relaxed);
    } else {
        atomic_fetch_and_explicit(&T->policy, ~(uint32_t)EVL__TPOL_AUDIT, memory_order_relaxed);
    }
}

/* One audit record of record r (its period, nesting and kind from its meta). */
EVL__NOINLINE static void audit(struct evl_loop *loop, const char *event, uint64_t id,
                                uint64_t meta)
{
    uint64_t period = evl__timer_period(meta);
    evl__log_timer_audit(loop, event, id, period, (meta & F_INTERVAL) ? period : 0,
                         evl__timer_nesting(meta));
}

void evl__timers_deinit(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    /* Records still holding a captured context (free records have no callback; a cleared
     * immediate gave its wrapper back when cleared). */
    for (uint32_t i = 0; T->wrapped && i < T->pool.used; i++) {
        struct evl__timer *r = &T->pool.recs[i];
        if (r->cb == evl__context_timer_run && !(r->meta & F_CANCELLED)) {
            evl__context_timer_drop(loop, r->arg);
        }
    }
    evl__timer_pool_deinit(&T->pool, T->alloc);
    evl__timer_heap_deinit(&T->heap, T->alloc);
    evl__id_table_deinit(&T->ids);
    evl__loop_free(loop, T->tombstones);
    T->tombstones = NULL;
}

/* ---- sandbox limits ---------------------------------------------------------------------
 * Without a limit nothing is counted. With one, held[] counts what the limit covers, plus the
 * sets queued from other threads, and every thread reserves before it sets: the reservation
 * is the check, so a cross-thread set over the limit fails at call time instead of being
 * dropped when the loop applies it.
 */

/* Reserves one of `kind` (EVL__LIMIT_TIMERS or EVL__LIMIT_IMMEDIATES), whose limit is set.
 * Thread-safe. Returns 0 or EVL_ELIMIT (counted, logged and reported to the limit hook). */
EVL__NOINLINE static int limit_reserve(struct evl_loop *loop, enum evl__limit_kind kind)
{
    _Atomic uint32_t *held = &loop->timers.held[kind];
    if (atomic_fetch_add_explicit(held, 1, memory_order_relaxed) >=
        evl__budget_limit(&loop->budgets, kind)) {
        atomic_fetch_sub_explicit(held, 1, memory_order_relaxed);
        return evl__loop_limit_hit(loop, kind);
    }
    return 0;
}

/* Gives back one of `kind` (when its limit is set). */
static inline void limit_release(struct evl_loop *loop, enum evl__limit_kind kind)
{
    if (evl__budget_limit(&loop->budgets, kind) != 0) {
        atomic_fetch_sub_explicit(&loop->timers.held[kind], 1, memory_order_relaxed);
    }
}

/* A timer or interval stopped being live (cleared or fired). */
static inline void live_dec(struct evl_loop *loop)
{
    loop->timers.live--;
    limit_release(loop, EVL__LIMIT_TIMERS);
}

/* A pending immediate was cleared or ran. */
static inline void imm_dec(struct evl_loop *loop)
{
    loop->timers.imm_count--;
    limit_release(loop, EVL__LIMIT_IMMEDIATES);
}

void evl__timers_cancel_all(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint32_t foreign = atomic_load(&T->foreign_sets);
    uint32_t held[2] = {atomic_load(&T->held[0]), atomic_load(&T->held[1])};
    uint32_t audit_on = atomic_load_explicit(&T->policy, memory_order_relaxed) & EVL__TPOL_AUDIT;
    if (evl__budget_limit(&loop->budgets, EVL__LIMIT_TIMERS) != 0) {
        held[0] -= T->live; /* what stays held belongs to sets still queued */
    }
    if (evl__budget_limit(&loop->budgets, EVL__LIMIT_IMMEDIATES) != 0) {
        held[1] -= T->imm_count;
    }
    evl__timers_deinit(loop);
    evl__timers_init(loop);
    atomic_store(&T->foreign_sets, foreign);
    atomic_store(&T->held[0], held[0]);
    atomic_store(&T->held[1], held[1]);
    atomic_fetch_or_explicit(&T->policy, audit_on, memory_order_relaxed);
}

/* ---- records ------------------------------------------------------------------------------ */

/* Out of line: the arming paths stay short, and growth is rare (the pool only doubles). The
 * pool grows last, so a failure part-way leaves the timers as they were (a heap or id table
 * merely larger than needed). */
EVL__NOINLINE static int pool_grow(struct evl__timers *T)
{
    uint32_t cap = T->pool.cap ? T->pool.cap * 2 : 16;
    if (cap > (UINT32_MAX - 3) / 2) {
        return EVL_ENOMEM;
    }
    if (evl__timer_heap_grow(&T->heap, T->alloc, cap) != 0 ||
        evl__id_table_grow(&T->ids, T->pool.recs, cap * 2) != 0 ||
        evl__timer_pool_grow(&T->pool, T->alloc, cap) != 0) {
        return EVL_ENOMEM;
    }
    return 0;
}

static inline uint32_t rec_alloc(struct evl__timers *T)
{
    uint32_t idx = evl__timer_pool_take(&T->pool);
    if (idx == NONE && pool_grow(T) == 0) {
        idx = evl__timer_pool_take(&T->pool);
    }
    return idx;
}

/* Forgets record idx in the id table and drops its ref. */
static inline void forget(struct evl__timers *T, uint32_t idx)
{
    evl__id_table_remove(&T->ids, T->pool.recs, idx);
    if (T->pool.recs[idx].meta & F_REF) {
        T->ref_count--;
    }
}

/* Whether a record found by id sits in the heap. Such a record is an immediate, a run member,
 * a running interval (pos RUNNING) or a heap entry: deciding from the record alone spares a
 * cache miss on a random heap slot per clear. */
static inline int in_heap(const struct evl__timers *T, uint32_t idx)
{
    const struct evl__timer *r = &T->pool.recs[idx];
    return !(r->meta & (F_IMMEDIATE | F_RUN)) && r->pos != RUNNING;
}

/* Arms a record whose deadline and seq are set: its run if it sorts last there, else the
 * heap. */
static inline void timer_insert(struct evl__timers *T, uint32_t idx)
{
    uint32_t ri = evl__timer_run_of_rec(T->pool.recs, idx);
    if (evl__timer_runs_fits(&T->runs, T->pool.recs, ri, idx)) {
        evl__timer_runs_append(&T->runs, &T->pool, ri, idx);
    } else {
        evl__timer_heap_push(&T->heap, T->pool.recs, idx, T->now_hint);
        EVL__CHECK_WALK(T->heap.len, evl__timer_heap_check(&T->heap, T->pool.recs, T->pool.used));
    }
}

/* ---- scheduling ------------------------------------------------------------------------ */

/* The loop thread's id: taken from a block reserved with one atomic add per ID_BLOCK ids, so
 * the common path is a compare and an increment of loop-thread fields. Ids stay unique and
 * never reused; they are increasing per thread, not across threads. */
#define ID_BLOCK 64

EVL__NOINLINE static int id_block_refill(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint64_t v = atomic_fetch_add_explicit(&loop->next_id, ID_BLOCK, memory_order_relaxed);
    if (v > EVL_TIMER_ID_MAX) {
        return EVL_ERANGE;
    }
    T->id_next = v;
    T->id_end = EVL_TIMER_ID_MAX - v >= ID_BLOCK ? v + ID_BLOCK : EVL_TIMER_ID_MAX + 1;
    return 0;
}

static inline int next_id_local(struct evl_loop *loop, uint64_t *id)
{
    struct evl__timers *T = &loop->timers;
    if (T->id_next == T->id_end) {
        int rc = id_block_refill(loop);
        if (rc != 0) {
            return rc;
        }
    }
    *id = T->id_next++;
    return 0;
}

/* Applies the delay policy; returns EVL_ERANGE for a delay the policy cannot represent. */
static inline int clamp_delay(uint32_t policy, uint64_t *ms)
{
    if (policy & EVL__TPOL_NODE) {
        if (*ms < 1 || *ms > UINT64_C(2147483647)) {
            *ms = 1;
        }
        return 0;
    }
    return *ms > EVL_TIMER_DELAY_MAX ? EVL_ERANGE : 0;
}

static inline uint64_t html_clamp(const struct evl_loop *loop, uint32_t level, uint64_t ms)
{
    if (loop->clamp == EVL_TIMER_CLAMP_HTML && level > 5 && ms < 4) {
        return 4;
    }
    return ms;
}

/* Arms a new timer record on the loop thread. `reserved`: the sandbox limit was already
 * checked (a cross-thread set holds its reservation). */
static EVL__ALWAYS_INLINE int arm_new(struct evl_loop *loop, uint64_t id, evl_timer_cb cb,
                                      void *arg, uint64_t deadline, uint64_t period, uint64_t flags,
                                      uint32_t nesting, int reserved)
{
    struct evl__timers *T = &loop->timers;
    enum evl__limit_kind kind = (flags & F_IMMEDIATE) ? EVL__LIMIT_IMMEDIATES : EVL__LIMIT_TIMERS;
    if (!reserved && evl__budget_limit(&loop->budgets, kind) != 0) {
        int rc = limit_reserve(loop, kind);
        if (rc != 0) {
            return rc;
        }
    }
    uint32_t idx = rec_alloc(T);
    if (idx == NONE) {
        limit_release(loop, kind);
        return EVL_ENOMEM;
    }
    struct evl__timer *r = &T->pool.recs[idx];
    r->id = id;
    if (evl__id_table_put(&T->ids, T->pool.recs, idx) != 0) {
        evl__timer_pool_put(&T->pool, idx);
        limit_release(loop, kind);
        return EVL_ENOMEM;
    }
    T->ref_count++; /* every new timer starts ref'd */
    r->meta = evl__timer_meta(period, nesting, flags | F_REF);
    r->cb = cb;
    r->arg = arg;
    r->deadline = deadline;
    r->seq = T->seq++;
    if (flags & F_IMMEDIATE) {
        r->pos = NONE;
        if (T->imm_tail == NONE) {
            T->imm_head = idx;
        } else {
            T->pool.recs[T->imm_tail].pos = idx;
        }
        T->imm_tail = idx;
        T->imm_count++;
    } else {
        T->live++;
        timer_insert(T, idx);
    }
    EVL__CHECK_WALK(T->pool.used, evl__timers_check(T));
    return 0;
}

int evl__timers_arm_queued(struct evl_loop *loop, uint64_t id, evl_timer_cb cb, void *arg,
                           uint64_t deadline, uint64_t period, uint64_t flags)
{
    int audited = !(flags & F_IMMEDIATE) && (evl__timers_policy(&loop->timers) & EVL__TPOL_AUDIT);
    int rc = arm_new(loop, id, cb, arg, deadline, period, flags | (audited ? F_AUDIT : 0), 1, 1);
    if (rc == 0 && audited) {
        audit(loop, "create", id, evl__timer_meta(period, 1, flags));
    }
    return rc;
}

int evl__timers_reserve(struct evl_loop *loop, uint64_t flags)
{
    enum evl__limit_kind kind = (flags & F_IMMEDIATE) ? EVL__LIMIT_IMMEDIATES : EVL__LIMIT_TIMERS;
    return evl__budget_limit(&loop->budgets, kind) != 0 ? limit_reserve(loop, kind) : 0;
}

void evl__timers_unreserve(struct evl_loop *loop, uint64_t flags)
{
    limit_release(loop, (flags & F_IMMEDIATE) ? EVL__LIMIT_IMMEDIATES : EVL__LIMIT_TIMERS);
}

/*
 * The one path of evl_timer_set and evl_immediate_set (flags: F_IMMEDIATE or 0) after the
 * argument and state checks. policy: the timers' policy word (EVL__TPOL_*); schedule() passes
 * a constant 0 for the C default, so that copy keeps none of the policy's branches, and
 * schedule_policy() the word itself.
 */
EVL__NOINLINE static int schedule_captured(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                           uint64_t delay_ms, uint64_t repeat_ms, uint64_t flags,
                                           uint64_t *id_out);

/*
 * (continued) wrapped: the callback is already the context wrapper (or there was nothing
 * to capture), so no capture is tried again.
 */
static EVL__ALWAYS_INLINE int schedule_with(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                            uint64_t delay_ms, uint64_t repeat_ms, uint64_t flags,
                                            uint32_t policy, int wrapped, uint64_t *id_out)
{
    if (!(flags & F_IMMEDIATE)) {
        int rc = clamp_delay(policy, &delay_ms);
        if (rc == 0 && repeat_ms) {
            rc = clamp_delay(policy, &repeat_ms);
            flags |= F_INTERVAL;
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (!evl__loop_on_thread(loop)) {
        /* A foreign thread always starts a new chain: HTML nesting follows the chain of
         * timer callbacks on the loop thread only. */
        return evl__timers_set_foreign(loop, cb, arg, delay_ms,
                                       (flags & F_INTERVAL) ? repeat_ms : delay_ms, flags, id_out);
    }
    if (!wrapped && __builtin_expect(evl__loop_context_active(loop), 0)) {
        return schedule_captured(loop, cb, arg, delay_ms, repeat_ms, flags, id_out);
    }
    struct evl__timers *T = &loop->timers;
    uint32_t level = T->nesting;
    uint64_t id;
    int rc = next_id_local(loop, &id);
    if (rc != 0) {
        return rc;
    }
    uint64_t deadline = 0;
    if (!(flags & F_IMMEDIATE)) {
        if ((policy & EVL__TPOL_HTML) && level > 5 && delay_ms < 4) {
            delay_ms = 4;
        }
        if (policy & EVL__TPOL_AUDIT) {
            flags |= F_AUDIT;
        }
        uint64_t now = evl__loop_clock(loop); /* fresh: never a cached tick */
        T->now_hint = now;
        deadline = evl__timers_deadline(now, delay_ms);
    } else {
        level = 0; /* an immediate starts no timer chain */
    }
    uint64_t period = (flags & F_INTERVAL) ? repeat_ms : delay_ms;
    rc = arm_new(loop, id, cb, arg, deadline, period, flags, level + 1, 0);
    if (rc == 0 && id_out) {
        *id_out = id;
    }
    if (rc == 0 && (flags & F_AUDIT)) {
        evl__log_timer_audit(loop, "create", id, delay_ms, (flags & F_INTERVAL) ? repeat_ms : 0,
                             level + 1);
    }
    return rc;
}

/* schedule_with for a timer under a policy other than the C default (Node or HTML clamps,
 * the audit): out of line, so the default path pays one test for all of them. */
EVL__NOINLINE static int schedule_policy(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                         uint64_t delay_ms, uint64_t repeat_ms, uint64_t *id_out)
{
    return schedule_with(loop, cb, arg, delay_ms, repeat_ms, 0, evl__timers_policy(&loop->timers),
                         0, id_out);
}

static EVL__ALWAYS_INLINE int schedule(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                       uint64_t delay_ms, uint64_t repeat_ms, uint64_t flags,
                                       uint64_t *id_out)
{
    if (!loop || !cb) {
        return EVL_EINVAL;
    }
    if (evl__loop_admission_closed(loop) ||
        atomic_load_explicit(&loop->state, memory_order_acquire) == EVL_LOOP_TERMINATED) {
        return EVL_ECLOSED;
    }
    if (!(flags & F_IMMEDIATE) && __builtin_expect(evl__timers_policy(&loop->timers) != 0, 0)) {
        return schedule_policy(loop, cb, arg, delay_ms, repeat_ms, id_out);
    }
    return schedule_with(loop, cb, arg, delay_ms, repeat_ms, flags, 0, 0, id_out);
}

/* schedule_with while a context is current: the timer's callback is wrapped with the
 * captured frame (core/context/propagate.c), which makes it current around every run. Out
 * of line: the common set never comes here. */
EVL__NOINLINE static int schedule_captured(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                           uint64_t delay_ms, uint64_t repeat_ms, uint64_t flags,
                                           uint64_t *id_out)
{
    uint32_t policy = (flags & F_IMMEDIATE) ? 0 : evl__timers_policy(&loop->timers);
    struct evl_context_frame *f = NULL;
    int rc = evl__context_capture_hot(loop, &f);
    if (rc != 0) {
        return rc;
    }
    if (f == NULL) {
        return schedule_with(loop, cb, arg, delay_ms, repeat_ms, flags, policy, 1, id_out);
    }
    struct evl__context_work *w = evl__context_wrap_timer(loop, cb, arg, f);
    if (w == NULL) {
        return EVL_ENOMEM;
    }
    /* The delays were clamped already; the policy clamps them again harmlessly (it is
     * idempotent), and F_INTERVAL follows from repeat_ms again. */
    rc = schedule_with(loop, evl__context_timer_run, w, delay_ms, repeat_ms, flags & ~F_INTERVAL,
                       policy, 1, id_out);
    if (rc != 0) {
        evl__context_unwrap(loop, w);
    } else {
        loop->timers.wrapped = 1; /* teardown looks for wrappers */
    }
    return rc;
}

int evl_timer_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                  uint64_t repeat_ms, uint64_t *id_out)
{
    /* The same path twice: a constant zero lets the compiler drop the interval's branches and
     * keep fewer values live across the clock call in the common timeout. */
    if (repeat_ms == 0) {
        return schedule(loop, cb, arg, delay_ms, 0, 0, id_out);
    }
    return schedule(loop, cb, arg, delay_ms, repeat_ms, 0, id_out);
}

int evl_immediate_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t *id_out)
{
    return schedule(loop, cb, arg, 0, 0, F_IMMEDIATE, id_out);
}

/* Clears pending timer idx (not an immediate), already taken out of the id table. */
static EVL__ALWAYS_INLINE void clear_timer(struct evl_loop *loop, uint32_t idx)
{
    struct evl__timers *T = &loop->timers;
    struct evl__timer *r = &T->pool.recs[idx];
    live_dec(loop);
    if (in_heap(T, idx)) {
        evl__timer_heap_remove(&T->heap, T->pool.recs, r->pos);
        evl__timer_pool_put(&T->pool, idx);
    } else if (r->meta & F_RUN) {
        evl__timer_runs_cancel(&T->runs, &T->pool, idx);
    } else {
        /* A running interval: the timer phase frees it when the callback returns. */
        r->meta |= F_CANCELLED;
    }
    EVL__CHECK_WALK(T->pool.used, evl__timers_check(T));
}

/* clear_local for a record with a flag the common path leaves out: an immediate, or a timer
 * created under the audit (its record first, then the same clear). */
EVL__NOINLINE static int clear_flagged(struct evl_loop *loop, uint32_t idx, uint64_t id)
{
    struct evl__timer *r = &loop->timers.pool.recs[idx];
    if (r->meta & F_IMMEDIATE) {
        r->meta |= F_CANCELLED; /* freed when the check phase reaches it */
        imm_dec(loop);
        return 0;
    }
    audit(loop, "clear", id, r->meta);
    clear_timer(loop, idx);
    return 0;
}

/* The flags byte of a record's meta: one byte test covers several flags. */
static inline unsigned meta_flags(uint64_t meta)
{
    return (unsigned)(meta >> 56);
}

static inline int clear_local(struct evl_loop *loop, uint64_t id)
{
    struct evl__timers *T = &loop->timers;
    uint32_t idx = evl__id_table_take(&T->ids, T->pool.recs, id);
    if (idx == NONE) {
        return evl__timers_clear_unknown(loop, id);
    }
    struct evl__timer *r = &T->pool.recs[idx];
    if (r->meta & F_REF) {
        T->ref_count--;
    }
    if (__builtin_expect(r->cb == evl__context_timer_run, 0) && r->pos != RUNNING) {
        /* Never runs again: its context goes now (a running interval's goes after its run). */
        evl__context_timer_drop(loop, r->arg);
        r->cb = NULL;
        r->arg = NULL;
    }
    if (meta_flags(r->meta) & (unsigned)((F_IMMEDIATE | F_AUDIT) >> 56)) {
        return clear_flagged(loop, idx, id);
    }
    clear_timer(loop, idx);
    return 0;
}

int evl__timers_clear_local(struct evl_loop *loop, uint64_t id)
{
    return clear_local(loop, id);
}

int evl_timer_clear(struct evl_loop *loop, uint64_t id)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (evl__loop_on_thread(loop)) {
        if (atomic_load_explicit(&loop->state, memory_order_relaxed) == EVL_LOOP_TERMINATED) {
            return EVL_ECLOSED;
        }
        return clear_local(loop, id);
    }
    return evl__timers_clear_foreign(loop, id);
}

int evl_immediate_clear(struct evl_loop *loop, uint64_t id)
{
    return evl_timer_clear(loop, id);
}

static int find_local(const struct evl_loop *loop, uint64_t id, uint32_t *idx)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    const struct evl__timers *T = &loop->timers;
    *idx = evl__id_table_find(&T->ids, T->pool.recs, id);
    return *idx == NONE ? EVL_ENOENT : 0;
}

int evl_timer_refresh(struct evl_loop *loop, uint64_t id)
{
    uint32_t idx;
    int rc = find_local(loop, id, &idx);
    if (rc != 0) {
        return rc;
    }
    struct evl__timers *T = &loop->timers;
    struct evl__timer *r = &T->pool.recs[idx];
    if (r->meta & F_IMMEDIATE) {
        return 0; /* nothing to restart */
    }
    if (r->pos == RUNNING) {
        return 0; /* a running interval re-arms from the start of this run anyway */
    }
    if (in_heap(T, idx)) {
        evl__timer_heap_remove(&T->heap, T->pool.recs, r->pos);
    } else if (r->meta & F_RUN) {
        /* O(run); refresh is rare next to set */
        evl__timer_runs_compact(&T->runs, &T->pool, evl__timer_run_of_rec(T->pool.recs, idx), idx);
    }
    uint64_t now = evl__loop_clock(loop);
    T->now_hint = now;
    r->deadline = evl__timers_deadline(now, evl__timer_period(r->meta));
    r->seq = T->seq++;
    timer_insert(T, idx);
    EVL__CHECK_WALK(T->pool.used, evl__timers_check(T));
    return 0;
}

static int set_ref(struct evl_loop *loop, uint64_t id, int on)
{
    uint32_t idx;
    int rc = find_local(loop, id, &idx);
    if (rc != 0) {
        return rc;
    }
    struct evl__timers *T = &loop->timers;
    struct evl__timer *r = &T->pool.recs[idx];
    if (on && !(r->meta & F_REF)) {
        r->meta |= F_REF;
        T->ref_count++;
    } else if (!on && (r->meta & F_REF)) {
        r->meta &= ~F_REF;
        T->ref_count--;
    }
    return 0;
}

int evl_timer_ref(struct evl_loop *loop, uint64_t id)
{
    return set_ref(loop, id, 1);
}

int evl_timer_unref(struct evl_loop *loop, uint64_t id)
{
    return set_ref(loop, id, 0);
}

int evl_timer_has_ref(const struct evl_loop *loop, uint64_t id)
{
    uint32_t idx;
    int rc = find_local(loop, id, &idx);
    if (rc != 0) {
        return rc;
    }
    return (loop->timers.pool.recs[idx].meta & F_REF) ? 1 : 0;
}

/* ---- phases ---------------------------------------------------------------------------- */

/* The pending timer that sorts first (the first run's front or the heap top), or NONE. */
static inline uint32_t timers_first(const struct evl__timers *T)
{
    uint32_t first = evl__timer_runs_first(&T->runs);
    uint32_t top = evl__timer_heap_top(&T->heap);
    if (top != NONE &&
        (first == NONE || evl__timer_before(&T->pool.recs[top], &T->pool.recs[first]))) {
        first = top;
    }
    return first;
}

int64_t evl__timers_timeout(struct evl_loop *loop, uint64_t now)
{
    struct evl__timers *T = &loop->timers;
    uint32_t first = timers_first(T);
    if (first == NONE) {
        return -1;
    }
    uint64_t d = T->pool.recs[first].deadline;
    if (d <= now) {
        return 0;
    }
    uint64_t diff = d - now;
    return diff > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)diff;
}

/* Takes due timer idx out of its container: the front of its run or the heap's top. */
static inline void unlink_due(struct evl__timers *T, uint32_t idx)
{
    struct evl__timer *recs = T->pool.recs;
    if (recs[idx].meta & F_RUN) {
        uint32_t next =
            evl__timer_runs_pop_front(&T->runs, &T->pool, evl__timer_run_of_rec(recs, idx));
        /* The run's new front usually waits a while before it fires: fetch its id's table
         * slot now, so firing it is no cache miss. */
        if (next != NONE) {
            evl__id_table_prefetch(&T->ids, recs[next].id);
        }
    } else {
        evl__timer_heap_remove(&T->heap, recs, 0);
    }
}

/* The observed half of a timer's firing: its audit record if it was created under the
 * audit, then the metrics' begin point and loop-delay sample. Returns the metrics token. */
EVL__NOINLINE static uint64_t fire_observed(struct evl_loop *loop, uint32_t idx, unsigned obs)
{
    const struct evl__timer *r = &loop->timers.pool.recs[idx];
    uint64_t now = loop->now; /* the timer phase's clock */
    uint64_t id = r->id;
    uint64_t deadline = r->deadline;
    if ((obs & EVL__OBS_AUDIT) && (r->meta & F_AUDIT)) {
        audit(loop, "fire", id, r->meta);
    }
    uint64_t mt = evl__loop_cb_enter(loop, EVL_METRICS_TIMER);
    if (evl__loop_cb_sampled(mt)) {
        evl__metrics_timer_sampled(loop, id, now - deadline);
    }
    return mt;
}

void evl__timers_run(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint64_t now = loop->now;
    T->now_hint = now;
    if (T->heap.len != 0 && now > T->heap.key_base &&
        now - T->heap.key_base >= EVL__TIMER_HEAP_REBASE) {
        evl__timer_heap_rebase(&T->heap, T->pool.recs, now);
    }
    /* Sequence numbers issued from here on belong to timers armed during this phase: the
     * first one that reaches the front ends the phase, so such a timer never runs before the
     * next phase, even with a zero delay. Every timer due before the phase sorts ahead of it
     * (its deadline is at most now, and a later fresh clock read is not smaller). */
    uint32_t phase_seq = T->seq;
    for (;;) {
        uint32_t idx = timers_first(T);
        if (idx == NONE) {
            break;
        }
        struct evl__timer *r = &T->pool.recs[idx];
        if (r->deadline > now || r->seq - phase_seq < T->seq - phase_seq) {
            break;
        }
        if (evl__loop_interrupted(loop)) {
            break; /* stop/shutdown: the rest stay armed with their deadlines and order */
        }
        unlink_due(T, idx);
        int interval = (r->meta & F_INTERVAL) != 0;
        uint64_t start = 0;
        if (interval) {
            start = evl__loop_clock(loop); /* re-arm from the start of this run */
            T->now_hint = start;
        } else {
            forget(T, idx); /* fired: a clear from now on reports EVL_ENOENT */
            live_dec(loop);
        }
        r->pos = RUNNING;
        uint32_t level = evl__timer_nesting(r->meta);
        evl_timer_cb cb = r->cb;
        void *arg = r->arg;
        uint64_t id = r->id;
        T->nesting = level;
        /* The callback bracket; a context or the audit goes out of line, while metrics
         * alone keep the inline countdown of evl__loop_cb_enter. */
        uint64_t mt;
        unsigned obs = evl__loop_obs_flags(loop);
        if (__builtin_expect((obs & (EVL__OBS_CONTEXT | EVL__OBS_AUDIT)) != 0, 0)) {
            mt = fire_observed(loop, idx, obs);
        } else {
            mt = evl__loop_cb_enter(loop, EVL_METRICS_TIMER);
            if (__builtin_expect(mt != 0, 0)) {
                evl__metrics_timer_sampled(loop, id, now - r->deadline);
            }
        }
        cb(loop, id, arg);
        evl__loop_cb_leave(loop, EVL_METRICS_TIMER, mt);
        evl__loop_after_callback(loop);
        T->nesting = 0;
        r = &T->pool.recs[idx]; /* the pool may have moved */
        if (!interval || (r->meta & F_CANCELLED)) {
            evl__timer_pool_put(&T->pool, idx);
            continue;
        }
        uint64_t period = html_clamp(loop, level, evl__timer_period(r->meta));
        r->meta =
            evl__timer_meta(evl__timer_period(r->meta), level + 1, r->meta & EVL__TIMER_FLAGS_MASK);
        r->deadline = evl__timers_deadline(start, period);
        r->seq = T->seq++;
        timer_insert(T, idx);
    }
}

void evl__immediates_run(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint32_t idx = T->imm_head;
    uint32_t tail = T->imm_tail;
    /* Immediates added from now on form a new list for the next iteration. */
    T->imm_head = NONE;
    T->imm_tail = NONE;
    /* The batch budget: past it, the rest waits (first in line) while due timers run. */
    struct evl__budget budget;
    evl__budget_begin(loop, &budget, evl__budget_max_imm(&loop->budgets),
                      evl__budget_max_imm_ns(&loop->budgets),
                      idx != tail && evl__budget_precise(loop));
    int spent = 0;
    while (idx != NONE) {
        struct evl__timer *r = &T->pool.recs[idx];
        uint32_t next = r->pos;
        if (r->meta & F_CANCELLED) {
            evl__timer_pool_put(&T->pool, idx);
            idx = next;
            continue;
        }
        if (spent || evl__loop_interrupted(loop)) {
            /* Put the rest back in front of anything added meanwhile. */
            T->pool.recs[tail].pos = T->imm_head;
            if (T->imm_head == NONE) {
                T->imm_tail = tail;
            }
            T->imm_head = idx;
            return;
        }
        forget(T, idx);
        imm_dec(loop);
        r->pos = RUNNING;
        evl_timer_cb cb = r->cb;
        void *arg = r->arg;
        uint64_t id = r->id;
        uint64_t mt = evl__loop_cb_enter(loop, EVL_METRICS_IMMEDIATE);
        cb(loop, id, arg);
        evl__loop_cb_leave(loop, EVL_METRICS_IMMEDIATE, mt);
        evl__loop_after_callback(loop);
        evl__timer_pool_put(&T->pool, idx);
        idx = next;
        spent = evl__budget_spent(loop, &budget, 1);
    }
}

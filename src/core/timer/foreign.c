/*
 * Timers and immediates across threads: a set or clear made on another thread travels to the
 * loop as a message on the submit queue's control FIFO, applied in order at the start of every
 * timer phase (evl__timers_apply_ctl), so a clear that returned before the phase began always
 * wins and no call waits for the loop. The id is taken and the deadline computed on the
 * caller's thread; a sandbox limit is reserved there too, so a set over it fails at call time.
 * A loop-thread clear of an id whose set is still queued leaves a tombstone, which stops that
 * set from ever arming.
 */
#include "core/timer/timer.h"

#include "core/loop_state.h"

/* A foreign thread's id: one atomic add; past the limit the counter keeps counting failures
 * harmlessly (it would take 2^64 calls to wrap). */
static int next_id_shared(struct evl_loop *loop, uint64_t *id)
{
    uint64_t v = atomic_fetch_add_explicit(&loop->next_id, 1, memory_order_relaxed);
    if (v > EVL_TIMER_ID_MAX) {
        return EVL_ERANGE;
    }
    *id = v;
    return 0;
}

/* A set made on another thread, applied by the loop. */
struct timer_msg {
    struct evl__ctl link; /* first: the queue links messages through it */
    evl_timer_cb cb;
    void *arg;
    uint64_t id;
    uint64_t deadline;
    uint64_t period;
    uint64_t flags;
    int clear;
};

static int tomb_take(struct evl__timers *T, uint64_t id)
{
    for (uint32_t i = 0; i < T->tomb_len; i++) {
        if (T->tombstones[i] == id) {
            T->tombstones[i] = T->tombstones[--T->tomb_len];
            return 1;
        }
    }
    return 0;
}

/* A queued set leaves the queue (applied or dropped). */
static void msg_done(struct evl_loop *loop, const struct timer_msg *m, int applied)
{
    struct evl__timers *T = &loop->timers;
    if (!applied) {
        evl__timers_unreserve(loop, m->flags);
    }
    if (atomic_fetch_sub(&T->foreign_sets, 1) == 1) {
        T->tomb_len = 0; /* no queued set can match them any more */
    }
}

static void msg_apply(struct evl_loop *loop, struct timer_msg *m)
{
    if (m->clear) {
        (void)evl__timers_clear_local(loop, m->id);
        return;
    }
    int applied = 0;
    if (!tomb_take(&loop->timers, m->id)) {
        int rc =
            evl__timers_arm_queued(loop, m->id, m->cb, m->arg, m->deadline, m->period, m->flags);
        if (rc != 0) {
            evl_log(loop, EVL_LOG_ERROR, "timer", "cross-thread timer %llu dropped: out of memory",
                    (unsigned long long)m->id);
        }
        applied = rc == 0;
    }
    msg_done(loop, m, applied);
}

void evl__timers_apply_ctl(struct evl_loop *loop, int drop)
{
    struct evl__ctl *c = evl__submitq_take_ctl(loop);
    while (c) {
        struct evl__ctl *next = c->next;
        struct timer_msg *m = (struct timer_msg *)c;
        if (!drop) {
            msg_apply(loop, m);
        } else if (!m->clear) {
            msg_done(loop, m, 0);
        }
        evl__loop_free(loop, m);
        c = next;
    }
}

/* The other-thread half of schedule(): the set travels as a message, applied in order with
 * the clears at the next timer phase. The sandbox limit is reserved here, so a set over it
 * fails now. Out of line: the loop thread's set stays short. */
int evl__timers_set_foreign(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                            uint64_t period, uint64_t flags, uint64_t *id_out)
{
    uint64_t id;
    int rc = next_id_shared(loop, &id);
    if (rc != 0) {
        return rc;
    }
    struct timer_msg *m = evl__loop_malloc(loop, sizeof(*m));
    if (!m) {
        return EVL_ENOMEM;
    }
    rc = evl__timers_reserve(loop, flags);
    if (rc != 0) {
        evl__loop_free(loop, m);
        return rc;
    }
    uint64_t deadline = 0;
    if (!(flags & EVL__TIMER_IMMEDIATE)) {
        /* A fresh clock read: never a cached tick (stale after idle periods). */
        deadline = evl__timers_deadline(evl__loop_clock(loop), delay_ms);
    }
    *m = (struct timer_msg){{NULL}, cb, arg, id, deadline, period, flags, 0};
    atomic_fetch_add(&loop->timers.foreign_sets, 1);
    rc = evl__submitq_post_ctl(loop, &m->link);
    if (rc != 0) {
        atomic_fetch_sub(&loop->timers.foreign_sets, 1);
        evl__timers_unreserve(loop, flags);
        evl__loop_free(loop, m);
        return rc;
    }
    if (id_out) {
        *id_out = id;
    }
    return 0;
}

/* The clear of an id no record holds: a no-op (EVL_ENOENT), unless its cross-thread set may
 * still be queued, which a tombstone then stops from ever arming. Out of line: the clear of
 * a pending timer stays short. */
int evl__timers_clear_unknown(struct evl_loop *loop, uint64_t id)
{
    struct evl__timers *T = &loop->timers;
    if (atomic_load(&T->foreign_sets) == 0 || id == 0 ||
        id >= atomic_load_explicit(&loop->next_id, memory_order_relaxed)) {
        return EVL_ENOENT;
    }
    if (T->tomb_len == T->tomb_cap) {
        uint32_t cap = T->tomb_cap ? T->tomb_cap * 2 : 8;
        uint64_t *nt = evl__loop_realloc(loop, T->tombstones, (size_t)cap * sizeof(*nt));
        if (!nt) {
            return EVL_ENOMEM;
        }
        T->tombstones = nt;
        T->tomb_cap = cap;
    }
    T->tombstones[T->tomb_len++] = id;
    return 0;
}

/* A clear from another thread: queued, never waiting for the loop, so it cannot deadlock.
 * Out of line: the loop thread's clear stays short. */
int evl__timers_clear_foreign(struct evl_loop *loop, uint64_t id)
{
    struct timer_msg *m = evl__loop_malloc(loop, sizeof(*m));
    if (!m) {
        return EVL_ENOMEM;
    }
    *m = (struct timer_msg){{NULL}, NULL, NULL, id, 0, 0, 0, 1};
    int rc = evl__submitq_post_ctl(loop, &m->link);
    if (rc != 0) {
        evl__loop_free(loop, m);
    }
    return rc;
}

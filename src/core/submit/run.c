/*
 * The submit queue, the loop's side: the tasks phase (lanes round robin, then the loop
 * thread's own list; whole published batches, in stretches that end at the batch budget's
 * checks), and close.
 *
 * Close: every lane's closed flag is set under its lock, then (biased lanes) the fence and a
 * wait until no owner is busy: an owner that read closed == 0 has published by then, so its
 * task is drained or discarded; any later push sees closed (conservation).
 */
#include "core/submit/submit.h"

#include "core/loop_state.h"
#include "core/overload/overload_internal.h"

#include <string.h>

/* Hands the chunks finished by a run back to the producers, in one locked splice, at the far
 * end: the chunks the loop read longest ago are reused first (those it read just now are
 * still in its cache, and writing them would cost the producer a transfer per line). */
static void splice_spare(struct evl__submitq *q)
{
    if (!q->spare.head) {
        return;
    }
    evl__submit_lock(&q->lock);
    evl__lanes_pool_splice(&q->free, &q->spare);
    evl__submit_unlock(&q->lock);
}

/* Takes the next task of a lane whose published tail is at least head + 1. */
static inline struct evl__lane_slot lane_pop(struct evl__submitq *q, struct evl__lane *l,
                                             evl_task_cb *discard)
{
    struct evl__lane_slot t = evl__lanes_take(l, &q->spare);
    *discard = NULL;
    if (t.fn == evl__task_ex_marker) {
        /* Both slots were published together. */
        *discard = (evl_task_cb)(uintptr_t)t.arg;
        t = evl__lanes_take(l, &q->spare);
    }
    return t;
}

/* Keeps a consumed local chunk for reuse. Task storage grows to the peak backlog and is never
 * returned before evl_loop_free, so a steady stream allocates nothing (like the timer pool). */
static void recycle_local(struct evl__submitq *q, struct evl__task_chunk *c)
{
    c->next = q->lspare;
    q->lspare = c;
}

/* Pops the next task from the local list. Returns 0 when empty. */
static inline int local_pop(struct evl__submitq *q, struct evl__lane_slot *out,
                            evl_task_cb *discard)
{
    struct evl__task_list *l = &q->local;
    for (;;) {
        struct evl__task_chunk *c = l->head;
        if (!c) {
            return 0;
        }
        if (l->pos < c->n) {
            struct evl__lane_slot t = c->tasks[l->pos++];
            *discard = NULL;
            if (t.fn == evl__task_ex_marker) {
                *discard = (evl_task_cb)(uintptr_t)t.arg;
                if (l->pos == c->n && c->n == EVL__CHUNK_TASKS) {
                    /* The second slot is in the next chunk. */
                    l->head = c->next;
                    l->pos = 0;
                    if (!l->head) {
                        l->tail = NULL;
                    }
                    recycle_local(q, c);
                    c = l->head;
                    if (!c) {
                        return 0; /* cannot happen: both slots are written together */
                    }
                }
                t = c->tasks[l->pos++];
            }
            *out = t;
            return 1;
        }
        if (c->n < EVL__CHUNK_TASKS && c == l->tail) {
            /* The local list's tail may still grow: keep it, reset when drained. */
            c->n = 0;
            l->pos = 0;
            return 0;
        }
        l->head = c->next;
        l->pos = 0;
        if (!l->head) {
            l->tail = NULL;
        }
        recycle_local(q, c);
    }
}

/* The state of one run of the tasks phase. */
struct run_state {
    struct evl__budget b; /* the batch bounds (unused when unbounded) */
    int unbounded;
};

/* Runs one task; returns nonzero when the phase must end (stop, close or a batch bound). */
static inline int run_one(struct evl_loop *loop, struct run_state *rs, evl_task_cb fn, void *arg)
{
    evl__loop_call_kind(loop, EVL_METRICS_TASK, fn, arg);
    evl__loop_after_callback(loop);
    if (atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
        atomic_load_explicit(&loop->closing, memory_order_relaxed)) {
        return 1;
    }
    return !rs->unbounded && evl__budget_spent(loop, &rs->b, 1);
}

/*
 * Runs what a lane had published when the lane's turn came (one acquire load of its tail per
 * turn: the loop takes whole batches and leaves the producer's line alone meanwhile), in
 * stretches that end at the next bound check. Returns 1 when the phase must end, else 0;
 * *ran counts the tasks run.
 */
static int run_lane(struct evl_loop *loop, struct evl__lane *l, struct run_state *rs, uint32_t *ran)
{
    struct evl__submitq *q = &loop->q;
    uint32_t tail = evl__lanes_tail(l);
    while (evl__lanes_head(l) != tail) {
        uint32_t budget = rs->unbounded ? UINT32_MAX : evl__budget_room(&rs->b);
        uint32_t k = 0;
        int stop = 0;
        uint32_t head0 = evl__lanes_head(l);
        do {
            struct evl__lane_slot t = evl__lanes_take(l, &q->spare);
            if (t.fn == evl__task_ex_marker) {
                t = evl__lanes_take(l, &q->spare); /* published together with its marker */
            }
            k++;
            evl__loop_call_kind(loop, EVL_METRICS_TASK, t.fn, t.arg);
            evl__loop_after_callback(loop);
            stop = atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
                   atomic_load_explicit(&loop->closing, memory_order_relaxed);
        } while (!stop && k < budget && evl__lanes_head(l) != tail);
        if (evl__overload_active(loop)) {
            /* Space for producers kept out by the bound, once per stretch. */
            evl__overload_release(loop, (uint32_t)(l - q->lanes), evl__lanes_head(l) - head0);
        }
        *ran += k;
        if (stop || (!rs->unbounded && evl__budget_spent(loop, &rs->b, k))) {
            return 1;
        }
    }
    return 0;
}

/* Puts notes not run back at the head of the queue (the phase ended early). */
static void requeue_notes(struct evl__submitq *q, struct evl__note *list)
{
    struct evl__note *last = list;
    while (last->next) {
        last = last->next;
    }
    evl__submit_lock(&q->lock);
    last->next = q->note_head;
    if (!q->note_head) {
        q->note_tail = last;
    }
    q->note_head = list;
    atomic_store_explicit(&q->note_pending, 1, memory_order_relaxed);
    evl__submit_unlock(&q->lock);
}

static void run_all(struct evl_loop *loop, struct run_state *rs)
{
    struct evl__submitq *q = &loop->q;
    int unbounded = rs->unbounded;
    for (;;) {
        uint32_t ran = 0;
        /* The lanes round robin (the first lane rotates per run), then the loop's own. */
        uint32_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
        if (used) {
            uint32_t first = q->rr++ % EVL__LANES;
            for (uint32_t j = 0; j < EVL__LANES; j++) {
                uint32_t i = (first + j) % EVL__LANES;
                if ((used & (1u << i)) && run_lane(loop, &q->lanes[i], rs, &ran)) {
                    return;
                }
            }
        }
        struct evl__lane_slot t;
        evl_task_cb discard;
        while (local_pop(q, &t, &discard)) {
            ran++;
            if (run_one(loop, rs, t.fn, t.arg)) {
                return;
            }
        }
        /* Notes are rare (posted only when a submit could not allocate): all of them. */
        for (struct evl__note *n = evl__submitq_take_notes(q), *next; n; n = next) {
            next = n->next;
            ran++;
            if (run_one(loop, rs, n->fn, n) && next) {
                requeue_notes(q, next);
                return;
            }
        }
        if (!unbounded || ran == 0) {
            return;
        }
    }
}

void evl__submitq_run(struct evl_loop *loop, int unbounded)
{
    struct run_state rs;
    memset(&rs, 0, sizeof(rs));
    rs.unbounded = unbounded;
    if (!unbounded) {
        evl__budget_begin(loop, &rs.b, loop->max_tasks, loop->max_task_ns,
                          evl__budget_precise(loop));
    }
    run_all(loop, &rs);
    splice_spare(&loop->q);
}

/* Drops what a lane holds, calling the discard callbacks; returns the number of tasks. */
static uint64_t discard_lane(struct evl_loop *loop, struct evl__lane *l)
{
    struct evl__submitq *q = &loop->q;
    uint32_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
    uint32_t head0 = evl__lanes_head(l);
    uint64_t n = 0;
    l->seen = tail; /* never behind head */
    while (evl__lanes_head(l) != tail) {
        evl_task_cb discard;
        struct evl__lane_slot t = lane_pop(q, l, &discard);
        n++;
        if (discard) {
            evl__loop_call(loop, discard, t.arg);
        }
    }
    if (evl__overload_active(loop)) {
        evl__overload_release(loop, (uint32_t)(l - q->lanes), evl__lanes_head(l) - head0);
    }
    return n;
}

static void lock_all(struct evl__submitq *q)
{
    evl__submit_lock(&q->lock);
    for (unsigned i = 0; i < EVL__LANES; i++) {
        evl__submit_lock(&q->lanes[i].lock);
    }
}

static void unlock_all(struct evl__submitq *q)
{
    for (unsigned i = EVL__LANES; i-- > 0;) {
        evl__submit_unlock(&q->lanes[i].lock);
    }
    evl__submit_unlock(&q->lock);
}

static int lanes_empty(struct evl__submitq *q)
{
    for (unsigned i = 0; i < EVL__LANES; i++) {
        struct evl__lane *l = &q->lanes[i];
        if (atomic_load_explicit(&l->tail, memory_order_acquire) != evl__lanes_head(l)) {
            return 0;
        }
    }
    return 1;
}

/* Waits out the owners of biased lanes that may have read the old admission bits: an owner
 * that did is busy until it has published. */
static void wait_owners(struct evl__submitq *q)
{
    evl__submit_fence();
    for (unsigned i = 0; i < EVL__LANES; i++) {
        evl__submit_wait_not_busy(&q->lanes[i]);
    }
}

int evl__submitq_close(struct evl_loop *loop, int drop)
{
    struct evl__submitq *q = &loop->q;
    /* Every lane is closed under its lock (used or not: a producer may be taking its first
     * lane right now), so a locked producer either published before, or gets EVL_ECLOSED. */
    lock_all(q);
    if (!drop && (!lanes_empty(q) || q->note_head)) {
        unlock_all(q);
        return 1;
    }
    int biased = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        atomic_fetch_or_explicit(&q->lanes[i].closed, EVL__ADMIT_CLOSED, memory_order_relaxed);
        biased |= evl__submit_lane_biased(&q->lanes[i]);
    }
    if (drop || !biased) {
        q->closed = 1;
    }
    unlock_all(q);
    if (biased) {
        wait_owners(q);
        if (!drop) {
            if (!lanes_empty(q)) {
                return 1; /* one slipped in before the fence: drain it, then close again */
            }
            evl__submit_lock(&q->lock);
            if (q->note_head) {
                evl__submit_unlock(&q->lock);
                return 1;
            }
            q->closed = 1;
            evl__submit_unlock(&q->lock);
        }
    }
    if (!drop) {
        return evl__task_list_nonempty(&q->local);
    }
    /* Admission is closed: these are the last of them. */
    uint64_t dropped = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        dropped += discard_lane(loop, &q->lanes[i]);
    }
    splice_spare(q);
    struct evl__lane_slot t;
    evl_task_cb discard;
    while (local_pop(q, &t, &discard)) {
        dropped++;
        if (discard) {
            evl__loop_call(loop, discard, t.arg);
        }
    }
    for (struct evl__note *n = evl__submitq_take_notes(q), *next; n; n = next) {
        next = n->next;
        dropped++;
        evl__loop_call(loop, n->discard, n);
    }
    atomic_fetch_add_explicit(&loop->discarded, dropped, memory_order_relaxed);
    return 0;
}

void evl__submitq_close_external(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    int biased = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        struct evl__lane *l = &q->lanes[i];
        evl__submit_lock(&l->lock);
        atomic_fetch_or_explicit(&l->closed, EVL__ADMIT_EXTERNAL, memory_order_relaxed);
        biased |= evl__submit_lane_biased(l);
        evl__submit_unlock(&l->lock);
    }
    if (biased) {
        wait_owners(q);
    }
    if (evl__overload_active(loop)) {
        evl__overload_wake_all(loop); /* producers waiting for space get EVL_ECLOSED */
    }
}

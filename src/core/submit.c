/*
 * Thread-safe submission. Producers append 16-byte slots to a chain of 4 KiB chunks under a
 * short spin lock; the loop swaps the whole chain out in one locked step and runs it without
 * the lock. Chunks are recycled on both sides, so steady-state submission allocates nothing.
 *
 * Wake-up protocol (no lost wake-ups, at most one write per sleep):
 *   loop:     store wake_pending = 0, then sleeping = 1; then take the lock and check the
 *             queue; block only if it is empty.
 *   producer: append and read loop->sleeping while holding the lock; after unlocking, if it
 *             was set, the exchange of wake_pending 0 -> 1 picks the one producer that
 *             writes the wake-up fd.
 * The lock orders the two critical sections: if the loop's check came first, its store of
 * sleeping happens-before the producer's read (release/acquire through the lock), so the
 * producer wakes it; otherwise the loop sees the task. One atomic exchange per submit.
 * On the loop thread, submit appends to a private list: no lock and no wake-up.
 */
#include "core/loop_internal.h"

#include <sched.h>
#include <string.h>

void evl__task_ex_marker(struct evl_loop *loop, void *arg)
{
    /* Never called: marks a two-slot task whose first slot holds the discard callback. */
    (void)loop;
    (void)arg;
}

static void spin_lock(struct evl__submitq *q)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&q->lock, 1, memory_order_acquire) != 0) {
        while (atomic_load_explicit(&q->lock, memory_order_relaxed) != 0) {
            if (++spins > 64) {
                /* The holder may have been preempted (2 cores, many threads): yield. */
                sched_yield();
                spins = 0;
            }
        }
    }
}

static void spin_unlock(struct evl__submitq *q)
{
    atomic_store_explicit(&q->lock, 0, memory_order_release);
}

static struct evl__task_chunk *chunk_new(struct evl_loop *loop)
{
    struct evl__task_chunk *c = evl__loop_malloc(loop, sizeof(*c));
    if (c) {
        c->next = NULL;
        c->n = 0;
    }
    return c;
}

int evl__submitq_init(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    atomic_init(&q->lock, 0);
    q->closed = 0;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    atomic_init(&q->ctl_pending, 0);
    atomic_init(&q->head, NULL);
    q->tail = NULL;
    q->free = NULL;
    memset(&q->batch, 0, sizeof(q->batch));
    memset(&q->local, 0, sizeof(q->local));
    q->spare = NULL;
    q->spare_tail = NULL;
    q->lspare = NULL;
    return 0;
}

static void free_chain(struct evl_loop *loop, struct evl__task_chunk *c)
{
    while (c) {
        struct evl__task_chunk *next = c->next;
        evl__loop_free(loop, c);
        c = next;
    }
}

void evl__submitq_deinit(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    free_chain(loop, atomic_load_explicit(&q->head, memory_order_relaxed));
    free_chain(loop, q->free);
    free_chain(loop, q->batch.head);
    free_chain(loop, q->local.head);
    free_chain(loop, q->spare);
    free_chain(loop, q->lspare);
    atomic_store_explicit(&q->head, NULL, memory_order_relaxed);
    q->tail = NULL;
    q->free = NULL;
    memset(&q->batch, 0, sizeof(q->batch));
    memset(&q->local, 0, sizeof(q->local));
    q->spare = NULL;
    q->spare_tail = NULL;
    q->lspare = NULL;
}

/* Appends n (1 or 2) slots to the shared chain; under the lock. Returns EVL_EAGAIN, having
 * written nothing, when a fresh chunk is needed and none is recycled: the caller allocates
 * it outside the lock (a malloc under the lock would stall the loop's swap). */
static int push_locked(struct evl__submitq *q, const struct evl__task *t, int n)
{
    struct evl__task_chunk *tail = q->tail;
    uint32_t room = tail ? EVL__CHUNK_TASKS - tail->n : 0;
    if ((uint32_t)n > room && !q->free) {
        return EVL_EAGAIN;
    }
    for (int i = 0; i < n; i++) {
        if (!tail || tail->n == EVL__CHUNK_TASKS) {
            struct evl__task_chunk *c = q->free;
            q->free = c->next;
            c->next = NULL;
            c->n = 0;
            if (tail) {
                tail->next = c;
            } else {
                atomic_store_explicit(&q->head, c, memory_order_relaxed);
            }
            q->tail = c;
            tail = c;
        }
        tail->tasks[tail->n++] = t[i];
    }
    return 0;
}

/* Appends to the loop thread's private list (no lock). */
static int push_local(struct evl_loop *loop, const struct evl__task *t, int n)
{
    struct evl__submitq *q = &loop->q;
    struct evl__task_list *l = &q->local;
    for (int i = 0; i < n; i++) {
        struct evl__task_chunk *tail = l->tail;
        if (!tail || tail->n == EVL__CHUNK_TASKS) {
            struct evl__task_chunk *c = q->lspare;
            if (c) {
                q->lspare = c->next;
                c->next = NULL;
                c->n = 0;
            } else {
                c = chunk_new(loop);
                if (!c) {
                    if (i == 1) {
                        l->tail->n--;
                    }
                    return EVL_ENOMEM;
                }
            }
            if (tail) {
                tail->next = c;
            } else {
                l->head = c;
                l->pos = 0;
            }
            l->tail = c;
            tail = c;
        }
        tail->tasks[tail->n++] = t[i];
    }
    return 0;
}

static int submit(struct evl_loop *loop, const struct evl__task *t, int n)
{
    if (evl__loop_on_thread(loop)) {
        if (loop->q.closed || loop->admission_closed) {
            return EVL_ECLOSED;
        }
        return push_local(loop, t, n);
    }
    struct evl__submitq *q = &loop->q;
    int rc;
    int sleeping;
    for (;;) {
        spin_lock(q);
        rc = q->closed ? EVL_ECLOSED : push_locked(q, t, n);
        sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
        spin_unlock(q);
        if (rc != EVL_EAGAIN) {
            break;
        }
        /* Rare: only while the backlog grows beyond the recycled chunks. */
        struct evl__task_chunk *c = chunk_new(loop);
        if (!c) {
            return EVL_ENOMEM;
        }
        spin_lock(q);
        c->next = q->free;
        q->free = c;
        spin_unlock(q);
    }
    if (rc == 0 && sleeping) {
        evl__loop_wake_now(loop);
    }
    return rc;
}

int evl_loop_submit(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    struct evl__task t = {fn, arg};
    return submit(loop, &t, 1);
}

int evl_loop_submit_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    if (!discard) {
        struct evl__task t = {fn, arg};
        return submit(loop, &t, 1);
    }
    struct evl__task t[2] = {{evl__task_ex_marker, (void *)(uintptr_t)discard}, {fn, arg}};
    /* A function pointer travels in a data pointer slot: fine on every POSIX target. */
    return submit(loop, t, 2);
}

int evl__submitq_post_ctl(struct evl_loop *loop, struct evl__ctl *msg)
{
    struct evl__submitq *q = &loop->q;
    msg->next = NULL;
    spin_lock(q);
    if (q->closed) {
        spin_unlock(q);
        return EVL_ECLOSED;
    }
    if (q->ctl_tail) {
        q->ctl_tail->next = msg;
    } else {
        q->ctl_head = msg;
    }
    q->ctl_tail = msg;
    atomic_store_explicit(&q->ctl_pending, 1, memory_order_relaxed);
    int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
    spin_unlock(q);
    if (sleeping) {
        evl__loop_wake_now(loop);
    }
    return 0;
}

struct evl__ctl *evl__submitq_take_ctl(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (!atomic_load_explicit(&q->ctl_pending, memory_order_relaxed)) {
        return NULL;
    }
    spin_lock(q);
    struct evl__ctl *h = q->ctl_head;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    atomic_store_explicit(&q->ctl_pending, 0, memory_order_relaxed);
    spin_unlock(q);
    return h;
}

void evl__loop_wake(struct evl_loop *loop)
{
    if (atomic_load_explicit(&loop->sleeping, memory_order_seq_cst)) {
        evl__loop_wake_now(loop);
    }
}

void evl__loop_wake_now(struct evl_loop *loop)
{
    if (atomic_load_explicit(&loop->wake_pending, memory_order_relaxed) ||
        atomic_exchange_explicit(&loop->wake_pending, 1, memory_order_acq_rel)) {
        return; /* someone already woke this sleep */
    }
    atomic_fetch_add_explicit(&loop->wake_writes, 1, memory_order_relaxed);
    evl__wakeup_signal(&loop->wakeup);
}

/* Keeps a consumed chunk for reuse. Task storage grows to the peak backlog and is never
 * returned before evl_loop_free, so a steady stream allocates nothing (like the timer pool). */
static void recycle(struct evl__submitq *q, struct evl__task_chunk *c, int local)
{
    if (local) {
        c->next = q->lspare;
        q->lspare = c;
        return;
    }
    c->next = q->spare;
    q->spare = c;
    if (!q->spare_tail) {
        q->spare_tail = c;
    }
}

/* Pops the next task from a list. Returns 0 when empty. */
static inline int list_pop(struct evl__submitq *q, struct evl__task_list *l, int local,
                           struct evl__task *out, evl_task_cb *discard)
{
    for (;;) {
        struct evl__task_chunk *c = l->head;
        if (!c) {
            return 0;
        }
        if (l->pos < c->n) {
            struct evl__task t = c->tasks[l->pos++];
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
                    recycle(q, c, local);
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
        recycle(q, c, local);
    }
}

static int list_nonempty(const struct evl__task_list *l)
{
    return evl__task_list_nonempty(l);
}

/* Swaps the shared chain into the batch list; also hands surplus spares to producers. */
static void swap_in(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (!atomic_load_explicit(&q->head, memory_order_relaxed)) {
        return;
    }
    spin_lock(q);
    struct evl__task_chunk *h = atomic_load_explicit(&q->head, memory_order_relaxed);
    struct evl__task_chunk *t = q->tail;
    atomic_store_explicit(&q->head, NULL, memory_order_relaxed);
    q->tail = NULL;
    /* Hand every consumed chunk back to the producers in one splice. */
    if (q->spare) {
        q->spare_tail->next = q->free;
        q->free = q->spare;
        q->spare = NULL;
        q->spare_tail = NULL;
    }
    spin_unlock(q);
    if (!h) {
        return;
    }
    struct evl__task_list *b = &loop->q.batch;
    if (b->tail) {
        b->tail->next = h;
    } else {
        b->head = h;
        b->pos = 0;
    }
    b->tail = t;
}

int evl__submitq_pending_locked(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (list_nonempty(&q->batch) || list_nonempty(&q->local)) {
        return 1;
    }
    spin_lock(q);
    int r = atomic_load_explicit(&q->head, memory_order_relaxed) != NULL || q->ctl_head != NULL;
    spin_unlock(q);
    return r;
}

void evl__submitq_run(struct evl_loop *loop, int unbounded)
{
    struct evl__submitq *q = &loop->q;
    uint32_t max = loop->max_tasks;
    uint64_t start = 0;
    int have_start = 0;
    uint32_t done = 0;
    if (!list_nonempty(&q->batch)) {
        swap_in(loop);
    }
    for (;;) {
        struct evl__task t;
        evl_task_cb discard;
        /* The shared batch first, then the loop's own submissions. */
        if (!list_pop(q, &q->batch, 0, &t, &discard) && !list_pop(q, &q->local, 1, &t, &discard)) {
            if (unbounded) {
                swap_in(loop);
                if (list_pop(q, &q->batch, 0, &t, &discard)) {
                    goto run;
                }
            }
            return;
        }
    run:
        evl__loop_call(loop, t.fn, t.arg);
        evl__loop_after_callback(loop);
        done++;
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
            atomic_load_explicit(&loop->closing, memory_order_relaxed)) {
            return;
        }
        if (!unbounded) {
            if (done >= max) {
                return;
            }
            /* The time bound is checked every 64 tasks; the first check only records the
             * start, so a short batch reads no clock at all. */
            if ((done & 63) == 0 && loop->max_task_ns) {
                uint64_t now = evl__loop_clock(loop);
                if (!have_start) {
                    start = now;
                    have_start = 1;
                } else if (now - start >= loop->max_task_ns) {
                    return;
                }
            }
        }
    }
}

static void discard_list(struct evl_loop *loop, struct evl__task_list *l)
{
    struct evl__submitq *q = &loop->q;
    struct evl__task t;
    evl_task_cb discard;
    while (list_pop(q, l, l == &q->local, &t, &discard)) {
        if (discard) {
            evl__loop_call(loop, discard, t.arg);
        }
    }
}

int evl__submitq_close(struct evl_loop *loop, int drop)
{
    struct evl__submitq *q = &loop->q;
    spin_lock(q);
    if (!drop && atomic_load_explicit(&q->head, memory_order_relaxed)) {
        spin_unlock(q);
        return 1;
    }
    q->closed = 1;
    spin_unlock(q);
    if (!drop) {
        return list_nonempty(&q->batch) || list_nonempty(&q->local);
    }
    swap_in(loop); /* admission is closed: this takes the last of them */
    discard_list(loop, &q->batch);
    discard_list(loop, &q->local);
    return 0;
}

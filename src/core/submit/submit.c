/*
 * Thread-safe submission: admission and the push paths (the producers' side). Storage is the
 * lane container (src/container/lanes.h); the wake-up protocol and the asymmetric fence are
 * in wake.c; the loop's side in run.c.
 *
 * Each producer thread is given a lane once (round robin over EVL__LANES, kept in a
 * thread-local), so producers normally never share a cache line, and the loop takes what a
 * lane published in whole batches. On the loop thread, submit appends to a private list: no
 * lock and no wake-up.
 *
 * Biased lanes. A lane starts locked: a producer takes the lane's spin lock (one atomic
 * exchange per task, on a line no other thread writes). Once a lane is hot (EVL__BIAS_AFTER
 * tasks since the loop last prepared to sleep), the thread pushing becomes its owner and from
 * then on pushes with plain stores only: busy = 1, check owner and closed, write the slot,
 * publish tail, read loop->sleeping, busy = 0; the compiler keeps that order (signal fences)
 * but the CPU may still let the loads pass the stores. The other side pays instead, with the
 * asymmetric fence (wake.c): the loop before sleeping, close, and a second thread on a biased
 * lane (which makes the lane shared for good). The loop also drops, in the fence it pays
 * before sleeping, the bias of every lane that was idle since the last one, so it stops
 * paying fences soon after a stream ends. Where membarrier is missing every lane stays locked.
 *
 * One push path. The fast path (push_fast) has its cheap tests at its top: the lane is the
 * caller's or its lock is free, admission is open (closed == 0) and slot ptail is below the
 * lane's `lim`; it writes the slot or answers "not handled", and submit() is the one full
 * path behind it (a new chunk, a bias to take or revoke, a bound to charge, a rate, close,
 * waiting). `lim` is kept by every full-path push: the end of the current chunk, and with a
 * bound also the end of the lane's credit.
 *
 * The bound. Slots are charged to the bound (overload.c) in batches: the full path charges
 * what a push needs plus up to a batch more, and the lane keeps the surplus as credit (slots
 * ptail .. credit), which later pushes use on the fast path, biased lanes included. The loop
 * gives slots back once per stretch of tasks it ran. So a bounded queue costs the producer
 * one atomic charge per batch instead of a lock and three atomics per task.
 *
 * The loop's side (the tasks phase, close) is in run.c.
 */
#include "core/submit/submit.h"

#include "core/context/context_internal.h"
#include "core/loop_state.h"
#include "core/overload/overload_internal.h"

#include <string.h>

/* A lane is biased to its producer after this many tasks since the loop last prepared to
 * sleep: the fence the loop then pays is then spread over at least as many tasks. */
#define EVL__BIAS_AFTER 4096u

/* push_fast's answers: queued; nothing done, the full path must decide; queued, and the loop
 * must be woken (a separate answer so that the caller's wake-up is a tail call and the fast
 * path saves no registers). */
#define PUSHED      0
#define NOT_HANDLED 1
#define PUSHED_WAKE 2

void evl__task_ex_marker(struct evl_loop *loop, void *arg)
{
    /* Never called: marks a two-slot task whose first slot holds the discard callback. */
    (void)loop;
    (void)arg;
}

/* The lane of the calling thread: assigned once per thread, round robin, so the first
 * EVL__LANES producer threads of a process get lanes of their own. */
static _Atomic unsigned lane_counter;
/* lane + 1; 0 = not assigned yet. Initial-exec: read at a fixed offset from the thread
 * pointer, where the default model for position-independent code calls __tls_get_addr on
 * every submission (and that call alone makes the fast path save and restore registers). */
static _Thread_local unsigned lane_of_thread __attribute__((tls_model("initial-exec")));

static inline unsigned thread_lane(void)
{
    unsigned v = lane_of_thread;
    if (v == 0) {
        v = atomic_fetch_add_explicit(&lane_counter, 1, memory_order_relaxed) % EVL__LANES + 1;
        lane_of_thread = v;
    }
    return v - 1;
}

/* The allocator the lanes use: the loop's own, or NULL for the process-wide one. */
static const struct evl_allocator *lane_alloc(const struct evl_loop *loop)
{
    return loop->alloc.custom ? &loop->alloc.fns : NULL;
}

int evl__submitq_init(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        evl__lanes_init(&q->lanes[i]);
    }
    atomic_init(&q->lock, 0);
    q->closed = 0;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    q->note_head = NULL;
    q->note_tail = NULL;
    atomic_init(&q->used, 0);
    atomic_init(&q->ctl_pending, 0);
    atomic_init(&q->note_pending, 0);
    memset(&q->local, 0, sizeof(q->local));
    q->lspare = NULL;
    q->free = (struct evl__lane_pool){NULL, NULL};
    q->spare = (struct evl__lane_pool){NULL, NULL};
    q->rr = 0;
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
    const struct evl_allocator *a = lane_alloc(loop);
    for (unsigned i = 0; i < EVL__LANES; i++) {
        EVL__ASSERT(evl__lanes_check(&q->lanes[i]) == 0);
        evl__lanes_deinit(&q->lanes[i], a);
    }
    evl__lanes_pool_free(&q->free, a);
    evl__lanes_pool_free(&q->spare, a);
    free_chain(loop, q->local.head);
    free_chain(loop, q->lspare);
    memset(&q->local, 0, sizeof(q->local));
    q->lspare = NULL;
}

uint64_t evl__submitq_queued(struct evl_loop *loop)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        struct evl__lane *l = &loop->q.lanes[i];
        n += atomic_load_explicit(&l->tail, memory_order_acquire) - evl__lanes_head(l);
    }
    return n;
}

void evl__submitq_gate(struct evl_loop *loop)
{
    for (unsigned i = 0; i < EVL__LANES; i++) {
        atomic_fetch_or_explicit(&loop->q.lanes[i].closed, EVL__ADMIT_GATED, memory_order_relaxed);
    }
}

/* Appends to the loop thread's private list (no lock). */
static int push_local(struct evl_loop *loop, const struct evl__lane_slot *t, int n)
{
    struct evl__submitq *q = &loop->q;
    struct evl__task_list *l = &q->local;
    for (int i = 0; i < n; i++) {
        struct evl__task_chunk *tail = l->tail;
        if (!tail || tail->n == EVL__CHUNK_TASKS) {
            struct evl__task_chunk *c = q->lspare;
            if (c) {
                q->lspare = c->next;
            } else {
                c = evl__loop_malloc(loop, sizeof(*c));
                if (!c) {
                    if (i == 1) {
                        l->tail->n--;
                    }
                    return EVL_ENOMEM;
                }
            }
            c->next = NULL;
            c->n = 0;
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

/* A loop-thread submission while a context is current: the task travels wrapped with the
 * captured frame (and a discard that frees the wrapper). Out of line: the common submit
 * never comes here. */
EVL__NOINLINE static int push_local_captured(struct evl_loop *loop, const struct evl__lane_slot *t,
                                             int n)
{
    struct evl_context_frame *f = NULL;
    int rc = evl__context_capture_hot(loop, &f);
    if (rc != 0) {
        return rc;
    }
    if (f == NULL) {
        return push_local(loop, t, n);
    }
    evl_task_cb discard = n == 2 ? (evl_task_cb)(uintptr_t)t[0].arg : NULL;
    struct evl__context_work *w = evl__context_wrap(loop, t[n - 1].fn, discard, t[n - 1].arg, f);
    if (w == NULL) {
        return EVL_ENOMEM;
    }
    struct evl__lane_slot wt[2] = {
        {evl__task_ex_marker, (void *)(uintptr_t)evl__context_task_discard},
        {evl__context_task_run, w}};
    rc = push_local(loop, wt, 2);
    if (rc != 0) {
        evl__context_unwrap(loop, w);
    }
    return rc;
}

/* Nonzero if the lane is biased to a thread other than me: its owner writes the producer
 * fields without the lock, so nobody else may touch them (under the lock: stable). */
static inline int lane_other_owner(const struct evl__lane *l, uintptr_t me)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    return o != 0 && o != EVL__LANE_SHARED && o != me;
}

/* The slow half of a producer's push: sets a chunk aside for the lane (a recycled one if the
 * loop has any), and installs a directory twice as large if the current one is full; the
 * allocations happen outside the lane lock. Returns 0 or EVL_ENOMEM. */
static int lane_grow(struct evl_loop *loop, struct evl__lane *l, uintptr_t me)
{
    struct evl__submitq *q = &loop->q;
    const struct evl_allocator *a = lane_alloc(loop);
    evl__submit_lock(&l->lock);
    if (lane_other_owner(l, me)) {
        evl__submit_unlock(&l->lock);
        return 0; /* the retry takes the locked path, which revokes the bias first */
    }
    int need_chunk = l->free == NULL;
    uint32_t cap = evl__lanes_dir_next_cap(l);
    int need_dir = evl__lanes_dir_full(l, atomic_load_explicit(&l->dir, memory_order_relaxed));
    evl__submit_unlock(&l->lock);
    union evl__lane_chunk *c = NULL;
    if (need_chunk) {
        evl__submit_lock(&q->lock);
        c = evl__lanes_pool_take(&q->free);
        evl__submit_unlock(&q->lock);
        if (!c) {
            c = evl__lanes_alloc(a, sizeof(*c));
            if (!c) {
                return EVL_ENOMEM;
            }
        }
    }
    struct evl__lane_dir *nd = NULL;
    if (need_dir) {
        nd = evl__lanes_dir_new(a, cap);
        if (!nd) {
            evl__lanes_free(a, c);
            return EVL_ENOMEM;
        }
    }
    evl__submit_lock(&l->lock);
    if (!lane_other_owner(l, me)) { /* else biased to another thread meanwhile: keep both */
        if (c) {
            c = evl__lanes_set_free(l, c);
        }
        if (nd) {
            nd = evl__lanes_install_dir(l, nd);
        }
    }
    evl__submit_unlock(&l->lock);
    evl__lanes_free(a, nd); /* another producer of this lane grew it first */
    if (c) {
        /* Another producer of this lane set one aside first: keep ours for any lane. */
        evl__submit_lock(&q->lock);
        evl__lanes_pool_put(&q->free, c);
        evl__submit_unlock(&q->lock);
    }
    return 0;
}

/* Under the lane lock, a producer that is not the lane's owner: takes the bias if the lane
 * has none and is hot (returns 1: the caller is now the owner), or revokes another thread's
 * (the lane is shared from then on: the fence, then waiting out the owner's push). */
static int lane_claim_locked(struct evl__lane *l, uintptr_t me)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    if (o == me || o == EVL__LANE_SHARED) {
        return o == me;
    }
    if (o == 0) {
        uint32_t since = l->ptail - atomic_load_explicit(&l->sleep_tail, memory_order_relaxed);
        /* A gated lane stays locked: its tokens are taken under the lock. */
        if (since >= EVL__BIAS_AFTER &&
            !(atomic_load_explicit(&l->closed, memory_order_relaxed) & EVL__ADMIT_GATED) &&
            evl__submit_fence_ready()) {
            atomic_store_explicit(&l->owner, me, memory_order_seq_cst);
            return 1;
        }
        return 0;
    }
    atomic_store_explicit(&l->owner, EVL__LANE_SHARED, memory_order_seq_cst);
    evl__submit_fence();
    evl__submit_wait_not_busy(l);
    return 0;
}

/* Nonzero if a push meeting these admission bits is refused: everything once finalization
 * closed the queue, external submissions once shutdown or close began. */
static inline int admit_refused(int bits, int internal)
{
    return (bits & EVL__ADMIT_CLOSED) || (!internal && (bits & EVL__ADMIT_EXTERNAL));
}

/* Sets the fast path's limit after a full-path push: the end of the chunk being filled (at
 * ptail itself when the next slot starts a chunk), and with a bound the end of the credit. */
static inline void lane_set_lim(struct evl__lane *l, int bounded)
{
    uint32_t room = (0u - l->ptail) & EVL__LANE_MASK;
    if (bounded && l->credit - l->ptail < room) {
        room = l->credit - l->ptail;
    }
    l->lim = l->ptail + room;
}

/*
 * A push by the producer allowed on the lane (its owner, or the holder of its lock): admission,
 * the bound's charge, the container's push, the fast path's limit. Returns 0, an error, or
 * EVL__LANES_NEED_GROW (the caller provides a chunk or directory outside the lock).
 */
static int push_admitted(struct evl_loop *loop, struct evl__lane *l, unsigned li,
                         const struct evl__lane_slot *t, int n, int internal)
{
    if (admit_refused(atomic_load_explicit(&l->closed, memory_order_relaxed), internal)) {
        return EVL_ECLOSED;
    }
    int bounded = evl__overload_bounded(loop);
    if (bounded && l->credit - l->ptail < (uint32_t)n) {
        uint32_t need = (uint32_t)n - (l->credit - l->ptail);
        uint32_t got = evl__overload_charge(loop, li, need, internal);
        if (got == 0) {
            return EVL_EAGAIN;
        }
        l->credit += got;
    }
    int rc = evl__lanes_push(l, t, n);
    if (rc == 0) {
        lane_set_lim(l, bounded);
    }
    return rc;
}

/*
 * The one full path of a cross-thread push (the fast path falls back to it). internal: the
 * library's own completion (see evl__loop_submit_internal). timeout_ns: how long a full bounded
 * queue is waited for (0: refuse at once with EVL_EAGAIN; UINT64_MAX: no limit).
 */
static int submit(struct evl_loop *loop, const struct evl__lane_slot *t, int n, int internal,
                  uint64_t timeout_ns)
{
    if (evl__loop_on_thread(loop)) {
        if (loop->q.closed || evl__loop_admission_closed(loop)) {
            return EVL_ECLOSED;
        }
        if (__builtin_expect(evl__loop_context_active(loop), 0) &&
            t[n - 1].fn != evl__context_task_run) {
            return push_local_captured(loop, t, n);
        }
        return push_local(loop, t, n);
    }
    struct evl__submitq *q = &loop->q;
    unsigned li = thread_lane();
    struct evl__lane *l = &q->lanes[li];
    uintptr_t me = evl__thread_id();
    int rc;
    int sleeping = 0;
    int slow = 0;
    int token = 0;   /* a token of the loop's bucket was taken */
    int waiting = 0; /* in the waiters' queue (overload.c) */
    struct evl__waiter w;
    uint64_t until = 0;
    if (!internal && evl__overload_rated(loop)) {
        rc = evl__overload_rate_admit(loop);
        if (rc != 0) {
            return rc;
        }
        token = 1;
    }
    for (;;) {
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
            /* The owner's push: no lock (see the protocol at the top). */
            atomic_store_explicit(&l->busy, 1, memory_order_relaxed);
            atomic_signal_fence(memory_order_seq_cst);
            if (atomic_load_explicit(&l->owner, memory_order_relaxed) != me) {
                atomic_store_explicit(&l->busy, 0, memory_order_release);
                continue; /* revoked meanwhile: the locked path */
            }
            rc = push_admitted(loop, l, li, t, n, internal);
            atomic_signal_fence(memory_order_seq_cst);
            sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
            atomic_store_explicit(&l->busy, 0, memory_order_release);
        } else {
            evl__submit_lock(&l->lock);
            if (lane_claim_locked(l, me)) {
                slow = 1; /* a new owner reads sleeping seq_cst after its first push */
            }
            rc = push_admitted(loop, l, li, t, n, internal);
            sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
            evl__submit_unlock(&l->lock);
        }
        if (rc == EVL_EAGAIN && timeout_ns != 0) {
            /* The bound is reached: wait for the loop to free space, in arrival order. */
            if (!waiting) {
                uint64_t now = evl__monotonic_ns();
                until = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
                evl__overload_wait_enter(loop, &w);
                waiting = 1;
            }
            rc = evl__overload_wait_turn(loop, &w, li, (uint32_t)n, until);
            if (rc == 0) {
                continue; /* our turn: try again, still first in line */
            }
        }
        if (rc != EVL__LANES_NEED_GROW) {
            break;
        }
        /* Rare: a lane's first use, or a backlog beyond the recycled chunks. */
        slow = 1;
        if (!(atomic_load_explicit(&q->used, memory_order_relaxed) & (1u << li))) {
            atomic_fetch_or_explicit(&q->used, 1u << li, memory_order_seq_cst);
        }
        rc = lane_grow(loop, l, me);
        if (rc != 0) {
            break;
        }
    }
    if (waiting) {
        evl__overload_wait_leave(loop, &w); /* the next waiter's turn */
    }
    if (rc != 0 && token) {
        evl__overload_rate_refund(loop); /* a refused call takes no token */
    }
    if (rc != 0 && evl__overload_active(loop) && !internal) {
        evl__overload_refused(loop, rc);
    }
    if (rc == 0) {
        if (sleeping) {
            evl__loop_wake_now(loop);
        } else if (slow) {
            evl__loop_wake(loop); /* the loop may have checked before our bit or bias */
        }
    }
    return rc;
}

/* The full path for one slot, out of line so that the fast path keeps fn and arg in
 * registers (a 16-byte reload of two 8-byte stores cannot be forwarded: it would wait for
 * every older store, including the slot and tail lines the loop may be reading). */
static EVL__NOINLINE int submit_one(struct evl_loop *loop, evl_task_cb fn, void *arg,
                                    uint64_t timeout_ns)
{
    struct evl__lane_slot t = {fn, arg};
    return submit(loop, &t, 1, 0, timeout_ns);
}

/*
 * The fast path of a one-slot push from another thread: the calling thread owns its lane, or
 * the lane is locked and its lock free; admission is open and the chunk (and credit) has room
 * at ptail. Returns PUSHED, PUSHED_WAKE (queued while the loop sleeps: the caller wakes it) or
 * NOT_HANDLED (nothing done: submit() decides).
 */
static EVL__ALWAYS_INLINE int push_fast(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    struct evl__lane *l = &loop->q.lanes[thread_lane()];
    uintptr_t me = evl__thread_id();
    if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
        atomic_store_explicit(&l->busy, 1, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
        /* ptail and lim are read only while the lane is surely ours. */
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me &&
            !atomic_load_explicit(&l->closed, memory_order_relaxed) && l->ptail != l->lim) {
            evl__lanes_push_here(l, l->ptail, fn, arg);
            atomic_signal_fence(memory_order_seq_cst);
            int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
            atomic_store_explicit(&l->busy, 0, memory_order_release);
            return sleeping ? PUSHED_WAKE : PUSHED;
        }
        atomic_store_explicit(&l->busy, 0, memory_order_release);
    } else if (atomic_exchange_explicit(&l->lock, 1, memory_order_acquire) == 0) {
        /* A locked lane (owner none or shared; only the lock holder can bias it). */
        uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
        if ((o == 0 || o == EVL__LANE_SHARED) &&
            !atomic_load_explicit(&l->closed, memory_order_relaxed) && l->ptail != l->lim) {
            evl__lanes_push_here(l, l->ptail, fn, arg);
            int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
            evl__submit_unlock(&l->lock);
            return sleeping ? PUSHED_WAKE : PUSHED;
        }
        evl__submit_unlock(&l->lock);
    }
    return NOT_HANDLED;
}

/* Wakes the loop after a fast-path push; returns the push's result (0). */
EVL__NOINLINE static int wake_pushed(struct evl_loop *loop)
{
    evl__loop_wake_now(loop);
    return 0;
}

/* A one-slot submission from any thread: the fast path where it applies, else the full one.
 * Every call in it is a tail call. */
static EVL__ALWAYS_INLINE int submit_task(struct evl_loop *loop, evl_task_cb fn, void *arg,
                                          uint64_t timeout_ns)
{
    if (!evl__loop_on_thread(loop)) {
        int r = push_fast(loop, fn, arg);
        if (r == PUSHED) {
            return 0;
        }
        if (r == PUSHED_WAKE) {
            /* evl__loop_wake_now's first test, inline: while the loop sleeps, a streaming
             * producer finds this sleep already woken on every push after the first. */
            if (atomic_load_explicit(&loop->wake_pending, memory_order_relaxed)) {
                return 0;
            }
            return wake_pushed(loop);
        }
    }
    return submit_one(loop, fn, arg, timeout_ns);
}

int evl_loop_submit(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    return submit_task(loop, fn, arg, 0);
}

/* Submission with every option: discard callback (may be NULL), internal, wait. */
static int submit_full(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg,
                       int internal, uint64_t timeout_ns)
{
    if (!discard) {
        struct evl__lane_slot t = {fn, arg};
        return submit(loop, &t, 1, internal, timeout_ns);
    }
    /* A function pointer travels in a data pointer slot: fine on every POSIX target. */
    struct evl__lane_slot t[2] = {{evl__task_ex_marker, (void *)(uintptr_t)discard}, {fn, arg}};
    return submit(loop, t, 2, internal, timeout_ns);
}

int evl_loop_submit_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    return submit_full(loop, fn, discard, arg, 0, 0);
}

int evl_loop_submit_wait(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg,
                         uint64_t timeout_ns)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    if (!discard) {
        return submit_task(loop, fn, arg, timeout_ns);
    }
    return submit_full(loop, fn, discard, arg, 0, timeout_ns);
}

void evl_submit_options_init(struct evl_submit_options *opts)
{
    if (opts) {
        memset(opts, 0, sizeof(*opts));
        opts->size = sizeof(*opts);
    }
}

int evl_loop_submit_opts(struct evl_loop *loop, evl_task_cb fn, void *arg,
                         const struct evl_submit_options *opts)
{
    if (!loop || !fn || (opts && opts->size != sizeof(*opts))) {
        return EVL_EINVAL;
    }
    if (!opts) {
        return submit_task(loop, fn, arg, 0);
    }
    if (!opts->correlation_id) {
        return evl_loop_submit_wait(loop, fn, opts->discard, arg, opts->timeout_ns);
    }
    struct evl_context_frame *f = NULL;
    int rc = evl__context_capture_with_id(loop, opts->correlation_id, &f);
    if (rc != 0) {
        return rc;
    }
    struct evl__context_work *w = evl__context_wrap(loop, fn, opts->discard, arg, f);
    if (!w) {
        return EVL_ENOMEM;
    }
    struct evl__lane_slot t[2] = {
        {evl__task_ex_marker, (void *)(uintptr_t)evl__context_task_discard},
        {evl__context_task_run, w}};
    rc = submit(loop, t, 2, 0, opts->timeout_ns);
    if (rc != 0) {
        evl__context_unwrap(loop, w); /* refused: nothing ran, arg stays the caller's */
    }
    return rc;
}

int evl__loop_submit_internal(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    return submit_full(loop, fn, discard, arg, 1, 0);
}

int evl__submitq_post_ctl(struct evl_loop *loop, struct evl__ctl *msg)
{
    struct evl__submitq *q = &loop->q;
    msg->next = NULL;
    evl__submit_lock(&q->lock);
    if (q->closed) {
        evl__submit_unlock(&q->lock);
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
    evl__submit_unlock(&q->lock);
    if (sleeping) {
        evl__loop_wake_now(loop);
    }
    return 0;
}

int evl__loop_post_note(struct evl_loop *loop, struct evl__note *note)
{
    struct evl__submitq *q = &loop->q;
    note->next = NULL;
    evl__submit_lock(&q->lock);
    if (q->closed) {
        evl__submit_unlock(&q->lock);
        return EVL_ECLOSED;
    }
    if (q->note_tail) {
        q->note_tail->next = note;
    } else {
        q->note_head = note;
    }
    q->note_tail = note;
    atomic_store_explicit(&q->note_pending, 1, memory_order_relaxed);
    int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
    evl__submit_unlock(&q->lock);
    if (sleeping) {
        evl__loop_wake_now(loop);
    }
    return 0;
}

struct evl__note *evl__submitq_take_notes(struct evl__submitq *q)
{
    if (!atomic_load_explicit(&q->note_pending, memory_order_relaxed)) {
        return NULL;
    }
    evl__submit_lock(&q->lock);
    struct evl__note *h = q->note_head;
    q->note_head = NULL;
    q->note_tail = NULL;
    atomic_store_explicit(&q->note_pending, 0, memory_order_relaxed);
    evl__submit_unlock(&q->lock);
    return h;
}

struct evl__ctl *evl__submitq_take_ctl(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (!atomic_load_explicit(&q->ctl_pending, memory_order_relaxed)) {
        return NULL;
    }
    evl__submit_lock(&q->lock);
    struct evl__ctl *h = q->ctl_head;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    atomic_store_explicit(&q->ctl_pending, 0, memory_order_relaxed);
    evl__submit_unlock(&q->lock);
    return h;
}

/*
 * Thread-safe submission. Each producer thread is given a lane once (round robin over
 * EVL__LANES, kept in a thread-local), so producers normally never share a cache line. A
 * producer writes 16-byte slots into header-less 4 KiB chunks and publishes the lane's `tail`
 * with a release store; the loop reads `tail` (acquire) and the slots without any lock, in
 * whole batches. Chunks are recycled through the loop, so steady-state submission allocates
 * nothing.
 *
 * Biased lanes. A lane starts locked: a producer takes the lane's spin lock (one atomic
 * exchange per task, on a line no other thread writes). Once a lane is hot (EVL__BIAS_AFTER
 * tasks since the loop last prepared to sleep), the thread pushing becomes its owner and from
 * then on pushes with plain stores only: busy = 1, check owner and closed, write the slot,
 * publish tail, read loop->sleeping, busy = 0; the compiler keeps that order (signal fences)
 * but the CPU may still let the loads pass the stores. The other side pays instead, with an
 * asymmetric fence (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every running thread of the
 * process passes a full barrier; ~1 us on this VM, tens of us when it must interrupt busy
 * threads): the loop
 * before sleeping, close, and a second thread on a biased lane (which makes the lane shared
 * for good). The loop also drops, in the fence it pays before sleeping, the bias of every
 * lane that was idle since the last one (its producer stopped), so it stops paying fences
 * soon after a stream ends; a request/response client, whose lane never gets hot, never
 * makes the loop pay one. Where membarrier is missing every lane stays locked.
 *
 * Wake-up protocol (no lost wake-ups, at most one write per sleep):
 *   loop:     store wake_pending = 0, then sleeping = 1 (seq_cst); if a lane is biased, an
 *             asymmetric fence, then read every used lane's tail; otherwise take each used
 *             lane's lock in turn and check it; block only if all are empty.
 *   producer: append, publish, then read loop->sleeping (owner: after its stores; locked:
 *             inside the critical section); if it was set, the exchange of wake_pending
 *             0 -> 1 picks the one producer that writes the wake-up fd.
 * With the fence, a push either is visible to the loop's check or its read of sleeping comes
 * after the fence and sees 1. Under the lock, the lock orders the two critical sections.
 * A lane's first use sets its bit in q->used (seq_cst) and becoming a lane's owner is a
 * seq_cst store under the lane lock; both are followed by a seq_cst read of sleeping, so a
 * loop that checked before either is woken.
 *
 * Close: every lane's closed flag is set under its lock, then (biased lanes) the fence and a
 * wait until no owner is busy: an owner that read closed == 0 has published by then, so its
 * task is drained or discarded; any later push sees closed (conservation).
 *
 * On the loop thread, submit appends to a private list: no lock and no wake-up.
 */
#include "core/loop_internal.h"
#include "core/overload/overload.h"

#include <sched.h>
#include <string.h>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define LANE_SHARED ((uintptr_t)1) /* owner value of a lane two threads pushed to */

/* A lane is biased to its producer after this many tasks since the loop last prepared to
 * sleep: the fence the loop then pays is then spread over at least as many tasks. */
#define EVL__BIAS_AFTER 4096u

/* 1 once membarrier(PRIVATE_EXPEDITED) is registered for the process, -1 if unavailable. */
static _Atomic int asym_state;

/* Registers the asymmetric fence once per process (evl_loop_new calls it). */
void evl__submit_global_init(void)
{
    if (atomic_load_explicit(&asym_state, memory_order_acquire) != 0) {
        return;
    }
    int ok = -1;
#if defined(__linux__) && defined(__NR_membarrier)
    long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0) {
        ok = 1;
    }
#endif
    atomic_store_explicit(&asym_state, ok, memory_order_release);
}

int evl__submit_asym_available(void)
{
    return atomic_load_explicit(&asym_state, memory_order_acquire) == 1;
}

/* The heavy side of the asymmetric fence: every running thread of the process executes a full
 * memory barrier before this returns. */
static void asym_fence(void)
{
#if defined(__linux__) && defined(__NR_membarrier)
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
        /* A child after fork() starts unregistered: register again and retry; if that
         * fails, no lane is biased from now on (the threads that could hold a bias are
         * ones created since, which only got it while the fence worked). */
        if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) != 0 ||
            syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
            atomic_store_explicit(&asym_state, -1, memory_order_release);
        }
    }
#endif
    atomic_thread_fence(memory_order_seq_cst);
}

/* Nonzero if the lane is biased to a thread (an owner pushes without the lock). */
static inline int lane_biased(const struct evl__lane *l)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_seq_cst);
    return o != 0 && o != LANE_SHARED;
}

/* Waits until the lane's owner is out of any push it began before the fence. */
static void wait_not_busy(struct evl__lane *l)
{
    unsigned spins = 0;
    while (atomic_load_explicit(&l->busy, memory_order_acquire)) {
        if (++spins > 64) {
            sched_yield(); /* the owner may have been preempted mid-push */
            spins = 0;
        }
    }
}

void evl__task_ex_marker(struct evl_loop *loop, void *arg)
{
    /* Never called: marks a two-slot task whose first slot holds the discard callback. */
    (void)loop;
    (void)arg;
}

static void spin_lock(_Atomic int *lock)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire) != 0) {
        while (atomic_load_explicit(lock, memory_order_relaxed) != 0) {
            if (++spins > 64) {
                /* The holder may have been preempted (2 cores, many threads): yield. */
                sched_yield();
                spins = 0;
            } else {
                evl__cpu_relax();
            }
        }
    }
}

static void spin_unlock(_Atomic int *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

/* The lane of the calling thread: assigned once per thread, round robin, so the first
 * EVL__LANES producer threads of a process get lanes of their own. */
static _Atomic unsigned lane_counter;
static _Thread_local unsigned lane_of_thread; /* lane + 1; 0 = not assigned yet */

static inline unsigned thread_lane(void)
{
    unsigned v = lane_of_thread;
    if (v == 0) {
        v = atomic_fetch_add_explicit(&lane_counter, 1, memory_order_relaxed) % EVL__LANES + 1;
        lane_of_thread = v;
    }
    return v - 1;
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
    for (unsigned i = 0; i < EVL__LANES; i++) {
        struct evl__lane *l = &q->lanes[i];
        atomic_init(&l->lock, 0);
        atomic_init(&l->closed, 0);
        atomic_init(&l->busy, 0);
        atomic_init(&l->owner, 0);
        atomic_init(&l->tail, 0);
        l->ptail = 0;
        l->nk = 0;
        atomic_init(&l->hk, 0);
        atomic_init(&l->dir, NULL);
        atomic_init(&l->sleep_tail, 0);
        l->seen = 0;
        l->pchunk = NULL;
        l->free = NULL;
        l->head = 0;
        l->cur = NULL;
    }
    atomic_init(&q->lock, 0);
    q->closed = 0;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    atomic_init(&q->used, 0);
    atomic_init(&q->ctl_pending, 0);
    memset(&q->local, 0, sizeof(q->local));
    q->lspare = NULL;
    q->free = NULL;
    q->free_tail = NULL;
    q->spare = NULL;
    q->spare_tail = NULL;
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

static void free_lane_chunks(struct evl_loop *loop, union evl__lane_chunk *c)
{
    while (c) {
        union evl__lane_chunk *next = c->next;
        evl__loop_free(loop, c);
        c = next;
    }
}

static void free_dirs(struct evl_loop *loop, struct evl__lane_dir *d)
{
    while (d) {
        struct evl__lane_dir *next = d->retired;
        evl__loop_free(loop, d);
        d = next;
    }
}

static void lane_deinit(struct evl_loop *loop, struct evl__lane *l)
{
    struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    /* Live chunks are hk .. nk-1 (the loop's current one included). */
    for (uint32_t k = atomic_load_explicit(&l->hk, memory_order_relaxed); k != l->nk; k++) {
        evl__loop_free(loop, d->c[k & d->mask]);
    }
    free_lane_chunks(loop, l->free);
    free_dirs(loop, d);
    atomic_store_explicit(&l->dir, NULL, memory_order_relaxed);
    l->free = NULL;
    l->pchunk = NULL;
    l->cur = NULL;
    l->nk = 0;
    atomic_store_explicit(&l->hk, 0, memory_order_relaxed);
    l->head = 0;
    l->seen = 0;
    l->ptail = 0;
    atomic_store_explicit(&l->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
    atomic_store_explicit(&l->sleep_tail, 0, memory_order_relaxed);
}

void evl__submitq_deinit(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        lane_deinit(loop, &q->lanes[i]);
    }
    free_lane_chunks(loop, q->free);
    free_lane_chunks(loop, q->spare);
    q->free = NULL;
    q->free_tail = NULL;
    q->spare = NULL;
    q->spare_tail = NULL;
    free_chain(loop, q->local.head);
    free_chain(loop, q->lspare);
    memset(&q->local, 0, sizeof(q->local));
    q->lspare = NULL;
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

/* Nonzero if the directory has no room for one more live chunk (under the lane lock). */
static inline int dir_full(const struct evl__lane *l, const struct evl__lane_dir *d)
{
    return !d || l->nk - atomic_load_explicit(&l->hk, memory_order_acquire) > d->mask;
}

/* lane_push_locked's answer when it needs a chunk or a larger directory first. */
#define NEED_GROW 1

/*
 * Appends n (1 or 2) slots and publishes them; under the lane lock. Returns NEED_GROW,
 * having published nothing, when a fresh chunk (or a larger directory) is needed and none is
 * at hand: the caller allocates it outside the lock.
 */
static inline int lane_push_locked(struct evl__lane *l, const struct evl__task *t, int n)
{
    uint32_t pos = l->ptail;
    uint32_t idx = pos & EVL__LANE_MASK;
    union evl__lane_chunk *c = l->pchunk;
    if (idx == 0 || idx + (uint32_t)n > EVL__LANE_SLOTS) {
        /* Slot pos (idx == 0) or pos + 1 starts chunk nk. */
        struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
        if (!l->free || dir_full(l, d)) {
            return NEED_GROW;
        }
        union evl__lane_chunk *fresh = l->free;
        l->free = NULL;
        d->c[l->nk & d->mask] = fresh;
        l->nk++;
        l->pchunk = fresh;
        if (idx == 0) {
            c = fresh;
        } else {
            c->tasks[idx] = t[0];
            fresh->tasks[0] = t[1];
            l->ptail = pos + 2;
            atomic_store_explicit(&l->tail, pos + 2, memory_order_release);
            return 0;
        }
    }
    c->tasks[idx] = t[0];
    if (n == 2) {
        c->tasks[idx + 1] = t[1];
    }
    l->ptail = pos + (uint32_t)n;
    atomic_store_explicit(&l->tail, pos + (uint32_t)n, memory_order_release);
    return 0;
}

/* The slow half of a producer's push: sets a chunk aside for the lane (a recycled one if the
 * loop has any), and installs a directory twice as large if the current one is full; the
 * allocations happen outside the lane lock. Returns 0 or EVL_ENOMEM. */
/* Nonzero if the lane is biased to a thread other than me: its owner writes the producer
 * fields without the lock, so nobody else may touch them (under the lock: stable). */
static inline int lane_other_owner(const struct evl__lane *l, uintptr_t me)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    return o != 0 && o != LANE_SHARED && o != me;
}

static int lane_grow(struct evl_loop *loop, struct evl__lane *l, uintptr_t me)
{
    struct evl__submitq *q = &loop->q;
    spin_lock(&l->lock);
    if (lane_other_owner(l, me)) {
        spin_unlock(&l->lock);
        return 0; /* the retry takes the locked path, which revokes the bias first */
    }
    int need_chunk = l->free == NULL;
    struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    uint32_t cap = d ? (d->mask + 1) * 2 : 4;
    int need_dir = dir_full(l, d);
    spin_unlock(&l->lock);
    union evl__lane_chunk *c = NULL;
    if (need_chunk) {
        spin_lock(&q->lock);
        c = q->free;
        if (c) {
            q->free = c->next;
            if (!q->free) {
                q->free_tail = NULL;
            }
        }
        spin_unlock(&q->lock);
        if (!c) {
            c = evl__loop_malloc(loop, sizeof(*c));
            if (!c) {
                return EVL_ENOMEM;
            }
        }
    }
    struct evl__lane_dir *nd = NULL;
    if (need_dir) {
        if (cap > (1u << 24)) {
            evl__loop_free(loop, c);
            return EVL_ENOMEM;
        }
        nd = evl__loop_malloc(loop, sizeof(*nd) + (size_t)cap * sizeof(union evl__lane_chunk *));
        if (!nd) {
            evl__loop_free(loop, c);
            return EVL_ENOMEM;
        }
        nd->mask = cap - 1;
    }
    spin_lock(&l->lock);
    int other = lane_other_owner(l, me); /* biased to another thread meanwhile */
    if (c && !other && !l->free) {
        c->next = NULL;
        l->free = c;
        c = NULL;
    }
    d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    if (nd && !other && dir_full(l, d) && (!d || cap > d->mask + 1)) {
        /* Copy the live entries. The loop may still be reading the old directory, so it is
         * not freed here: it hangs off the new one until the lane is torn down. Directories
         * double, so all the retired ones together are smaller than the live one (a few
         * bytes per 4 KiB chunk), and no reclamation protocol is needed. */
        for (uint32_t k = atomic_load_explicit(&l->hk, memory_order_acquire); k != l->nk; k++) {
            nd->c[k & nd->mask] = d->c[k & d->mask];
        }
        nd->retired = d;
        atomic_store_explicit(&l->dir, nd, memory_order_release);
        nd = NULL;
    }
    spin_unlock(&l->lock);
    evl__loop_free(loop, nd); /* another producer of this lane grew it first */
    if (c) {
        /* Another producer of this lane set one aside first: keep ours for any lane. */
        spin_lock(&q->lock);
        c->next = q->free;
        q->free = c;
        if (!q->free_tail) {
            q->free_tail = c;
        }
        spin_unlock(&q->lock);
    }
    return 0;
}

/* Under the lane lock, a producer that is not the lane's owner: takes the bias if the lane
 * has none and is hot (returns 1: the caller is now the owner), or revokes another thread's
 * (the lane is shared from then on: the fence, then waiting out the owner's push). */
static int lane_claim_locked(struct evl__lane *l, uintptr_t me)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    if (o == me || o == LANE_SHARED) {
        return o == me;
    }
    if (o == 0) {
        uint32_t since = l->ptail - atomic_load_explicit(&l->sleep_tail, memory_order_relaxed);
        /* A gated lane stays locked: admission (overload.c) runs under the lock. */
        if (since >= EVL__BIAS_AFTER &&
            !(atomic_load_explicit(&l->closed, memory_order_relaxed) & EVL__ADMIT_GATED) &&
            atomic_load_explicit(&asym_state, memory_order_acquire) == 1) {
            atomic_store_explicit(&l->owner, me, memory_order_seq_cst);
            return 1;
        }
        return 0;
    }
    atomic_store_explicit(&l->owner, LANE_SHARED, memory_order_seq_cst);
    asym_fence();
    wait_not_busy(l);
    return 0;
}

/* Nonzero if a push meeting these admission bits is refused: everything once finalization
 * closed the queue, external submissions once shutdown or close began. */
static inline int admit_refused(int bits, int internal)
{
    return (bits & EVL__ADMIT_CLOSED) || (!internal && (bits & EVL__ADMIT_EXTERNAL));
}

/*
 * The one full path of a cross-thread push (the fast paths in evl_loop_submit fall back to
 * it). internal: the library's own completion (see evl__loop_submit_internal). wait_until:
 * for a gated loop, the monotonic time until which a full queue is waited for (0: refuse at
 * once with EVL_EAGAIN).
 */
static int submit(struct evl_loop *loop, const struct evl__task *t, int n, int internal,
                  uint64_t wait_until)
{
    if (evl__loop_on_thread(loop)) {
        if (loop->q.closed || loop->admission_closed) {
            return EVL_ECLOSED;
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
    int charged = 0; /* slots counted against the queue bound (overload.c) */
    int token = 0;   /* a token of the loop's bucket was taken */
    if (loop->ovl && !internal && loop->ovl->has_rate) {
        rc = evl__overload_rate_admit(loop);
        if (rc != 0) {
            return rc;
        }
        token = 1;
    }
    for (;;) {
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
            /* The owner's push: no lock (see the protocol at the top). Gated lanes are never
             * biased, so no bound applies here. */
            atomic_store_explicit(&l->busy, 1, memory_order_relaxed);
            atomic_signal_fence(memory_order_seq_cst);
            if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
                int bits = atomic_load_explicit(&l->closed, memory_order_relaxed);
                rc = admit_refused(bits, internal) ? EVL_ECLOSED : lane_push_locked(l, t, n);
                atomic_signal_fence(memory_order_seq_cst);
                sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
                atomic_store_explicit(&l->busy, 0, memory_order_release);
            } else {
                atomic_store_explicit(&l->busy, 0, memory_order_release);
                continue; /* revoked meanwhile: the locked path */
            }
        } else {
            spin_lock(&l->lock);
            if (lane_claim_locked(l, me)) {
                slow = 1; /* a new owner reads sleeping seq_cst after its first push */
            }
            int bits = atomic_load_explicit(&l->closed, memory_order_relaxed);
            if (admit_refused(bits, internal)) {
                rc = EVL_ECLOSED;
            } else {
                rc = 0;
                if (loop->ovl && !charged) {
                    rc = evl__overload_charge(loop, li, (uint32_t)n, internal);
                    charged = rc == 0;
                }
                if (rc == 0) {
                    rc = lane_push_locked(l, t, n);
                }
            }
            sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
            spin_unlock(&l->lock);
        }
        if (rc == EVL_EAGAIN && wait_until != 0) {
            /* The bound is reached: wait for the loop to free space, then try again. */
            rc = evl__overload_wait(loop, li, (uint32_t)n, wait_until);
            if (rc == 0) {
                continue;
            }
        }
        if (rc != NEED_GROW) {
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
    if (rc != 0 && charged) {
        evl__overload_uncharge(loop, li, (uint32_t)n);
    }
    if (rc != 0 && token) {
        evl__bucket_refund(&loop->ovl->rate); /* a refused call takes no token */
    }
    if (rc != 0 && loop->ovl && !internal) {
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

/* The slow path of evl_loop_submit, out of line so that the fast path keeps fn and arg in
 * registers (a 16-byte reload of two 8-byte stores cannot be forwarded: it would wait for
 * every older store, including the slot and tail lines the loop may be reading). */
static __attribute__((noinline)) int submit_one(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    struct evl__task t = {fn, arg};
    return submit(loop, &t, 1, 0, 0);
}

/*
 * The gated lane's short path, entered from evl_loop_submit holding the lane lock of a locked
 * lane whose chunk has room at pos: with a bound and no rate, charge one slot, write it and
 * publish. Anything else (a rate, the bound reached, admission closed) unlocks and takes the
 * full path, which decides and counts. Out of line: the ungated fast path stays as it is.
 */
static EVL__NOINLINE int gated_push_locked(struct evl_loop *loop, struct evl__lane *l,
                                           evl_task_cb fn, void *arg, uint32_t pos)
{
    unsigned li = (unsigned)(l - loop->q.lanes);
    if (loop->ovl->has_rate ||
        atomic_load_explicit(&l->closed, memory_order_relaxed) != EVL__ADMIT_GATED ||
        evl__overload_charge(loop, li, 1, 0) != 0) {
        spin_unlock(&l->lock);
        return submit_one(loop, fn, arg);
    }
    struct evl__task *slot = &l->pchunk->tasks[pos & EVL__LANE_MASK];
    slot->fn = fn;
    slot->arg = arg;
    l->ptail = pos + 1;
    atomic_store_explicit(&l->tail, pos + 1, memory_order_release);
    int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
    spin_unlock(&l->lock);
    if (sleeping) {
        evl__loop_wake_now(loop);
    }
    return 0;
}

int evl_loop_submit(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        /* The fast paths: the calling thread owns its lane, or the lane is locked and its
         * lock free; and the chunk has room. Everything else (a chunk to start, taking or
         * revoking a bias, close) goes through submit(). */
        struct evl__lane *l = &loop->q.lanes[thread_lane()];
        uintptr_t me = evl__thread_id();
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
            atomic_store_explicit(&l->busy, 1, memory_order_relaxed);
            atomic_signal_fence(memory_order_seq_cst);
            uint32_t pos = 0;
            if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me &&
                !atomic_load_explicit(&l->closed, memory_order_relaxed)) {
                pos = l->ptail; /* read only while the lane is surely ours */
            }
            uint32_t idx = pos & EVL__LANE_MASK;
            if (idx != 0) {
                struct evl__task *slot = &l->pchunk->tasks[idx];
                slot->fn = fn; /* from registers: a copy through the stack would stall */
                slot->arg = arg;
                l->ptail = pos + 1;
                atomic_store_explicit(&l->tail, pos + 1, memory_order_release);
                atomic_signal_fence(memory_order_seq_cst);
                int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
                atomic_store_explicit(&l->busy, 0, memory_order_release);
                if (sleeping) {
                    evl__loop_wake_now(loop);
                }
                return 0;
            }
            atomic_store_explicit(&l->busy, 0, memory_order_release);
        } else if (atomic_exchange_explicit(&l->lock, 1, memory_order_acquire) == 0) {
            /* A locked lane (owner none or shared; only the lock holder can bias it). */
            uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
            uint32_t pos = 0;
            if (o == 0 || o == LANE_SHARED) {
                pos = l->ptail; /* only the lock holder writes it now */
            }
            uint32_t idx = pos & EVL__LANE_MASK;
            if (idx != 0 && !atomic_load_explicit(&l->closed, memory_order_relaxed)) {
                struct evl__task *slot = &l->pchunk->tasks[idx];
                slot->fn = fn;
                slot->arg = arg;
                l->ptail = pos + 1;
                atomic_store_explicit(&l->tail, pos + 1, memory_order_release);
                int sleeping = atomic_load_explicit(&loop->sleeping, memory_order_relaxed);
                spin_unlock(&l->lock);
                if (sleeping) {
                    evl__loop_wake_now(loop);
                }
                return 0;
            }
            if (idx != 0 && loop->ovl) {
                /* A gated lane: the bound's short path, still under the lock. */
                return gated_push_locked(loop, l, fn, arg, pos);
            }
            spin_unlock(&l->lock);
        }
    }
    return submit_one(loop, fn, arg);
}

/* Submission with every option: discard callback (may be NULL), internal, wait. */
static int submit_full(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg,
                       int internal, uint64_t wait_until)
{
    if (!discard) {
        struct evl__task t = {fn, arg};
        return submit(loop, &t, 1, internal, wait_until);
    }
    /* A function pointer travels in a data pointer slot: fine on every POSIX target. */
    struct evl__task t[2] = {{evl__task_ex_marker, (void *)(uintptr_t)discard}, {fn, arg}};
    return submit(loop, t, 2, internal, wait_until);
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
    /* The plain path first: the clock is read only if the queue is full. */
    int rc = discard ? submit_full(loop, fn, discard, arg, 0, 0) : evl_loop_submit(loop, fn, arg);
    if (rc != EVL_EAGAIN || timeout_ns == 0 || !loop->ovl || evl__loop_on_thread(loop) ||
        evl_loop_submit_retry_ns() != 0) {
        return rc; /* accepted, refused for another reason, or by a bucket (not waited for) */
    }
    uint64_t now = evl__monotonic_ns();
    uint64_t until = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    return submit_full(loop, fn, discard, arg, 0, until);
}

int evl__loop_submit_internal(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    return submit_full(loop, fn, discard, arg, 1, 0);
}

int evl__submitq_post_ctl(struct evl_loop *loop, struct evl__ctl *msg)
{
    struct evl__submitq *q = &loop->q;
    msg->next = NULL;
    spin_lock(&q->lock);
    if (q->closed) {
        spin_unlock(&q->lock);
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
    spin_unlock(&q->lock);
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
    spin_lock(&q->lock);
    struct evl__ctl *h = q->ctl_head;
    q->ctl_head = NULL;
    q->ctl_tail = NULL;
    atomic_store_explicit(&q->ctl_pending, 0, memory_order_relaxed);
    spin_unlock(&q->lock);
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
    /* When the work arrived, for the loop's adaptive spin (one clock read per wake-up
     * write, next to a system call). */
    atomic_store_explicit(&loop->wake_ns, evl__monotonic_ns(), memory_order_relaxed);
    atomic_store_explicit(&loop->wake_cpu, evl__current_cpu(), memory_order_relaxed);
    atomic_fetch_add_explicit(&loop->wake_writes, 1, memory_order_relaxed);
    evl__wakeup_signal(&loop->wakeup);
}

/* ---- the loop's side ------------------------------------------------------------------------ */

/* Steps the loop to the lane's next chunk (slot head starts it), setting the finished one
 * aside for the producers. Once per 256 tasks, without the lock: the slot's publication
 * (tail, acquire) happens after its chunk's entry and directory were stored. */
static void lane_advance(struct evl_loop *loop, struct evl__lane *l)
{
    struct evl__submitq *q = &loop->q;
    union evl__lane_chunk *done = l->cur;
    uint32_t k = atomic_load_explicit(&l->hk, memory_order_relaxed) + (done ? 1 : 0);
    /* The directory's publication (release, under the lane lock) happens before the slot's
     * (tail), which this thread read with acquire: the entry for chunk k is in it. */
    const struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_acquire);
    l->cur = d->c[k & d->mask];
    if (done) {
        /* Chunk k-1 is no longer read: producers may reuse its directory entry. */
        atomic_store_explicit(&l->hk, k, memory_order_release);
        done->next = q->spare;
        q->spare = done;
        if (!q->spare_tail) {
            q->spare_tail = done;
        }
    }
}

/* Hands the chunks finished by a run back to the producers, in one locked splice. */
static void splice_spare(struct evl__submitq *q)
{
    if (!q->spare) {
        return;
    }
    spin_lock(&q->lock);
    /* At the far end: the chunks the loop read longest ago are reused first (those it read
     * just now are still in its cache, and writing them would cost the producer a transfer
     * per line). */
    q->spare_tail->next = NULL;
    if (q->free_tail) {
        q->free_tail->next = q->spare;
    } else {
        q->free = q->spare;
    }
    q->free_tail = q->spare_tail;
    spin_unlock(&q->lock);
    q->spare = NULL;
    q->spare_tail = NULL;
}

/* Takes the published slot at head. */
static inline struct evl__task lane_take(struct evl_loop *loop, struct evl__lane *l)
{
    uint32_t idx = l->head & EVL__LANE_MASK;
    if (idx == 0) {
        lane_advance(loop, l);
    }
    l->head++;
    return l->cur->tasks[idx];
}

/* Takes the next task of a lane whose published tail is at least head + 1. */
static inline struct evl__task lane_pop(struct evl_loop *loop, struct evl__lane *l,
                                        evl_task_cb *discard)
{
    struct evl__task t = lane_take(loop, l);
    *discard = NULL;
    if (t.fn == evl__task_ex_marker) {
        /* Both slots were published together. */
        *discard = (evl_task_cb)(uintptr_t)t.arg;
        t = lane_take(loop, l);
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
static inline int local_pop(struct evl__submitq *q, struct evl__task *out, evl_task_cb *discard)
{
    struct evl__task_list *l = &q->local;
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

/* Nonzero if any used lane is biased (its owner pushes without the lock). */
static int any_biased(struct evl__submitq *q, uint32_t lanes)
{
    for (uint32_t i = 0; lanes != 0; i++, lanes >>= 1) {
        if ((lanes & 1) && lane_biased(&q->lanes[i])) {
            return 1;
        }
    }
    return 0;
}

int evl__submitq_pending_locked(struct evl_loop *loop)
{
    struct evl__submitq *q = &loop->q;
    if (evl__task_list_nonempty(&q->local)) {
        return 1;
    }
    uint32_t used = atomic_load_explicit(&q->used, memory_order_seq_cst);
    int fenced = used && any_biased(q, used);
    if (fenced) {
        /* Drop the bias of lanes idle since the last time (their producer stopped), then the
         * fence: every push is now visible, or its owner will see sleeping (and, later, that
         * the lane is no longer its own). */
        uint32_t revoked = 0;
        for (uint32_t i = 0, u = used; u != 0; i++, u >>= 1) {
            struct evl__lane *l = &q->lanes[i];
            if ((u & 1) && lane_biased(l) &&
                atomic_load_explicit(&l->tail, memory_order_relaxed) ==
                    atomic_load_explicit(&l->sleep_tail, memory_order_relaxed)) {
                /* Held until the old owner is out of its push: a locked producer must not
                 * write the lane meanwhile. */
                spin_lock(&l->lock);
                if (lane_biased(l)) {
                    atomic_store_explicit(&l->owner, 0, memory_order_seq_cst);
                    revoked |= 1u << i;
                } else {
                    spin_unlock(&l->lock); /* shared meanwhile by a second thread */
                }
            }
        }
        asym_fence();
        for (uint32_t i = 0; revoked != 0; i++, revoked >>= 1) {
            if (revoked & 1) {
                wait_not_busy(&q->lanes[i]);
                spin_unlock(&q->lanes[i].lock);
            }
        }
    }
    int r = 0;
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if (used & 1) {
            struct evl__lane *l = &q->lanes[i];
            uint32_t tail;
            if (fenced) {
                tail = atomic_load_explicit(&l->tail, memory_order_acquire);
            } else {
                spin_lock(&l->lock);
                tail = atomic_load_explicit(&l->tail, memory_order_relaxed);
                spin_unlock(&l->lock);
            }
            atomic_store_explicit(&l->sleep_tail, tail, memory_order_relaxed);
            r |= tail != l->head;
        }
    }
    if (r) {
        return 1;
    }
    spin_lock(&q->lock);
    r = q->ctl_head != NULL;
    spin_unlock(&q->lock);
    return r;
}

/* The state of one run of the tasks phase. */
struct run_state {
    struct evl__budget b; /* the batch bounds (unused when unbounded) */
    int unbounded;
};

/* Runs one task; returns nonzero when the phase must end (stop, close or a batch bound). */
static inline int run_one(struct evl_loop *loop, struct run_state *rs, evl_task_cb fn, void *arg)
{
    evl__loop_call(loop, fn, arg);
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
    uint32_t tail = evl__lane_tail(l);
    while (l->head != tail) {
        uint32_t budget = rs->unbounded ? UINT32_MAX : evl__budget_room(&rs->b);
        uint32_t k = 0;
        int stop = 0;
        uint32_t head0 = l->head;
        do {
            struct evl__task t = lane_take(loop, l);
            if (t.fn == evl__task_ex_marker) {
                t = lane_take(loop, l); /* published together with its marker */
            }
            k++;
            evl__loop_call(loop, t.fn, t.arg);
            evl__loop_after_callback(loop);
            stop = atomic_load_explicit(&loop->stop, memory_order_relaxed) ||
                   atomic_load_explicit(&loop->closing, memory_order_relaxed);
        } while (!stop && k < budget && l->head != tail);
        if (loop->ovl) {
            /* Space for producers kept out by the bound, once per stretch. */
            evl__overload_release(loop, (uint32_t)(l - loop->q.lanes), l->head - head0);
        }
        *ran += k;
        if (stop || (!rs->unbounded && evl__budget_spent(loop, &rs->b, k))) {
            return 1;
        }
    }
    return 0;
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
        struct evl__task t;
        evl_task_cb discard;
        while (local_pop(q, &t, &discard)) {
            ran++;
            if (run_one(loop, rs, t.fn, t.arg)) {
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
    uint32_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
    uint32_t head0 = l->head;
    uint64_t n = 0;
    l->seen = tail; /* never behind head */
    while (l->head != tail) {
        evl_task_cb discard;
        struct evl__task t = lane_pop(loop, l, &discard);
        n++;
        if (discard) {
            evl__loop_call(loop, discard, t.arg);
        }
    }
    if (loop->ovl) {
        evl__overload_release(loop, (uint32_t)(l - loop->q.lanes), l->head - head0);
    }
    return n;
}

static void lock_all(struct evl__submitq *q)
{
    spin_lock(&q->lock);
    for (unsigned i = 0; i < EVL__LANES; i++) {
        spin_lock(&q->lanes[i].lock);
    }
}

static void unlock_all(struct evl__submitq *q)
{
    for (unsigned i = EVL__LANES; i-- > 0;) {
        spin_unlock(&q->lanes[i].lock);
    }
    spin_unlock(&q->lock);
}

static int lanes_empty(struct evl__submitq *q)
{
    for (unsigned i = 0; i < EVL__LANES; i++) {
        struct evl__lane *l = &q->lanes[i];
        if (atomic_load_explicit(&l->tail, memory_order_acquire) != l->head) {
            return 0;
        }
    }
    return 1;
}

int evl__submitq_close(struct evl_loop *loop, int drop)
{
    struct evl__submitq *q = &loop->q;
    /* Every lane is closed under its lock (used or not: a producer may be taking its first
     * lane right now), so a locked producer either published before, or gets EVL_ECLOSED. */
    lock_all(q);
    if (!drop && !lanes_empty(q)) {
        unlock_all(q);
        return 1;
    }
    int biased = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        atomic_fetch_or_explicit(&q->lanes[i].closed, EVL__ADMIT_CLOSED, memory_order_relaxed);
        biased |= lane_biased(&q->lanes[i]);
    }
    if (drop || !biased) {
        q->closed = 1;
    }
    unlock_all(q);
    if (biased) {
        /* An owner that read closed == 0 is busy until it has published: wait it out. */
        asym_fence();
        for (unsigned i = 0; i < EVL__LANES; i++) {
            wait_not_busy(&q->lanes[i]);
        }
        if (!drop) {
            if (!lanes_empty(q)) {
                return 1; /* one slipped in before the fence: drain it, then close again */
            }
            spin_lock(&q->lock);
            q->closed = 1;
            spin_unlock(&q->lock);
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
    struct evl__task t;
    evl_task_cb discard;
    while (local_pop(q, &t, &discard)) {
        dropped++;
        if (discard) {
            evl__loop_call(loop, discard, t.arg);
        }
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
        spin_lock(&l->lock);
        atomic_fetch_or_explicit(&l->closed, EVL__ADMIT_EXTERNAL, memory_order_relaxed);
        biased |= lane_biased(l);
        spin_unlock(&l->lock);
    }
    if (biased) {
        /* An owner that read the old bits is busy until it has published: wait it out. */
        asym_fence();
        for (unsigned i = 0; i < EVL__LANES; i++) {
            wait_not_busy(&q->lanes[i]);
        }
    }
    if (loop->ovl) {
        evl__overload_wake_all(loop); /* producers waiting for space get EVL_ECLOSED */
    }
}

/*
 * Waking a sleeping loop (no lost wake-ups, at most one write per sleep):
 *   loop:     store wake_pending = 0, then sleeping = 1 (seq_cst); then
 *             evl__submitq_pending_locked: if a lane is biased, an asymmetric fence, then
 *             read every used lane's tail; otherwise take each used lane's lock in turn and
 *             check it; block only if all are empty.
 *   producer: append, publish, then read loop->sleeping (owner: after its stores; locked:
 *             inside the critical section); if it was set, the exchange of wake_pending
 *             0 -> 1 picks the one producer that writes the wake-up fd.
 * With the fence, a push either is visible to the loop's check or its read of sleeping comes
 * after the fence and sees 1. Under the lock, the lock orders the two critical sections.
 * A lane's first use sets its bit in q->used (seq_cst) and becoming a lane's owner is a
 * seq_cst store under the lane lock; both are followed by a seq_cst read of sleeping, so a
 * loop that checked before either is woken.
 *
 * The asymmetric fence (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every running thread of
 * the process passes a full barrier) is what lets a biased lane's owner push with plain
 * stores: the rare other side pays for the ordering instead.
 */
#include "core/loop_state.h"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* 1 once membarrier(PRIVATE_EXPEDITED) is registered for the process, -1 if unavailable. */
static _Atomic int asym_state;

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
    return evl__submit_fence_ready();
}

int evl__submit_fence_ready(void)
{
    return atomic_load_explicit(&asym_state, memory_order_acquire) == 1;
}

void evl__submit_fence(void)
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

/* Nonzero if any used lane is biased (its owner pushes without the lock). */
static int any_biased(struct evl__submitq *q, uint32_t lanes)
{
    for (uint32_t i = 0; lanes != 0; i++, lanes >>= 1) {
        if ((lanes & 1) && evl__submit_lane_biased(&q->lanes[i])) {
            return 1;
        }
    }
    return 0;
}

/* Drops the bias of lanes idle since the loop last slept (their producer stopped), then the
 * fence: every push is now visible, or its owner will see sleeping (and, later, that the lane
 * is no longer its own). */
static void fence_and_unbias_idle(struct evl__submitq *q, uint32_t used)
{
    uint32_t revoked = 0;
    for (uint32_t i = 0, u = used; u != 0; i++, u >>= 1) {
        struct evl__lane *l = &q->lanes[i];
        if ((u & 1) && evl__submit_lane_biased(l) &&
            atomic_load_explicit(&l->tail, memory_order_relaxed) ==
                atomic_load_explicit(&l->sleep_tail, memory_order_relaxed)) {
            /* Held until the old owner is out of its push: a locked producer must not write
             * the lane meanwhile. */
            evl__submit_lock(&l->lock);
            if (evl__submit_lane_biased(l)) {
                atomic_store_explicit(&l->owner, 0, memory_order_seq_cst);
                revoked |= 1u << i;
            } else {
                evl__submit_unlock(&l->lock); /* shared meanwhile by a second thread */
            }
        }
    }
    evl__submit_fence();
    for (uint32_t i = 0; revoked != 0; i++, revoked >>= 1) {
        if (revoked & 1) {
            evl__submit_wait_not_busy(&q->lanes[i]);
            evl__submit_unlock(&q->lanes[i].lock);
        }
    }
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
        fence_and_unbias_idle(q, used);
    }
    int r = 0;
    for (uint32_t i = 0; used != 0; i++, used >>= 1) {
        if (used & 1) {
            struct evl__lane *l = &q->lanes[i];
            uint32_t tail;
            if (fenced) {
                tail = atomic_load_explicit(&l->tail, memory_order_acquire);
            } else {
                evl__submit_lock(&l->lock);
                tail = atomic_load_explicit(&l->tail, memory_order_relaxed);
                evl__submit_unlock(&l->lock);
            }
            atomic_store_explicit(&l->sleep_tail, tail, memory_order_relaxed);
            r |= tail != evl__lanes_head(l);
        }
    }
    if (r) {
        return 1;
    }
    evl__submit_lock(&q->lock);
    r = q->ctl_head != NULL || q->note_head != NULL;
    evl__submit_unlock(&q->lock);
    return r;
}

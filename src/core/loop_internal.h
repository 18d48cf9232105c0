/*
 * The timer and submit-queue state that struct evl_loop (core/loop_state.h) embeds: task
 * storage, struct evl__timers and struct evl__submitq with their functions. Nothing here is
 * public API. Include core/loop_state.h, not this file.
 */
#ifndef EVL_CORE_LOOP_INTERNAL_H
#define EVL_CORE_LOOP_INTERNAL_H

#include "evl/alloc.h"
#include "evl/errno.h"
#include "evl/log.h"
#include "evl/loop.h"
#include "evl/overload.h"
#include "evl/task.h"
#include "evl/timer.h"

#include "base/compiler.h"
#include "base/ring.h"
#include "core/submit/submit.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------
 * Timers (src/core/timer.c). A record is 48 bytes; the heap holds 8-byte slots (a 32-bit
 * coarse deadline key and a record index); the id table holds 4-byte indices at a load factor
 * of at most 1/2: 64 bytes per pending timer with a full pool.
 */
struct evl__timer {
    uint64_t deadline; /* ns on the loop clock */
    uint64_t id;
    evl_timer_cb cb;
    void *arg;
    uint64_t meta; /* period ms (bits 0-42) | nesting (43-55) | flags (56-63) */
    uint32_t seq;  /* FIFO order among equal deadlines (wrap-around compare) */
    uint32_t pos;  /* heap index, next index (lane/immediate/free lists), or EVL__POS_RUNNING */
};

/* A run: timers armed in (deadline, seq) order, linked through `pos` from head to tail. Its
 * front is always a live timer; cancelled ones behind it are skipped when they reach the
 * front (lazy deletion). The front's (deadline, seq) is kept here so that ordering the runs
 * reads no record. */
#define EVL__TIMER_RUNS 128
struct evl__timer_run {
    uint64_t front_deadline;
    uint64_t tail_deadline; /* an arming timer compares with it: no read of the tail record */
    uint32_t front_seq;
    uint32_t head;
    uint32_t tail;
    uint32_t len;       /* records linked, cancelled ones included */
    uint32_t cancelled; /* cancelled records still linked */
    uint32_t hpos;      /* index in run_heap while non-empty */
};

/* A heap slot: the deadline's coarse key (see key_of in timer.c) next to the record index,
 * so a sift compares slots without touching records unless two keys are equal. */
struct evl__heap_slot {
    uint32_t key;
    uint32_t idx;
};

struct evl__timers {
    struct evl__timer *recs;
    uint32_t rec_cap;
    uint32_t rec_used;           /* records [0, rec_used) were handed out at least once */
    uint32_t free_head;          /* freed records, linked through pos; EVL__NONE when empty */
    struct evl__heap_slot *heap; /* rec_cap slots, HEAP_PAD spare ones before (timer.c) */
    uint32_t heap_shift;         /* heap - heap_shift is the allocation */
    uint32_t heap_len;
    uint64_t id_next; /* the loop thread's block of ids: [id_next, id_end) */
    uint64_t id_end;
    uint64_t key_base; /* loop-clock ns that heap key 0 stands for */
    uint64_t now_hint; /* the latest clock read on the loop thread (a base for keys) */
    uint32_t *table;   /* id & table_mask -> record index + 1; 0 = empty slot */
    uint32_t table_mask;
    uint32_t *ovf; /* ids that collided in `table`: open addressing, same values */
    uint32_t ovf_mask;
    uint32_t ovf_shift; /* 64 - log2(overflow size): the hash keeps the product's top bits */
    uint32_t ovf_count;
    /* Runs: sorted lists of timers (see "runs" in timer.c), and a binary heap of the
     * non-empty ones ordered by their fronts. */
    struct evl__timer_run runs[EVL__TIMER_RUNS];
    uint8_t run_heap[EVL__TIMER_RUNS];
    uint32_t run_heap_len;
    uint32_t imm_head; /* immediates, FIFO through pos */
    uint32_t imm_tail;
    uint32_t imm_count; /* pending (not cancelled) immediates, ref'd or not */
    uint32_t live;      /* pending timers and intervals (not cleared or fired) */
    uint32_t seq;
    uint32_t ref_count;   /* pending ref'd timers and immediates */
    uint32_t nesting;     /* HTML nesting of the running timer callback; 0 outside */
    uint64_t *tombstones; /* ids cleared on the loop before their foreign set arrived */
    uint32_t tomb_len;
    uint32_t tomb_cap;
    _Atomic uint32_t foreign_sets; /* cross-thread sets queued, not yet processed */
};

int evl__timers_init(struct evl_loop *loop);
void evl__timers_deinit(struct evl_loop *loop);
/* Nonzero if timers (not immediates) are pending. */
static inline int evl__timers_any(const struct evl__timers *T)
{
    return T->heap_len != 0 || T->run_heap_len != 0;
}
/* Timer phase: runs every timer due at loop->now. */
void evl__timers_run(struct evl_loop *loop);
/* Check phase: runs the immediates queued before the phase began. */
void evl__immediates_run(struct evl_loop *loop);
/* Cancels every pending timer and immediate (teardown). */
void evl__timers_cancel_all(struct evl_loop *loop);
/* Nanoseconds until the next timer deadline (0 if due), or -1 without timers. */
int64_t evl__timers_timeout(struct evl_loop *loop, uint64_t now);

/* Applies queued cross-thread timer operations (timer.c); drop: free them unapplied. */
void evl__timers_apply_ctl(struct evl_loop *loop, int drop);

#endif

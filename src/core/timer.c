/*
 * Timers and immediates.
 *
 * Kept in one file because the id table, record pool, heap and runs are reached through one
 * policy; their split into containers belongs to the architecture restructuring.
 *
 * Storage: records live in one pooled array (48 bytes each, free list through `pos`). Most
 * timers sit in runs, sorted lists per period with O(1) arming and firing (see "runs"); the
 * others in an 8-ary min-heap of 8-byte slots {key, record index} ordered by (deadline, seq):
 * the key is the deadline coarsened to a 32-bit count of ~1 us units past a base, so a sift
 * compares slots in the heap array alone and reads two records only when their keys are equal
 * (libev keeps its deadlines in the heap array for the same reason). A direct-mapped table of
 * 4-byte indices (id & mask, twice the pool's size), backed by a small overflow hash for the rare
 * colliding ids, maps ids to records (see "id table"). The arrays grow together when the pool
 * grows, so re-arming and firing a timer never fail: no allocation per timer in steady
 * state, 64 bytes per pending timer with a full pool (and up to 56 per loop, see HEAP_PAD).
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
#include "core/loop_internal.h"
#include "core/overload/overload.h"

#include <string.h>

#define EVL__NONE        UINT32_MAX
#define EVL__POS_RUNNING (UINT32_MAX - 1)

#define META_PERIOD_MASK ((UINT64_C(1) << 43) - 1)
#define META_NEST_SHIFT  43
#define META_NEST_MAX    8191u
#define META_FLAGS_MASK  (UINT64_C(0xFF) << 56)
#define F_REF            (UINT64_C(1) << 56)
#define F_INTERVAL       (UINT64_C(1) << 57)
#define F_IMMEDIATE      (UINT64_C(1) << 58)
#define F_CANCELLED      (UINT64_C(1) << 59)
#define F_RUN            (UINT64_C(1) << 60)

#define NS_PER_MS UINT64_C(1000000)

/* The heap is 8-ary and its array is placed so that every group of siblings fills exactly one
 * 64-byte cache line (8 slots of 8 bytes): a sift touches one line per level, over fewer levels
 * than a 4-ary heap. HEAP_PAD spare slots let the array start at the right offset. */
#define HEAP_D   8
#define HEAP_PAD (HEAP_D - 1)

/* The heap's allocation (the array starts heap_shift slots into it), or NULL. */
static inline struct evl__heap_slot *heap_block(const struct evl__timers *T)
{
    return T->heap ? T->heap - T->heap_shift : NULL;
}

/* Heap keys count 1.024 us units past key_base: 32 bits span 73 minutes. A later deadline
 * saturates (still correct: equal keys fall back to the records), and the timer phase moves
 * the base forward once the clock is half the span past it, so keys keep their resolution. */
#define KEY_SHIFT  10
#define KEY_REBASE (UINT64_C(1) << (KEY_SHIFT + 31))

static inline uint64_t meta_period(uint64_t m)
{
    return m & META_PERIOD_MASK;
}

static inline uint32_t meta_nesting(uint64_t m)
{
    return (uint32_t)((m >> META_NEST_SHIFT) & META_NEST_MAX);
}

static inline uint64_t meta_make(uint64_t period, uint32_t nesting, uint64_t flags)
{
    if (nesting > META_NEST_MAX) {
        nesting = META_NEST_MAX;
    }
    return (period & META_PERIOD_MASK) | ((uint64_t)nesting << META_NEST_SHIFT) | flags;
}

static inline uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

int evl__timers_init(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    memset(T, 0, sizeof(*T));
    T->free_head = EVL__NONE;
    T->imm_head = EVL__NONE;
    T->imm_tail = EVL__NONE;
    for (uint32_t i = 0; i < EVL__TIMER_RUNS; i++) {
        T->runs[i].head = EVL__NONE;
        T->runs[i].tail = EVL__NONE;
    }
    atomic_init(&T->foreign_sets, 0);
    return 0;
}

void evl__timers_deinit(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    evl__loop_free(loop, T->recs);
    evl__loop_free(loop, heap_block(T));
    evl__loop_free(loop, T->table);
    evl__loop_free(loop, T->ovf);
    evl__loop_free(loop, T->tombstones);
    T->recs = NULL;
    T->heap = NULL;
    T->table = NULL;
    T->ovf = NULL;
    T->tombstones = NULL;
}

void evl__timers_cancel_all(struct evl_loop *loop)
{
    uint32_t foreign = atomic_load(&loop->timers.foreign_sets);
    evl__timers_deinit(loop);
    evl__timers_init(loop);
    atomic_store(&loop->timers.foreign_sets, foreign);
}

/* ---- id table --------------------------------------------------------------------------
 * Two levels. The primary table is direct-mapped: id & mask, with twice as many slots as the
 * pool has records. Ids are issued in sequence, so the timers armed together (and usually
 * fired or cleared together) sit in adjacent slots, 16 to a cache line: a burst of a million
 * sets, fires or clears walks the table sequentially instead of missing the cache once per
 * timer. Two live ids share a slot only when one outlived a table's worth of newer ids; the
 * older then moves to the overflow table, an open-addressing hash (Fibonacci hashing, linear
 * probing, backward-shift deletion, load <= 1/2) that stays empty in most programs and is
 * looked at only when it is not. (Putting sequential ids straight into one linear-probing
 * table with a locality-keeping hash was measured and rejected: adjacent homes merge into
 * long clusters.)
 */

static inline uint32_t ovf_home(const struct evl__timers *T, uint64_t id)
{
    return (uint32_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> T->ovf_shift);
}

/* The overflow slot holding id (its record in *idx), or EVL__NONE. */
static uint32_t ovf_slot(const struct evl__timers *T, uint64_t id, uint32_t *idx)
{
    uint32_t mask = T->ovf_mask;
    for (uint32_t i = ovf_home(T, id);; i = (i + 1) & mask) {
        uint32_t v = T->ovf[i];
        if (v == 0) {
            return EVL__NONE;
        }
        if (T->recs[v - 1].id == id) {
            *idx = v - 1;
            return i;
        }
    }
}

/* Inserts into the overflow table, which has room (ovf_reserve). */
static void ovf_insert(struct evl__timers *T, uint32_t idx)
{
    uint32_t mask = T->ovf_mask;
    uint32_t i = ovf_home(T, T->recs[idx].id);
    while (T->ovf[i] != 0) {
        i = (i + 1) & mask;
    }
    T->ovf[i] = idx + 1;
    T->ovf_count++;
}

/* Empties overflow slot i. Backward-shift deletion keeps probe chains intact without
 * tombstones. */
static void ovf_del_at(struct evl__timers *T, uint32_t i)
{
    uint32_t mask = T->ovf_mask;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = T->ovf[j];
        if (v == 0) {
            break;
        }
        uint32_t home = ovf_home(T, T->recs[v - 1].id);
        /* Move v into the hole at i if its home is not in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            T->ovf[i] = v;
            i = j;
        }
    }
    T->ovf[i] = 0;
    T->ovf_count--;
}

/* Makes room in the overflow table for `more` entries (load <= 1/2). Out of line: it runs
 * only when ids collide in the primary table. */
EVL__NOINLINE static int ovf_reserve(struct evl_loop *loop, uint32_t more)
{
    struct evl__timers *T = &loop->timers;
    uint32_t size = T->ovf ? T->ovf_mask + 1 : 0;
    if ((uint64_t)(T->ovf_count + more) * 2 <= size) {
        return 0;
    }
    uint32_t nsize = size ? size : 16;
    while ((uint64_t)(T->ovf_count + more) * 2 > nsize) {
        if (nsize > UINT32_MAX / 2) {
            return EVL_ENOMEM;
        }
        nsize *= 2;
    }
    uint32_t *nt = evl__loop_malloc(loop, (size_t)nsize * sizeof(*nt));
    if (!nt) {
        return EVL_ENOMEM;
    }
    memset(nt, 0, (size_t)nsize * sizeof(*nt));
    uint32_t *old = T->ovf;
    uint32_t log2 = 0;
    while ((UINT32_C(1) << log2) < nsize) {
        log2++;
    }
    T->ovf = nt;
    T->ovf_mask = nsize - 1;
    T->ovf_shift = 64 - log2;
    T->ovf_count = 0;
    for (uint32_t i = 0; i < size; i++) {
        if (old[i]) {
            ovf_insert(T, old[i] - 1);
        }
    }
    evl__loop_free(loop, old);
    return 0;
}

/* The record of id, or EVL__NONE. *ovf_at gets the overflow slot holding it, or EVL__NONE
 * when it sits in the primary table (or is not recorded). */
static inline uint32_t table_locate(const struct evl__timers *T, uint64_t id, uint32_t *ovf_at)
{
    *ovf_at = EVL__NONE;
    if (!T->table) {
        return EVL__NONE;
    }
    uint32_t v = T->table[id & T->table_mask];
    if (v != 0 && T->recs[v - 1].id == id) {
        return v - 1;
    }
    uint32_t idx = EVL__NONE;
    if (T->ovf_count != 0) {
        *ovf_at = ovf_slot(T, id, &idx);
    }
    return idx;
}

static inline uint32_t table_find(const struct evl__timers *T, uint64_t id)
{
    uint32_t ovf_at;
    return table_locate(T, id, &ovf_at);
}

/* Removes record idx, which table_locate found (at ovf_at), and drops its ref. */
static inline void table_unlink(struct evl__timers *T, uint32_t idx, uint32_t ovf_at)
{
    if (ovf_at == EVL__NONE) {
        T->table[T->recs[idx].id & T->table_mask] = 0;
    } else {
        ovf_del_at(T, ovf_at);
    }
    if (T->recs[idx].meta & F_REF) {
        T->ref_count--;
    }
}

/* Forgets record idx (the caller knows it is recorded) and drops its ref. */
static inline void table_del(struct evl__timers *T, uint32_t idx)
{
    uint32_t ovf_at;
    (void)table_locate(T, T->recs[idx].id, &ovf_at);
    table_unlink(T, idx, ovf_at);
}

/* Finds id and removes it; returns its record or EVL__NONE. */
static inline uint32_t table_take(struct evl__timers *T, uint64_t id)
{
    uint32_t ovf_at;
    uint32_t idx = table_locate(T, id, &ovf_at);
    if (idx != EVL__NONE) {
        table_unlink(T, idx, ovf_at);
    }
    return idx;
}

/* Places record idx in the primary table, moving a colliding older id to the overflow
 * table (which has room: see table_put). */
static inline void table_place(struct evl__timers *T, uint32_t idx)
{
    uint32_t *slot = &T->table[T->recs[idx].id & T->table_mask];
    if (*slot != 0) {
        ovf_insert(T, *slot - 1);
    }
    *slot = idx + 1;
}

/* Records idx under its id and counts its ref. Fails (EVL_ENOMEM, nothing changed) only
 * when a collision needs a larger overflow table. */
static inline int table_put(struct evl_loop *loop, uint32_t idx)
{
    struct evl__timers *T = &loop->timers;
    if (T->table[T->recs[idx].id & T->table_mask] != 0 && ovf_reserve(loop, 1) != 0) {
        return EVL_ENOMEM;
    }
    table_place(T, idx);
    if (T->recs[idx].meta & F_REF) {
        T->ref_count++;
    }
    return 0;
}

/* ---- record pool ----------------------------------------------------------------------- */

/* Points T->heap into mem, a (re)allocation of the heap with HEAP_PAD spare slots, so that
 * slot 1 (the root's first child, and so the start of every sibling group) begins a cache
 * line. A reallocation keeps the slots at the old offset: they move if the offset changed. */
static void heap_place(struct evl__timers *T, struct evl__heap_slot *mem)
{
    uint32_t misalign = (uint32_t)((uintptr_t)(mem + 1) % EVL__CACHELINE);
    uint32_t shift = (uint32_t)((EVL__CACHELINE - misalign) % EVL__CACHELINE / sizeof(*mem));
    if (shift != T->heap_shift) { /* heap_len is 0 on the first allocation */
        memmove(mem + shift, mem + T->heap_shift, (size_t)T->heap_len * sizeof(*mem));
    }
    T->heap = mem + shift;
    T->heap_shift = shift;
}

/* Out of line: the arming paths stay short, and growth is rare (the pool only doubles). */
EVL__NOINLINE static int pool_grow(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint32_t cap = T->rec_cap ? T->rec_cap * 2 : 16;
    if (cap > (UINT32_MAX - 3) / 2) {
        return EVL_ENOMEM;
    }
    /* Each array is replaced only once its larger copy exists, so a failure part-way
     * leaves the timers as they were (an array merely larger than needed). */
    struct evl__timer *recs = evl__loop_realloc(loop, T->recs, (size_t)cap * sizeof(*recs));
    if (!recs) {
        return EVL_ENOMEM;
    }
    T->recs = recs;
    struct evl__heap_slot *mem =
        evl__loop_realloc(loop, heap_block(T), ((size_t)cap + HEAP_PAD) * sizeof(*mem));
    if (!mem) {
        return EVL_ENOMEM;
    }
    heap_place(T, mem);
    /* The primary table doubles too. Ids that share a slot of the new table shared one of
     * the old (a = b mod 2S implies a = b mod S), so the entries the new table cannot hold
     * are at most as many as the overflow table holds now: it has room for them. */
    uint32_t tsize = cap * 2;
    uint32_t *table = evl__loop_malloc(loop, (size_t)tsize * sizeof(*table));
    if (!table) {
        return EVL_ENOMEM;
    }
    memset(table, 0, (size_t)tsize * sizeof(*table));
    uint32_t *nov = NULL;
    uint32_t ov_size = T->ovf ? T->ovf_mask + 1 : 0;
    if (ov_size) {
        nov = evl__loop_malloc(loop, (size_t)ov_size * sizeof(*nov));
        if (!nov) {
            evl__loop_free(loop, table);
            return EVL_ENOMEM;
        }
        memset(nov, 0, (size_t)ov_size * sizeof(*nov));
    }
    uint32_t *old = T->table;
    uint32_t old_size = old ? T->table_mask + 1 : 0;
    uint32_t *old_ov = T->ovf;
    T->table = table;
    T->table_mask = tsize - 1;
    T->ovf = nov;
    T->ovf_count = 0;
    for (uint32_t i = 0; i < old_size; i++) {
        if (old[i]) {
            table_place(T, old[i] - 1);
        }
    }
    for (uint32_t i = 0; i < ov_size; i++) {
        if (old_ov[i]) {
            table_place(T, old_ov[i] - 1);
        }
    }
    evl__loop_free(loop, old);
    evl__loop_free(loop, old_ov);
    T->rec_cap = cap; /* records from rec_used on were never handed out: no list to build */
    return 0;
}

/* A recycled record if any (the most recently freed, still warm in the cache), else the
 * first never-used one, growing the pool when all are in use. */
static inline uint32_t rec_alloc(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint32_t idx = T->free_head;
    if (idx != EVL__NONE) {
        T->free_head = T->recs[idx].pos;
        /* The next record handed out is known now: start fetching it, so a burst of sets
         * overlaps each record's cache miss with the previous set's work. */
        if (T->free_head != EVL__NONE) {
            EVL__PREFETCH_W(&T->recs[T->free_head]);
        }
        return idx;
    }
    if (T->rec_used == T->rec_cap && pool_grow(loop) != 0) {
        return EVL__NONE;
    }
    return T->rec_used++;
}

static void rec_free(struct evl__timers *T, uint32_t idx)
{
    T->recs[idx].cb = NULL;
    T->recs[idx].arg = NULL;
    T->recs[idx].pos = T->free_head;
    T->free_head = idx;
}

/* ---- 8-ary heap ------------------------------------------------------------------------ */

static inline int before(const struct evl__timer *a, const struct evl__timer *b)
{
    if (a->deadline != b->deadline) {
        return a->deadline < b->deadline;
    }
    return (int32_t)(a->seq - b->seq) < 0;
}

/* The deadline's heap key: monotonic in the deadline (0 below the base, saturating above
 * the span), so a smaller key always means an earlier deadline. */
static inline uint32_t key_of(const struct evl__timers *T, uint64_t deadline)
{
    if (deadline <= T->key_base) {
        return 0;
    }
    uint64_t k = (deadline - T->key_base) >> KEY_SHIFT;
    return k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
}

static inline int slot_before(const struct evl__timers *T, struct evl__heap_slot a,
                              struct evl__heap_slot b)
{
    if (a.key != b.key) {
        return a.key < b.key;
    }
    return before(&T->recs[a.idx], &T->recs[b.idx]);
}

static void sift_up(struct evl__timers *T, uint32_t i, struct evl__heap_slot e)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / HEAP_D;
        struct evl__heap_slot p = T->heap[parent];
        if (!slot_before(T, e, p)) {
            break;
        }
        T->heap[i] = p;
        T->recs[p.idx].pos = i;
        i = parent;
    }
    T->heap[i] = e;
    T->recs[e.idx].pos = i;
}

/* The earliest of the sibling slots [c, end). */
static inline uint32_t min_child(const struct evl__timers *T, uint32_t c, uint32_t end)
{
    uint32_t best = c;
    for (uint32_t k = c + 1; k < end; k++) {
        if (slot_before(T, T->heap[k], T->heap[best])) {
            best = k;
        }
    }
    return best;
}

/* Fills the hole at i with e, a slot that belongs low in the heap (the last one): the hole
 * first moves down along the earliest children to a leaf, then e moves up from there
 * (Floyd's variant), which spares comparing e at every level on the way down.
 *
 * Before comparing the children of i, it starts fetching their own sibling groups: eight
 * adjacent lines, one per child, so whichever child wins, the next level's line is already
 * on its way instead of a cache miss waiting for this level's comparisons. The lines past
 * the heap's end are fetched too (harmless: a prefetch never faults, and the addresses are
 * integers, not pointers past the array). Written in place: GCC 12 drops the same loop from
 * a small inline helper as dead code. */
static void sift_down(struct evl__timers *T, uint32_t i, struct evl__heap_slot e)
{
    uint32_t n = T->heap_len;
    while ((uint64_t)i * HEAP_D + 1 < n) {
        uint32_t c = i * HEAP_D + 1;
        if ((uint64_t)c * HEAP_D + 1 < n) {
            uintptr_t below = (uintptr_t)&T->heap[c * HEAP_D + 1];
            for (uint32_t k = 0; k < HEAP_D; k++) {
                EVL__PREFETCH_R((const void *)(below + (uintptr_t)EVL__CACHELINE * k));
            }
        }
        uint32_t best = min_child(T, c, n - c > HEAP_D ? c + HEAP_D : n);
        T->heap[i] = T->heap[best];
        T->recs[T->heap[i].idx].pos = i;
        i = best;
    }
    sift_up(T, i, e);
}

static void heap_push(struct evl__timers *T, uint32_t idx)
{
    if (T->heap_len == 0) {
        T->key_base = T->now_hint; /* a fresh base: keys start with full resolution */
    }
    struct evl__heap_slot e = {key_of(T, T->recs[idx].deadline), idx};
    sift_up(T, T->heap_len++, e);
}

/* Inline: most removals are of a leaf (seven slots in eight are leaves) that the last slot
 * simply replaces, which needs neither sift. */
static inline void heap_remove(struct evl__timers *T, uint32_t pos)
{
    uint32_t last = --T->heap_len;
    if (pos == last) {
        return;
    }
    struct evl__heap_slot e = T->heap[last];
    if (pos > 0 && slot_before(T, e, T->heap[(pos - 1) / HEAP_D])) {
        sift_up(T, pos, e);
    } else if ((uint64_t)pos * HEAP_D + 1 < last) {
        sift_down(T, pos, e);
    } else {
        T->heap[pos] = e;
        T->recs[e.idx].pos = pos;
    }
}

/* Moves the key base to `now` and recomputes every key (O(n), once per half key span of
 * loop time): the new keys are the same monotonic function of the deadlines, so the heap
 * order holds without any sift. */
static void heap_rebase(struct evl__timers *T, uint64_t now)
{
    T->key_base = now;
    for (uint32_t i = 0; i < T->heap_len; i++) {
        T->heap[i].key = key_of(T, T->recs[T->heap[i].idx].deadline);
    }
}

/* Whether a record found by id sits in the heap. Such a record is an immediate, a run member,
 * a running interval (pos EVL__POS_RUNNING) or a heap entry: deciding from the record alone
 * spares a cache miss on a random heap slot per clear. */
static inline int in_heap(const struct evl__timers *T, uint32_t idx)
{
    const struct evl__timer *r = &T->recs[idx];
    return !(r->meta & (F_IMMEDIATE | F_RUN)) && r->pos != EVL__POS_RUNNING;
}

/* ---- runs ------------------------------------------------------------------------------
 * Most timers are armed in deadline order within their delay: with a monotonic clock, each
 * setTimeout(f, 10) is due after the one before it. Such a timer is appended in O(1) to the
 * run of its period (periods below EVL__TIMER_RUNS ms have a run each, longer ones share runs
 * by hash) instead of entering the heap, and firing it is an O(1) pop plus a sift in the
 * small heap of runs, which orders them by their fronts. A timer that would not sort last in
 * its run (a clock that did not advance between two different periods sharing a run, or a
 * refresh) goes to the heap. This is the shape of Node's per-duration timer lists, kept in
 * the pooled records. A cleared run member is only marked (lazy deletion) unless it is the
 * front; a run is compacted when more than half of it is cancelled, so memory stays bounded.
 */

#define RUN_HASH_SHIFT 57 /* 64 - log2(EVL__TIMER_RUNS) */
_Static_assert(EVL__TIMER_RUNS == 128, "RUN_HASH_SHIFT and the uint8_t run_heap assume 128 runs");

static inline uint32_t run_of(uint64_t period)
{
    if (period < EVL__TIMER_RUNS) {
        return (uint32_t)period;
    }
    return (uint32_t)((period * UINT64_C(0x9E3779B97F4A7C15)) >> RUN_HASH_SHIFT);
}

static inline uint32_t run_of_rec(const struct evl__timers *T, uint32_t idx)
{
    return run_of(meta_period(T->recs[idx].meta));
}

static inline int run_before(const struct evl__timers *T, uint32_t a, uint32_t b)
{
    const struct evl__timer_run *x = &T->runs[a];
    const struct evl__timer_run *y = &T->runs[b];
    if (x->front_deadline != y->front_deadline) {
        return x->front_deadline < y->front_deadline;
    }
    return (int32_t)(x->front_seq - y->front_seq) < 0;
}

static void run_heap_up(struct evl__timers *T, uint32_t i)
{
    uint8_t ri = T->run_heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        uint8_t p = T->run_heap[parent];
        if (!run_before(T, ri, p)) {
            break;
        }
        T->run_heap[i] = p;
        T->runs[p].hpos = i;
        i = parent;
    }
    T->run_heap[i] = ri;
    T->runs[ri].hpos = i;
}

static void run_heap_down(struct evl__timers *T, uint32_t i)
{
    uint8_t ri = T->run_heap[i];
    uint32_t n = T->run_heap_len;
    for (;;) {
        uint32_t c = i * 2 + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && run_before(T, T->run_heap[c + 1], T->run_heap[c])) {
            c++;
        }
        if (!run_before(T, T->run_heap[c], ri)) {
            break;
        }
        T->run_heap[i] = T->run_heap[c];
        T->runs[T->run_heap[i]].hpos = i;
        i = c;
    }
    T->run_heap[i] = ri;
    T->runs[ri].hpos = i;
}

static void run_heap_remove(struct evl__timers *T, uint32_t i)
{
    uint32_t last = --T->run_heap_len;
    if (i != last) {
        T->run_heap[i] = T->run_heap[last];
        T->runs[T->run_heap[i]].hpos = i;
        run_heap_down(T, i);
        run_heap_up(T, i);
    }
}

static inline void run_note_front(struct evl__timers *T, struct evl__timer_run *run)
{
    const struct evl__timer *r = &T->recs[run->head];
    run->front_deadline = r->deadline;
    run->front_seq = r->seq;
    /* Many runs take turns in the timer phase, so a front usually waits a while before it
     * fires: fetch what firing it will touch (its id's table slot) and the record that will
     * follow it, so neither is a cache miss by then. */
    EVL__PREFETCH_W(&T->table[r->id & T->table_mask]);
    if (r->pos != EVL__NONE) {
        EVL__PREFETCH_W(&T->recs[r->pos]);
    }
}

/* Links idx at the end of run ri; a run that was empty joins the heap of runs. */
static void run_append(struct evl__timers *T, uint32_t ri, uint32_t idx)
{
    struct evl__timer_run *run = &T->runs[ri];
    T->recs[idx].pos = EVL__NONE;
    T->recs[idx].meta |= F_RUN;
    run->len++;
    run->tail_deadline = T->recs[idx].deadline;
    if (run->tail == EVL__NONE) {
        run->head = idx;
        run->tail = idx;
        run_note_front(T, run);
        T->run_heap[T->run_heap_len] = (uint8_t)ri;
        run_heap_up(T, T->run_heap_len++);
        return;
    }
    T->recs[run->tail].pos = idx;
    run->tail = idx;
}

/* After the front of run ri was unlinked: frees the cancelled records that now lead it, then
 * re-sorts the run (its front only ever moves later) or drops it from the heap of runs. */
static void run_settle(struct evl__timers *T, uint32_t ri)
{
    struct evl__timer_run *run = &T->runs[ri];
    while (run->head != EVL__NONE && (T->recs[run->head].meta & F_CANCELLED)) {
        uint32_t c = run->head;
        run->head = T->recs[c].pos;
        run->len--;
        run->cancelled--;
        T->recs[c].meta &= ~F_RUN;
        rec_free(T, c);
    }
    if (run->head == EVL__NONE) {
        run->tail = EVL__NONE;
        run_heap_remove(T, run->hpos);
        return;
    }
    run_note_front(T, run);
    run_heap_down(T, run->hpos);
}

/* Unlinks the front of run ri (a live record, which the caller owns from now on). */
static void run_pop_front(struct evl__timers *T, uint32_t ri)
{
    struct evl__timer_run *run = &T->runs[ri];
    uint32_t idx = run->head;
    run->head = T->recs[idx].pos;
    run->len--;
    T->recs[idx].meta &= ~F_RUN;
    run_settle(T, ri);
}

/* Unlinks every cancelled record of run ri (freeing them) and also `drop`, a live one, in
 * one pass. */
static void run_compact(struct evl__timers *T, uint32_t ri, uint32_t drop)
{
    struct evl__timer_run *run = &T->runs[ri];
    uint32_t idx = run->head;
    run->head = EVL__NONE;
    run->tail = EVL__NONE;
    run->len = 0;
    run->cancelled = 0;
    while (idx != EVL__NONE) {
        uint32_t next = T->recs[idx].pos;
        if (T->recs[idx].meta & F_CANCELLED) {
            T->recs[idx].meta &= ~F_RUN;
            rec_free(T, idx);
        } else if (idx == drop) {
            T->recs[idx].meta &= ~F_RUN;
        } else {
            if (run->tail == EVL__NONE) {
                run->head = idx;
            } else {
                T->recs[run->tail].pos = idx;
            }
            T->recs[idx].pos = EVL__NONE;
            run->tail = idx;
            run->tail_deadline = T->recs[idx].deadline;
            run->len++;
        }
        idx = next;
    }
    if (run->head == EVL__NONE) {
        run_heap_remove(T, run->hpos);
        return;
    }
    run_note_front(T, run);
    run_heap_down(T, run->hpos);
}

/* Takes idx, a pending run member, out of its run: at once if it is the front, else by
 * marking it (the record is freed when it reaches the front or at compaction). */
static void run_cancel(struct evl__timers *T, uint32_t idx)
{
    uint32_t ri = run_of_rec(T, idx);
    struct evl__timer_run *run = &T->runs[ri];
    if (run->head == idx) {
        run_pop_front(T, ri);
        rec_free(T, idx);
        return;
    }
    T->recs[idx].meta |= F_CANCELLED;
    run->cancelled++;
    if (run->cancelled > 64 && run->cancelled * 2 > run->len) {
        run_compact(T, ri, EVL__NONE);
    }
}

/* Arms a record whose deadline and seq are set: its run if it sorts last there, else the
 * heap. Its seq is the newest issued, so it sorts after the run's tail unless its deadline
 * is earlier. */
static inline void timer_insert(struct evl__timers *T, uint32_t idx)
{
    uint32_t ri = run_of_rec(T, idx);
    const struct evl__timer_run *run = &T->runs[ri];
    if (run->tail == EVL__NONE || T->recs[idx].deadline >= run->tail_deadline) {
        run_append(T, ri, idx);
    } else {
        heap_push(T, idx);
    }
}

/* ---- scheduling ------------------------------------------------------------------------ */

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
static int clamp_delay(const struct evl_loop *loop, uint64_t *ms)
{
    if (loop->clamp == EVL_TIMER_CLAMP_NODE) {
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

/* Arms a new timer record on the loop thread. */
static EVL__ALWAYS_INLINE int arm_new(struct evl_loop *loop, uint64_t id, evl_timer_cb cb,
                                      void *arg, uint64_t deadline, uint64_t period, uint64_t flags,
                                      uint32_t nesting)
{
    struct evl__timers *T = &loop->timers;
    if (flags & F_IMMEDIATE) {
        uint32_t lim = loop->budgets.limit[EVL__LIMIT_IMMEDIATES];
        if (lim && T->imm_count >= lim) {
            return evl__loop_limit_hit(loop, EVL__LIMIT_IMMEDIATES);
        }
    } else {
        uint32_t lim = loop->budgets.limit[EVL__LIMIT_TIMERS];
        if (lim && T->live >= lim) {
            return evl__loop_limit_hit(loop, EVL__LIMIT_TIMERS);
        }
    }
    uint32_t idx = rec_alloc(loop);
    if (idx == EVL__NONE) {
        return EVL_ENOMEM;
    }
    struct evl__timer *r = &T->recs[idx];
    r->id = id;
    r->meta = meta_make(period, nesting, flags | F_REF);
    if (table_put(loop, idx) != 0) {
        rec_free(T, idx);
        return EVL_ENOMEM;
    }
    r->cb = cb;
    r->arg = arg;
    r->deadline = deadline;
    r->seq = T->seq++;
    if (flags & F_IMMEDIATE) {
        r->pos = EVL__NONE;
        if (T->imm_tail == EVL__NONE) {
            T->imm_head = idx;
        } else {
            T->recs[T->imm_tail].pos = idx;
        }
        T->imm_tail = idx;
        T->imm_count++;
    } else {
        T->live++;
        timer_insert(T, idx);
    }
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

static int clear_local(struct evl_loop *loop, uint64_t id);

static void msg_apply(struct evl_loop *loop, struct timer_msg *m)
{
    struct evl__timers *T = &loop->timers;
    if (m->clear) {
        (void)clear_local(loop, m->id);
    } else {
        if (!tomb_take(T, m->id)) {
            int rc = arm_new(loop, m->id, m->cb, m->arg, m->deadline, m->period, m->flags, 1);
            if (rc == EVL_ELIMIT) {
                evl_log(loop, EVL_LOG_WARN, "timer",
                        "cross-thread timer %llu dropped: a sandbox limit was reached",
                        (unsigned long long)m->id);
            } else if (rc != 0) {
                evl_log(loop, EVL_LOG_ERROR, "timer",
                        "cross-thread timer %llu dropped: out of memory",
                        (unsigned long long)m->id);
            }
        }
        if (atomic_fetch_sub(&T->foreign_sets, 1) == 1) {
            T->tomb_len = 0; /* no queued set can match them any more */
        }
    }
}

void evl__timers_apply_ctl(struct evl_loop *loop, int drop)
{
    struct evl__ctl *c = evl__submitq_take_ctl(loop);
    while (c) {
        struct evl__ctl *next = c->next;
        struct timer_msg *m = (struct timer_msg *)c;
        if (drop) {
            if (!m->clear) {
                atomic_fetch_sub(&loop->timers.foreign_sets, 1);
            }
        } else {
            msg_apply(loop, m);
        }
        evl__loop_free(loop, m);
        c = next;
    }
}

static int post_msg(struct evl_loop *loop, const struct timer_msg *src)
{
    struct timer_msg *m = evl__loop_malloc(loop, sizeof(*m));
    if (!m) {
        return EVL_ENOMEM;
    }
    *m = *src;
    if (!m->clear) {
        atomic_fetch_add(&loop->timers.foreign_sets, 1);
    }
    int rc = evl__submitq_post_ctl(loop, &m->link);
    if (rc != 0) {
        if (!m->clear) {
            atomic_fetch_sub(&loop->timers.foreign_sets, 1);
        }
        evl__loop_free(loop, m);
    }
    return rc;
}

static inline int schedule(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                           uint64_t repeat_ms, uint64_t flags, uint64_t *id_out)
{
    if (!loop || !cb) {
        return EVL_EINVAL;
    }
    if (atomic_load_explicit(&loop->state, memory_order_acquire) == EVL_LOOP_TERMINATED ||
        loop->admission_closed) {
        return EVL_ECLOSED;
    }
    int rc = clamp_delay(loop, &delay_ms);
    if (rc == 0 && repeat_ms) {
        rc = clamp_delay(loop, &repeat_ms);
        flags |= F_INTERVAL;
    }
    if (rc != 0) {
        return rc;
    }
    int on_thread = evl__loop_on_thread(loop);
    /* HTML nesting follows the chain of timer callbacks on the loop thread only; a foreign
     * thread always starts a new chain. */
    uint32_t level = on_thread ? loop->timers.nesting : 0;
    if (!(flags & F_IMMEDIATE)) {
        delay_ms = html_clamp(loop, level, delay_ms);
    }
    uint64_t id;
    rc = on_thread ? next_id_local(loop, &id) : next_id_shared(loop, &id);
    if (rc != 0) {
        return rc;
    }
    uint64_t period = (flags & F_INTERVAL) ? repeat_ms : delay_ms;
    uint64_t deadline = 0;
    if (!(flags & F_IMMEDIATE)) {
        /* A fresh clock read: never a cached tick (stale after idle periods). */
        uint64_t now = evl__loop_clock(loop);
        deadline = add_sat(now, delay_ms * NS_PER_MS);
        if (on_thread) {
            loop->timers.now_hint = now;
        }
    }
    if (on_thread) {
        rc = arm_new(loop, id, cb, arg, deadline, period, flags, level + 1);
    } else {
        struct timer_msg m = {{NULL}, cb, arg, id, deadline, period, flags, 0};
        rc = post_msg(loop, &m);
    }
    if (rc == 0 && id_out) {
        *id_out = id;
    }
    return rc;
}

int evl_timer_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t delay_ms,
                  uint64_t repeat_ms, uint64_t *id_out)
{
    if (loop && cb && repeat_ms == 0 && delay_ms <= EVL_TIMER_DELAY_MAX &&
        evl__loop_on_thread(loop) && !loop->admission_closed &&
        atomic_load_explicit(&loop->state, memory_order_relaxed) != EVL_LOOP_TERMINATED) {
        /* The loop thread's timeout: schedule() inlined without the branches for intervals,
         * immediates and messages (a delay within EVL_TIMER_DELAY_MAX is valid under every
         * policy; NODE only coerces it). */
        struct evl__timers *T = &loop->timers;
        uint64_t ms = delay_ms;
        if (loop->clamp == EVL_TIMER_CLAMP_NODE) {
            (void)clamp_delay(loop, &ms);
        }
        uint32_t level = T->nesting;
        ms = html_clamp(loop, level, ms);
        uint64_t id;
        int rc = next_id_local(loop, &id);
        if (rc != 0) {
            return rc;
        }
        uint64_t now = evl__loop_clock(loop); /* fresh: never a cached tick */
        T->now_hint = now;
        rc = arm_new(loop, id, cb, arg, add_sat(now, ms * NS_PER_MS), ms, 0, level + 1);
        if (rc == 0 && id_out) {
            *id_out = id;
        }
        return rc;
    }
    return schedule(loop, cb, arg, delay_ms, repeat_ms, 0, id_out);
}

int evl_immediate_set(struct evl_loop *loop, evl_timer_cb cb, void *arg, uint64_t *id_out)
{
    if (loop && cb && evl__loop_on_thread(loop) && !loop->admission_closed &&
        atomic_load_explicit(&loop->state, memory_order_relaxed) != EVL_LOOP_TERMINATED) {
        /* The loop thread's path: no delay policy, no clock, no message. */
        uint64_t id;
        int rc = next_id_local(loop, &id);
        if (rc == 0) {
            rc = arm_new(loop, id, cb, arg, 0, 0, F_IMMEDIATE, 1);
        }
        if (rc == 0 && id_out) {
            *id_out = id;
        }
        return rc;
    }
    return schedule(loop, cb, arg, 0, 0, F_IMMEDIATE, id_out);
}

/* The clear of an id no record holds: a no-op (EVL_ENOENT), unless its cross-thread set may
 * still be queued, which a tombstone then stops from ever arming. Out of line: the clear of
 * a pending timer stays short. */
EVL__NOINLINE static int clear_unknown(struct evl_loop *loop, uint64_t id)
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

static inline int clear_local(struct evl_loop *loop, uint64_t id)
{
    struct evl__timers *T = &loop->timers;
    uint32_t idx = table_take(T, id);
    if (idx == EVL__NONE) {
        return clear_unknown(loop, id);
    }
    struct evl__timer *r = &T->recs[idx];
    if (!(r->meta & F_IMMEDIATE)) {
        T->live--;
    }
    if (r->meta & F_IMMEDIATE) {
        r->meta |= F_CANCELLED;
        T->imm_count--;
    } else if (in_heap(T, idx)) {
        heap_remove(T, r->pos);
        rec_free(T, idx);
    } else if (r->meta & F_RUN) {
        run_cancel(T, idx);
    } else {
        /* A running interval: the timer phase frees it when the callback returns. */
        r->meta |= F_CANCELLED;
    }
    return 0;
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
    /* Queued, never waiting for the loop: a clear from any thread cannot deadlock. */
    struct timer_msg m = {{NULL}, NULL, NULL, id, 0, 0, 0, 1};
    return post_msg(loop, &m);
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
    *idx = table_find(&loop->timers, id);
    return *idx == EVL__NONE ? EVL_ENOENT : 0;
}

int evl_timer_refresh(struct evl_loop *loop, uint64_t id)
{
    uint32_t idx;
    int rc = find_local(loop, id, &idx);
    if (rc != 0) {
        return rc;
    }
    struct evl__timers *T = &loop->timers;
    struct evl__timer *r = &T->recs[idx];
    if (r->meta & F_IMMEDIATE) {
        return 0; /* nothing to restart */
    }
    if (r->pos == EVL__POS_RUNNING) {
        return 0; /* a running interval re-arms from the start of this run anyway */
    }
    if (in_heap(T, idx)) {
        heap_remove(T, r->pos);
    } else if (r->meta & F_RUN) {
        run_compact(T, run_of_rec(T, idx), idx); /* O(run); refresh is rare next to set */
    }
    uint64_t now = evl__loop_clock(loop);
    T->now_hint = now;
    r->deadline = add_sat(now, meta_period(r->meta) * NS_PER_MS);
    r->seq = T->seq++;
    timer_insert(T, idx);
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
    struct evl__timer *r = &T->recs[idx];
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
    return (loop->timers.recs[idx].meta & F_REF) ? 1 : 0;
}

/* ---- phases ---------------------------------------------------------------------------- */

/* The pending timer that sorts first (the first run's front or the heap top), or
 * EVL__NONE. */
static inline uint32_t timers_first(const struct evl__timers *T)
{
    uint32_t first = T->run_heap_len ? T->runs[T->run_heap[0]].head : EVL__NONE;
    if (T->heap_len != 0 &&
        (first == EVL__NONE || before(&T->recs[T->heap[0].idx], &T->recs[first]))) {
        first = T->heap[0].idx;
    }
    return first;
}

int64_t evl__timers_timeout(struct evl_loop *loop, uint64_t now)
{
    struct evl__timers *T = &loop->timers;
    uint32_t first = timers_first(T);
    if (first == EVL__NONE) {
        return -1;
    }
    uint64_t d = T->recs[first].deadline;
    if (d <= now) {
        return 0;
    }
    uint64_t diff = d - now;
    return diff > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)diff;
}

void evl__timers_run(struct evl_loop *loop)
{
    struct evl__timers *T = &loop->timers;
    uint64_t now = loop->now;
    T->now_hint = now;
    if (T->heap_len != 0 && now > T->key_base && now - T->key_base >= KEY_REBASE) {
        heap_rebase(T, now);
    }
    /* Sequence numbers issued from here on belong to timers armed during this phase: the
     * first one that reaches the front ends the phase, so such a timer never runs before the
     * next phase, even with a zero delay. Every timer due before the phase sorts ahead of it
     * (its deadline is at most now, and a later fresh clock read is not smaller). */
    uint32_t phase_seq = T->seq;
    for (;;) {
        uint32_t idx = timers_first(T);
        if (idx == EVL__NONE) {
            break;
        }
        struct evl__timer *r = &T->recs[idx];
        if (r->deadline > now || r->seq - phase_seq < T->seq - phase_seq) {
            break;
        }
        if (evl__loop_interrupted(loop)) {
            break; /* stop/shutdown: the rest stay armed with their deadlines and order */
        }
        if (r->meta & F_RUN) {
            run_pop_front(T, run_of_rec(T, idx));
        } else {
            heap_remove(T, 0);
        }
        int interval = (r->meta & F_INTERVAL) != 0;
        uint64_t start = 0;
        if (interval) {
            start = evl__loop_clock(loop); /* re-arm from the start of this run */
            T->now_hint = start;
        } else {
            table_del(T, idx); /* fired: a clear from now on reports EVL_ENOENT */
            T->live--;
        }
        r->pos = EVL__POS_RUNNING;
        uint32_t level = meta_nesting(r->meta);
        evl_timer_cb cb = r->cb;
        void *arg = r->arg;
        uint64_t id = r->id;
        T->nesting = level;
        loop->cb_depth++;
        cb(loop, id, arg);
        loop->cb_depth--;
        evl__loop_after_callback(loop);
        T->nesting = 0;
        r = &T->recs[idx]; /* the pool may have moved */
        if (!interval || (r->meta & F_CANCELLED)) {
            rec_free(T, idx);
            continue;
        }
        uint64_t period = html_clamp(loop, level, meta_period(r->meta));
        r->meta = meta_make(meta_period(r->meta), level + 1, r->meta & META_FLAGS_MASK);
        r->deadline = add_sat(start, period * NS_PER_MS);
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
    T->imm_head = EVL__NONE;
    T->imm_tail = EVL__NONE;
    /* The batch budget: past it, the rest waits (first in line) while due timers run. */
    struct evl__budget budget;
    evl__budget_begin(loop, &budget, loop->budgets.max_imm, loop->budgets.max_imm_ns,
                      idx != tail && evl__budget_precise(loop));
    int spent = 0;
    while (idx != EVL__NONE) {
        struct evl__timer *r = &T->recs[idx];
        uint32_t next = r->pos;
        if (r->meta & F_CANCELLED) {
            rec_free(T, idx);
            idx = next;
            continue;
        }
        if (spent || evl__loop_interrupted(loop)) {
            /* Put the rest back in front of anything added meanwhile. */
            T->recs[tail].pos = T->imm_head;
            if (T->imm_head == EVL__NONE) {
                T->imm_tail = tail;
            }
            T->imm_head = idx;
            return;
        }
        table_del(T, idx);
        T->imm_count--;
        r->pos = EVL__POS_RUNNING;
        evl_timer_cb cb = r->cb;
        void *arg = r->arg;
        uint64_t id = r->id;
        loop->cb_depth++;
        cb(loop, id, arg);
        loop->cb_depth--;
        evl__loop_after_callback(loop);
        rec_free(T, idx);
        idx = next;
        spent = evl__budget_spent(loop, &budget, 1);
    }
}

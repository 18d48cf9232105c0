/* The timer heap (src/container/timer_heap.c), white-box over a record array of its own. */
#include "evl_test.h"

#include "container/timer_heap.h"

#define NRECS 2000
static struct evl__timer recs[NRECS];

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void heap_new(struct evl__timer_heap *h, uint32_t cap)
{
    evl__timer_heap_init(h);
    ASSERT_OK(evl__timer_heap_grow(h, NULL, cap));
    ASSERT_EQ(evl__timer_heap_check(h, recs, NRECS), 0);
}

static void push(struct evl__timer_heap *h, uint32_t idx, uint64_t deadline, uint32_t seq)
{
    recs[idx].deadline = deadline;
    recs[idx].seq = seq;
    recs[idx].id = idx;
    evl__timer_heap_push(h, recs, idx, 0);
}

/* Pops everything, asserting (deadline, seq) order and the walk after each removal. */
static uint32_t drain_in_order(struct evl__timer_heap *h)
{
    uint32_t n = 0;
    uint32_t prev = EVL__TIMER_NONE;
    while (h->len != 0) {
        uint32_t top = evl__timer_heap_top(h);
        ASSERT_UEQ(recs[top].pos, 0);
        if (prev != EVL__TIMER_NONE) {
            ASSERT_FALSE(evl__timer_before(&recs[top], &recs[prev]));
        }
        evl__timer_heap_remove(h, recs, 0);
        ASSERT_EQ(evl__timer_heap_check(h, recs, NRECS), 0);
        prev = top;
        n++;
    }
    ASSERT_UEQ(evl__timer_heap_top(h), EVL__TIMER_NONE);
    return n;
}

TEST(timer_heap_pops_by_deadline_then_sequence)
{
    struct evl__timer_heap h;
    heap_new(&h, NRECS);
    for (uint32_t i = 0; i < NRECS; i++) {
        /* Few distinct deadlines: many ties, decided by seq (which wraps past 2^32). */
        push(&h, i, 1000000 + (next_rand() % 50) * 1000, UINT32_MAX - 1000 + i);
        if (i % 97 == 0) {
            ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
        }
    }
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    ASSERT_UEQ(drain_in_order(&h), NRECS);
    evl__timer_heap_deinit(&h, NULL);
}

TEST(timer_heap_removes_any_position)
{
    struct evl__timer_heap h;
    heap_new(&h, NRECS);
    for (uint32_t i = 0; i < NRECS; i++) {
        push(&h, i, next_rand() % 100000000, i);
    }
    /* Remove half of the records from wherever they sit (leaves, inner slots, the root). */
    uint32_t removed = 0;
    for (uint32_t i = 0; i < NRECS; i += 2) {
        evl__timer_heap_remove(&h, recs, recs[i].pos);
        removed++;
        ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    }
    ASSERT_UEQ(h.len, NRECS - removed);
    ASSERT_UEQ(drain_in_order(&h), NRECS - removed);
    evl__timer_heap_deinit(&h, NULL);
}

/* Deadlines past the 32-bit key span saturate; the records still decide their order, and a
 * rebase gives them distinct keys again. */
TEST(timer_heap_keys_saturate_and_rebase)
{
    struct evl__timer_heap h;
    heap_new(&h, 64);
    const uint64_t far = EVL__TIMER_HEAP_REBASE * 4;
    for (uint32_t i = 0; i < 40; i++) {
        push(&h, i, far + (40 - i) * 5000, i);
    }
    ASSERT_UEQ(h.slots[0].key, UINT32_MAX);
    ASSERT_UEQ(recs[evl__timer_heap_top(&h)].deadline, far + 5000);
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    evl__timer_heap_rebase(&h, recs, far);
    ASSERT_UEQ(h.key_base, far);
    ASSERT_ULT(h.slots[0].key, UINT32_MAX);
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    ASSERT_UEQ(drain_in_order(&h), 40);
    /* An empty heap takes the push's clock as its base. */
    recs[0].deadline = far * 2;
    recs[0].seq = 0;
    evl__timer_heap_push(&h, recs, 0, far * 2 - 1024);
    ASSERT_UEQ(h.key_base, far * 2 - 1024);
    ASSERT_UEQ(h.slots[0].key, 1);
    evl__timer_heap_deinit(&h, NULL);
}

/* Sibling groups start on a cache line after every growth, and the slots survive the move. */
TEST(timer_heap_growth_keeps_sibling_groups_on_cache_lines)
{
    struct evl__timer_heap h;
    evl__timer_heap_init(&h);
    uint32_t n = 0;
    for (uint32_t cap = 16; cap <= 1024; cap *= 2) {
        ASSERT_OK(evl__timer_heap_grow(&h, NULL, cap));
        ASSERT_UEQ((uintptr_t)(h.slots + 1) % EVL__CACHELINE, 0);
        ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
        while (n < cap) {
            push(&h, n, next_rand() % 1000000, n);
            n++;
        }
    }
    ASSERT_UEQ(drain_in_order(&h), 1024);
    evl__timer_heap_deinit(&h, NULL);
}

TEST(timer_heap_failed_growth_changes_nothing)
{
    struct evl__timer_heap h;
    heap_new(&h, 16);
    for (uint32_t i = 0; i < 16; i++) {
        push(&h, i, i * 1000, i);
    }
    struct evl__timer_heap before = h;
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl__timer_heap_grow(&h, NULL, 32));
    evl_alloc_fail_at(0, 0);
    ASSERT_PTR_EQ(h.slots, before.slots);
    ASSERT_UEQ(h.cap, 16);
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    ASSERT_UEQ(drain_in_order(&h), 16);
    evl__timer_heap_deinit(&h, NULL);
}

TEST(timer_heap_check_rejects_corruption)
{
    struct evl__timer_heap h;
    heap_new(&h, 64);
    for (uint32_t i = 0; i < 20; i++) {
        push(&h, i, 1000000 + i * 100000, i);
    }
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    /* 1: more slots than room. */
    h.len = 65;
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 1);
    h.len = 20;
    /* 2: a record that does not know its slot. */
    uint32_t idx = h.slots[5].idx;
    recs[idx].pos = 6;
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 2);
    recs[idx].pos = 5;
    /* 3: a stale key. */
    h.slots[5].key++;
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 3);
    h.slots[5].key--;
    /* 4: a child earlier than its parent. */
    uint32_t child = h.slots[9].idx;
    uint64_t saved = recs[child].deadline;
    recs[child].deadline = 0;
    h.slots[9].key = evl__timer_heap_key(&h, 0);
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 4);
    recs[child].deadline = saved;
    h.slots[9].key = evl__timer_heap_key(&h, saved);
    ASSERT_EQ(evl__timer_heap_check(&h, recs, NRECS), 0);
    evl__timer_heap_deinit(&h, NULL);
}

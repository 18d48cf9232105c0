/* The lane container (src/container/lanes.h), white-box, one thread playing producer and
 * consumer: FIFO across chunks, two-slot pushes over a chunk edge, directory growth while the
 * consumer is mid-way, chunk reuse, slot-number wrap-around, and the invariant walk catching
 * broken states. */
#include "evl_test.h"

#include "container/lanes.h"

#include <string.h>

static void dummy_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

struct fix {
    struct evl__lane lane; /* aligned by its type */
    struct evl__lane_pool spare;
    uint64_t pushed;
    uint64_t taken;
    unsigned chunks_allocated;
    unsigned dirs_installed;
};

static void fix_init(struct fix *f)
{
    memset(f, 0, sizeof(*f));
    evl__lanes_init(&f->lane);
}

static void fix_deinit(struct fix *f)
{
    ASSERT_EQ(evl__lanes_check(&f->lane), 0);
    evl__lanes_deinit(&f->lane, NULL);
    evl__lanes_pool_free(&f->spare, NULL);
    ASSERT_EQ(evl__lanes_check(&f->lane), 0);
}

static struct evl__lane_slot slot_of(uint64_t v)
{
    struct evl__lane_slot s = {dummy_cb, (void *)(uintptr_t)v};
    return s;
}

/* The producer's side: push n slots starting with value v, providing a chunk (recycled from
 * the consumer's spare pool first) and a directory whenever the lane asks. */
static void push(struct fix *f, uint64_t v, int n)
{
    struct evl__lane_slot t[2] = {slot_of(v), slot_of(v + 1)};
    for (;;) {
        int rc = evl__lanes_push(&f->lane, t, n);
        if (rc == 0) {
            break;
        }
        ASSERT_EQ(rc, EVL__LANES_NEED_GROW);
        if (!f->lane.free) {
            union evl__lane_chunk *c = evl__lanes_pool_take(&f->spare);
            if (!c) {
                c = evl__lanes_alloc(NULL, sizeof(*c));
                ASSERT_NOT_NULL(c);
                f->chunks_allocated++;
            }
            ASSERT_NULL(evl__lanes_set_free(&f->lane, c));
        }
        struct evl__lane_dir *d = atomic_load(&f->lane.dir);
        if (evl__lanes_dir_full(&f->lane, d)) {
            struct evl__lane_dir *nd = evl__lanes_dir_new(NULL, evl__lanes_dir_next_cap(&f->lane));
            ASSERT_NOT_NULL(nd);
            ASSERT_NULL(evl__lanes_install_dir(&f->lane, nd));
            f->dirs_installed++;
        }
    }
    f->pushed += (uint64_t)n;
}

/* The consumer's side: takes n slots and checks they come in order. */
static void take(struct fix *f, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        ASSERT_TRUE(evl__lanes_nonempty(&f->lane));
        struct evl__lane_slot s = evl__lanes_take(&f->lane, &f->spare);
        ASSERT_PTR_EQ((void *)(uintptr_t)s.fn, (void *)(uintptr_t)dummy_cb);
        ASSERT_UEQ((uintptr_t)s.arg, f->taken);
        f->taken++;
    }
}

TEST(lanes_empty_lane_is_valid_and_asks_for_storage)
{
    struct fix f;
    fix_init(&f);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    ASSERT_FALSE(evl__lanes_nonempty(&f.lane));
    struct evl__lane_slot t = slot_of(0);
    ASSERT_EQ(evl__lanes_push(&f.lane, &t, 1), EVL__LANES_NEED_GROW);
    ASSERT_UEQ(atomic_load(&f.lane.tail), 0); /* nothing published */
    push(&f, 0, 1);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    ASSERT_UEQ(evl__lanes_backlog(&f.lane), 1);
    take(&f, 1);
    ASSERT_FALSE(evl__lanes_nonempty(&f.lane));
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    fix_deinit(&f);
}

TEST(lanes_fifo_across_chunks_with_directory_growth)
{
    struct fix f;
    fix_init(&f);
    /* 40 chunks' worth while the consumer lags: the directory doubles 4 -> 64. */
    for (uint64_t i = 0; i < 40 * EVL__LANE_SLOTS; i++) {
        push(&f, i, 1);
        if (i % 1000 == 999) {
            ASSERT_EQ(evl__lanes_check(&f.lane), 0);
            take(&f, 300); /* the consumer moves mid-way through the growth */
            ASSERT_EQ(evl__lanes_check(&f.lane), 0);
        }
    }
    ASSERT_UGE(f.dirs_installed, 4);
    take(&f, f.pushed - f.taken);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    ASSERT_FALSE(evl__lanes_nonempty(&f.lane));
    /* Retired directories hang off the live one, each smaller than its successor. */
    const struct evl__lane_dir *d = atomic_load(&f.lane.dir);
    ASSERT_NOT_NULL(d->retired);
    fix_deinit(&f);
}

TEST(lanes_two_slot_push_over_a_chunk_edge)
{
    struct fix f;
    fix_init(&f);
    for (uint64_t i = 0; i < EVL__LANE_SLOTS - 1; i++) {
        push(&f, f.pushed, 1);
    }
    /* Slot 255 ends chunk 0; its pair goes to slot 0 of chunk 1, both published at once. */
    push(&f, f.pushed, 2);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    ASSERT_UEQ(f.lane.nk, 2);
    ASSERT_UEQ(atomic_load(&f.lane.tail), EVL__LANE_SLOTS + 1);
    take(&f, f.pushed);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    fix_deinit(&f);
}

TEST(lanes_steady_stream_reuses_chunks)
{
    struct fix f;
    fix_init(&f);
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 200; i++) {
            push(&f, f.pushed, 1);
        }
        take(&f, 200);
        ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    }
    /* 20,000 slots went through a handful of chunks: finished ones came back via spare. */
    ASSERT_ULE(f.chunks_allocated, 3);
    fix_deinit(&f);
}

TEST(lanes_slot_numbers_wrap_around)
{
    struct fix f;
    fix_init(&f);
    /* An empty lane whose counters are 2 chunks short of the 32-bit wrap. */
    uint32_t start = UINT32_MAX - 2 * EVL__LANE_SLOTS + 1;
    f.lane.ptail = start;
    atomic_store(&f.lane.tail, start);
    atomic_store(&f.lane.head, start);
    f.lane.seen = start;
    f.lane.nk = start >> EVL__LANE_SHIFT;
    atomic_store(&f.lane.hk, start >> EVL__LANE_SHIFT);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    f.pushed = f.taken = 0;
    /* Values are counted from 0 by the fixture; the lane's own numbers wrap past 2^32. */
    for (uint32_t i = 0; i < 5 * EVL__LANE_SLOTS; i++) {
        push(&f, f.pushed, 1);
        if (i % 97 == 0) {
            take(&f, f.pushed - f.taken);
            ASSERT_EQ(evl__lanes_check(&f.lane), 0);
        }
    }
    ASSERT_ULT(f.lane.ptail, start); /* wrapped */
    take(&f, f.pushed - f.taken);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    fix_deinit(&f);
}

TEST(lanes_check_catches_broken_states)
{
    struct fix f;
    fix_init(&f);
    for (int i = 0; i < 600; i++) {
        push(&f, f.pushed, 1);
    }
    take(&f, 300);
    ASSERT_EQ(evl__lanes_check(&f.lane), 0);

    f.lane.ptail++; /* written but not published */
    ASSERT_EQ(evl__lanes_check(&f.lane), 1);
    f.lane.ptail--;

    uint32_t seen = f.lane.seen;
    f.lane.seen = atomic_load(&f.lane.tail) + 1; /* seen past tail */
    ASSERT_EQ(evl__lanes_check(&f.lane), 2);
    f.lane.seen = seen;

    f.lane.nk++; /* a chunk the directory does not hold */
    ASSERT_NE(evl__lanes_check(&f.lane), 0);
    f.lane.nk--;

    struct evl__lane_dir *d = atomic_load(&f.lane.dir);
    union evl__lane_chunk *c = d->c[(f.lane.nk - 1) & d->mask];
    d->c[(f.lane.nk - 1) & d->mask] = d->c[(f.lane.nk - 2) & d->mask]; /* a duplicate */
    ASSERT_EQ(evl__lanes_check(&f.lane), 5);
    d->c[(f.lane.nk - 1) & d->mask] = c;

    union evl__lane_chunk *pc = f.lane.pchunk;
    f.lane.pchunk = f.lane.cur; /* the producer filling an older chunk */
    ASSERT_EQ(evl__lanes_check(&f.lane), 6);
    f.lane.pchunk = pc;

    union evl__lane_chunk *cur = f.lane.cur;
    f.lane.cur = pc; /* the consumer reading the wrong chunk */
    ASSERT_EQ(evl__lanes_check(&f.lane), 7);
    f.lane.cur = cur;

    ASSERT_EQ(evl__lanes_check(&f.lane), 0);
    take(&f, f.pushed - f.taken);
    fix_deinit(&f);
}

TEST(lanes_pool_is_fifo)
{
    struct evl__lane_pool p = {NULL, NULL};
    struct evl__lane_pool q = {NULL, NULL};
    union evl__lane_chunk *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = evl__lanes_alloc(NULL, sizeof(*c[i]));
        ASSERT_NOT_NULL(c[i]);
    }
    evl__lanes_pool_put(&p, c[0]);
    evl__lanes_pool_put(&p, c[1]);
    evl__lanes_pool_put(&q, c[2]);
    evl__lanes_pool_put(&q, c[3]);
    evl__lanes_pool_splice(&p, &q); /* q's chunks go behind p's */
    ASSERT_NULL(q.head);
    for (int i = 0; i < 4; i++) {
        union evl__lane_chunk *x = evl__lanes_pool_take(&p);
        ASSERT_PTR_EQ(x, c[i]);
        evl__lanes_free(NULL, x);
    }
    ASSERT_NULL(evl__lanes_pool_take(&p));
    ASSERT_NULL(p.tail);
}

/* The id -> record hash (src/container/hash.c), white-box: the walk must accept every state
 * the operations leave and reject hand-made corruptions. */
#include "evl_test.h"

#include "container/hash.h"

static void *val_of(uint64_t n)
{
    return (void *)(uintptr_t)(n * 7 + 3);
}

/* Keys whose home slot is `home` in a table of `cap` slots (found by search). */
static uint32_t colliding_keys(uint32_t cap, uint32_t home, uint64_t *out, uint32_t n)
{
    uint32_t log2 = 0;
    while ((UINT32_C(1) << log2) < cap) {
        log2++;
    }
    uint32_t found = 0;
    for (uint64_t k = 1; found < n && k < UINT64_C(100000000); k++) {
        if ((uint32_t)((k * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - log2)) == home) {
            out[found++] = k;
        }
    }
    return found;
}

TEST(hash_empty_map_allocates_nothing)
{
    uint64_t before = evl_test_live_blocks();
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    ASSERT_EQ(evl__hash_check(&h), 0);
    ASSERT_UEQ(evl__hash_count(&h), 0);
    void *v = val_of(1);
    ASSERT_EQ(evl__hash_get(&h, 42, &v), 0);
    ASSERT_PTR_EQ(v, val_of(1)); /* untouched on a miss */
    ASSERT_EQ(evl__hash_remove(&h, 42, NULL), 0);
    ASSERT_EQ(evl__hash_get(&h, 0, NULL), 0);
    ASSERT_UEQ(evl_test_live_blocks(), before);
    uint32_t cur = 0;
    uint64_t k;
    ASSERT_EQ(evl__hash_next(&h, &cur, &k, &v), 0);
    evl__hash_deinit(&h);
}

TEST(hash_put_get_replace_remove)
{
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    ASSERT_OK(evl__hash_put(&h, 5, val_of(5)));
    ASSERT_OK(evl__hash_put(&h, 6, NULL));
    ASSERT_UEQ(evl__hash_count(&h), 2);
    void *v = NULL;
    ASSERT_EQ(evl__hash_get(&h, 5, &v), 1);
    ASSERT_PTR_EQ(v, val_of(5));
    v = val_of(9);
    ASSERT_EQ(evl__hash_get(&h, 6, &v), 1);
    ASSERT_NULL(v); /* a NULL value is a value */
    ASSERT_OK(evl__hash_put(&h, 5, val_of(50)));
    ASSERT_UEQ(evl__hash_count(&h), 2);
    ASSERT_EQ(evl__hash_get(&h, 5, &v), 1);
    ASSERT_PTR_EQ(v, val_of(50));
    ASSERT_EQ(evl__hash_check(&h), 0);
    ASSERT_EQ(evl__hash_remove(&h, 5, &v), 1);
    ASSERT_PTR_EQ(v, val_of(50));
    ASSERT_EQ(evl__hash_remove(&h, 5, &v), 0);
    ASSERT_EQ(evl__hash_get(&h, 5, NULL), 0);
    ASSERT_UEQ(evl__hash_count(&h), 1);
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl__hash_deinit(&h);
    ASSERT_UEQ(evl__hash_count(&h), 0);
    ASSERT_EQ(evl__hash_check(&h), 0);
}

TEST(hash_key_zero_and_max_are_keys)
{
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    ASSERT_OK(evl__hash_put(&h, 0, val_of(0)));
    ASSERT_OK(evl__hash_put(&h, UINT64_MAX, val_of(1)));
    ASSERT_UEQ(evl__hash_count(&h), 2);
    void *v;
    ASSERT_EQ(evl__hash_get(&h, 0, &v), 1);
    ASSERT_PTR_EQ(v, val_of(0));
    ASSERT_EQ(evl__hash_get(&h, UINT64_MAX, &v), 1);
    ASSERT_PTR_EQ(v, val_of(1));
    ASSERT_EQ(evl__hash_check(&h), 0);
    ASSERT_EQ(evl__hash_remove(&h, 0, &v), 1);
    ASSERT_PTR_EQ(v, val_of(0));
    ASSERT_EQ(evl__hash_get(&h, 0, NULL), 0);
    ASSERT_UEQ(evl__hash_count(&h), 1);
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl__hash_deinit(&h);
}

/* Keys sharing one home form a cluster; removing from its middle must shift the rest back so
 * every later key stays reachable, also across the end of the table. */
TEST(hash_backward_shift_keeps_clusters_reachable)
{
    uint64_t keys[6];
    /* Home 14 of 16: the cluster wraps around to slots 0-3. */
    ASSERT_UEQ(colliding_keys(16, 14, keys, 6), 6);
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    ASSERT_OK(evl__hash_reserve(&h, 6)); /* 16 slots for 6 keys: no growth below */
    ASSERT_UEQ(h.mask, 15);
    for (int i = 0; i < 6; i++) {
        ASSERT_OK(evl__hash_put(&h, keys[i], val_of(keys[i])));
    }
    ASSERT_UEQ(h.mask, 15);
    ASSERT_EQ(evl__hash_check(&h), 0);
    for (int r = 1; r < 6; r += 2) {
        ASSERT_EQ(evl__hash_remove(&h, keys[r], NULL), 1);
        ASSERT_EQ(evl__hash_check(&h), 0);
    }
    for (int i = 0; i < 6; i++) {
        void *v = NULL;
        ASSERT_EQ(evl__hash_get(&h, keys[i], &v), i % 2 == 0);
        if (i % 2 == 0) {
            ASSERT_PTR_EQ(v, val_of(keys[i]));
        }
    }
    /* The cluster shrank to three adjacent slots from the home. */
    ASSERT_UEQ(h.slots[14].key, keys[0]);
    ASSERT_UEQ(h.slots[15].key, keys[2]);
    ASSERT_UEQ(h.slots[0].key, keys[4]);
    ASSERT_UEQ(h.slots[1].key, 0);
    evl__hash_deinit(&h);
}

TEST(hash_grows_and_keeps_every_entry)
{
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    const uint64_t n = 100000;
    for (uint64_t k = 1; k <= n; k++) {
        ASSERT_OK(evl__hash_put(&h, k, val_of(k)));
    }
    ASSERT_UEQ(evl__hash_count(&h), n);
    ASSERT_ULE((uint64_t)h.used * 2, (uint64_t)h.mask + 1);
    ASSERT_EQ(evl__hash_check(&h), 0);
    for (uint64_t k = 1; k <= n; k += 2) {
        ASSERT_EQ(evl__hash_remove(&h, k, NULL), 1);
    }
    ASSERT_EQ(evl__hash_check(&h), 0);
    for (uint64_t k = 1; k <= n; k++) {
        void *v = NULL;
        int present = evl__hash_get(&h, k, &v);
        ASSERT_EQ(present, k % 2 == 0);
        if (present) {
            ASSERT_PTR_EQ(v, val_of(k));
        }
    }
    evl__hash_deinit(&h);
}

/* Pointer keys (16-byte aligned addresses) spread like ids. */
TEST(hash_pointer_keys)
{
    static char arena[16 * 4096];
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    for (size_t i = 0; i < 4096; i++) {
        ASSERT_OK(evl__hash_put(&h, (uint64_t)(uintptr_t)&arena[i * 16], &arena[i * 16]));
    }
    ASSERT_EQ(evl__hash_check(&h), 0);
    for (size_t i = 0; i < 4096; i++) {
        void *v = NULL;
        ASSERT_EQ(evl__hash_get(&h, (uint64_t)(uintptr_t)&arena[i * 16], &v), 1);
        ASSERT_PTR_EQ(v, &arena[i * 16]);
    }
    evl__hash_deinit(&h);
}

/* Random operations against a plain array of the same keys, with the walk after each one. */
TEST(hash_random_operations_match_a_model)
{
    enum { KEYS = 300 };
    static uint64_t key_of[KEYS];
    static int present[KEYS];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < KEYS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        key_of[i] = i < 10 ? (uint64_t)i : x; /* a few small keys, 0 among them */
        present[i] = 0;
    }
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    uint32_t count = 0;
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int i = (int)(x % KEYS);
        if ((x >> 32) % 3 != 0) {
            ASSERT_OK(evl__hash_put(&h, key_of[i], val_of((uint64_t)step)));
            count += !present[i];
            present[i] = 1;
        } else {
            ASSERT_EQ(evl__hash_remove(&h, key_of[i], NULL), present[i]);
            count -= present[i];
            present[i] = 0;
        }
        ASSERT_UEQ(evl__hash_count(&h), count);
        if (step % 16 == 0) {
            ASSERT_EQ(evl__hash_check(&h), 0);
        }
    }
    for (int i = 0; i < KEYS; i++) {
        ASSERT_EQ(evl__hash_get(&h, key_of[i], NULL), present[i]);
    }
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl__hash_deinit(&h);
}

TEST(hash_iteration_visits_each_entry_once)
{
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    for (uint64_t k = 0; k < 1000; k++) {
        ASSERT_OK(evl__hash_put(&h, k, val_of(k)));
    }
    static unsigned char seen[1000];
    uint32_t cur = 0;
    uint64_t k;
    void *v;
    uint32_t n = 0;
    while (evl__hash_next(&h, &cur, &k, &v)) {
        ASSERT_ULT(k, 1000);
        ASSERT_EQ(seen[k], 0);
        ASSERT_PTR_EQ(v, val_of(k));
        seen[k] = 1;
        n++;
    }
    ASSERT_UEQ(n, 1000);
    ASSERT_EQ(evl__hash_next(&h, &cur, &k, &v), 0); /* stays at the end */
    evl__hash_deinit(&h);
}

/* A failed growth leaves the map as it was; room reserved up front cannot fail later. */
TEST(hash_allocation_failure_changes_nothing)
{
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl__hash_put(&h, 1, val_of(1)));
    ASSERT_UEQ(evl__hash_count(&h), 0);
    ASSERT_NULL(h.slots);
    evl_alloc_fail_at(0, 0);
    for (uint64_t k = 1; k <= 8; k++) {
        ASSERT_OK(evl__hash_put(&h, k, val_of(k)));
    }
    ASSERT_UEQ(h.mask, 15); /* full at load 1/2: the next new key must grow */
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl__hash_put(&h, 9, val_of(9)));
    ASSERT_OK(evl__hash_put(&h, 8, val_of(80))); /* a present key needs no room */
    ASSERT_ERR(EVL_ENOMEM, evl__hash_reserve(&h, 1));
    ASSERT_UEQ(evl__hash_count(&h), 8);
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl_alloc_fail_at(0, 0);
    ASSERT_OK(evl__hash_reserve(&h, 100));
    evl_alloc_fail_at(1, 1);
    for (uint64_t k = 9; k < 109; k++) {
        ASSERT_OK(evl__hash_put(&h, k, val_of(k)));
    }
    evl_alloc_fail_at(0, 0);
    ASSERT_UEQ(evl__hash_count(&h), 108);
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl__hash_deinit(&h);
}

struct counting_alloc {
    int mallocs;
    int frees;
};

static void *count_malloc(void *ud, size_t n)
{
    ((struct counting_alloc *)ud)->mallocs++;
    return evl_malloc(n);
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return evl_realloc(p, n);
}

static void count_free(void *ud, void *p)
{
    ((struct counting_alloc *)ud)->frees++;
    evl_free(p);
}

TEST(hash_allocates_through_the_given_allocator)
{
    struct counting_alloc c = {0, 0};
    struct evl_allocator a = {count_malloc, count_realloc, count_free, &c};
    struct evl__hash h;
    evl__hash_init(&h, &a);
    for (uint64_t k = 1; k <= 100; k++) {
        ASSERT_OK(evl__hash_put(&h, k, NULL));
    }
    evl__hash_deinit(&h);
    ASSERT_GT(c.mallocs, 1); /* it grew */
    ASSERT_EQ(c.mallocs, c.frees);
}

TEST(hash_check_rejects_corruption)
{
    uint64_t keys[3];
    ASSERT_UEQ(colliding_keys(16, 3, keys, 3), 3);
    struct evl__hash h;
    evl__hash_init(&h, NULL);
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(evl__hash_put(&h, keys[i], val_of(keys[i])));
    }
    ASSERT_UEQ(h.mask, 15);
    ASSERT_EQ(evl__hash_check(&h), 0);
    /* 4: a lost count. */
    h.used++;
    ASSERT_EQ(evl__hash_check(&h), 4);
    h.used--;
    /* 5: a hole between an entry and its home (slots 3, 4, 5 hold the cluster). */
    struct evl__hash_entry mid = h.slots[4];
    h.slots[4].key = 0;
    ASSERT_EQ(evl__hash_check(&h), 5);
    h.slots[4] = mid;
    /* 6: a key stored twice. */
    h.slots[5].key = h.slots[3].key;
    ASSERT_EQ(evl__hash_check(&h), 6);
    h.slots[5].key = keys[2];
    /* 2: a shift that does not match the capacity. */
    h.shift--;
    ASSERT_EQ(evl__hash_check(&h), 2);
    h.shift++;
    /* 7: a value for an absent key 0. */
    h.zero_val = val_of(0);
    ASSERT_EQ(evl__hash_check(&h), 7);
    h.zero_val = NULL;
    ASSERT_EQ(evl__hash_check(&h), 0);
    evl__hash_deinit(&h);
}

/*
 * The in-tree test harness. A test file defines cases with TEST(name) { ... }; CMake scans
 * the source for TEST(...) and registers each case as its own ctest entry, so writing the
 * case is the only step. Each case runs in its own process with the tracking allocator on,
 * and fails if any block is still live when it returns.
 *
 *   TEST(timer_fifo) { ASSERT_EQ(1, 1); }
 *
 * Assertions print file:line and both values, then end the process with status 1.
 * TEST_SKIP("why") ends the case with the skip status (77).
 */
#ifndef EVL_TEST_H
#define EVL_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evl.h"

#define EVL_TEST_SKIP_CODE 77

struct evl_test_case {
    const char *name;
    void (*fn)(void);
    struct evl_test_case *next;
};

void evl_test_register(struct evl_test_case *tc);
void evl_test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;
/* Set by a test that must not be leak-checked (for instance one that leaks on purpose). */
extern int evl_test_skip_leak_check;

#define TEST(name)                                                             \
    static void test_##name(void);                                             \
    static struct evl_test_case test_case_##name = {#name, test_##name, NULL}; \
    __attribute__((constructor)) static void test_register_##name(void)        \
    {                                                                          \
        evl_test_register(&test_case_##name);                                  \
    }                                                                          \
    static void test_##name(void)

#define TEST_SKIP(why)                        \
    do {                                      \
        fprintf(stderr, "SKIP: %s\n", (why)); \
        exit(EVL_TEST_SKIP_CODE);             \
    } while (0)

/* Nonzero under valgrind (its preload library is in LD_PRELOAD): for the few cases whose
 * kernel interface valgrind emulates differently (resource limits, vfork). */
static inline int evl_test_under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

#define EVL__ASSERT_CMP(type, fmt, a, op, b)                                                \
    do {                                                                                    \
        type evl__a = (type)(a);                                                            \
        type evl__b = (type)(b);                                                            \
        if (!(evl__a op evl__b)) {                                                          \
            evl_test_fail(__FILE__, __LINE__, "%s %s %s (" fmt " vs " fmt ")", #a, #op, #b, \
                          evl__a, evl__b);                                                  \
        }                                                                                   \
    } while (0)

#define ASSERT_EQ(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, ==, b)
#define ASSERT_NE(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, !=, b)
#define ASSERT_LT(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, <, b)
#define ASSERT_LE(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, <=, b)
#define ASSERT_GT(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, >, b)
#define ASSERT_GE(a, b)     EVL__ASSERT_CMP(intmax_t, "%jd", a, >=, b)
#define ASSERT_UEQ(a, b)    EVL__ASSERT_CMP(uintmax_t, "%ju", a, ==, b)
#define ASSERT_ULT(a, b)    EVL__ASSERT_CMP(uintmax_t, "%ju", a, <, b)
#define ASSERT_ULE(a, b)    EVL__ASSERT_CMP(uintmax_t, "%ju", a, <=, b)
#define ASSERT_UGE(a, b)    EVL__ASSERT_CMP(uintmax_t, "%ju", a, >=, b)
#define ASSERT_DEQ(a, b)    EVL__ASSERT_CMP(double, "%.17g", a, ==, b)
#define ASSERT_PTR_EQ(a, b) EVL__ASSERT_CMP(const void *, "%p", a, ==, b)
#define ASSERT_PTR_NE(a, b) EVL__ASSERT_CMP(const void *, "%p", a, !=, b)
#define ASSERT_NULL(a)      ASSERT_PTR_EQ(a, NULL)
#define ASSERT_NOT_NULL(a)  ASSERT_PTR_NE(a, NULL)

#define ASSERT_TRUE(c)                                                  \
    do {                                                                \
        if (!(c)) {                                                     \
            evl_test_fail(__FILE__, __LINE__, "expected true: %s", #c); \
        }                                                               \
    } while (0)
#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))

#define ASSERT_STR_EQ(a, b)                                                          \
    do {                                                                             \
        const char *evl__a = (a);                                                    \
        const char *evl__b = (b);                                                    \
        if (!evl__a || !evl__b || strcmp(evl__a, evl__b) != 0) {                     \
            evl_test_fail(__FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b, \
                          evl__a ? evl__a : "(null)", evl__b ? evl__b : "(null)");   \
        }                                                                            \
    } while (0)

/* ASSERT_OK(call): the call returned 0; on failure prints the evl error name. */
#define ASSERT_OK(expr)                                                                  \
    do {                                                                                 \
        int evl__rc = (expr);                                                            \
        if (evl__rc != 0) {                                                              \
            evl_test_fail(__FILE__, __LINE__, "%s returned %d (%s: %s)", #expr, evl__rc, \
                          evl_err_name(evl__rc), evl_strerror(evl__rc));                 \
        }                                                                                \
    } while (0)

/* ASSERT_ERR(EVL_EXXX, call): the call returned exactly that error. */
#define ASSERT_ERR(err, expr)                                                                     \
    do {                                                                                          \
        int evl__rc = (expr);                                                                     \
        if (evl__rc != (err)) {                                                                   \
            evl_test_fail(__FILE__, __LINE__, "%s returned %d (%s), expected %s", #expr, evl__rc, \
                          evl_err_name(evl__rc), evl_err_name(err));                              \
        }                                                                                         \
    } while (0)

/* A fake monotonic clock for timer tests: install with evl_test_fake_clock_options(). */
struct evl_test_clock {
    uint64_t now_ns;
};
uint64_t evl_test_clock_read(void *ud);
void evl_test_clock_advance_ms(struct evl_test_clock *clock, uint64_t ms);

/* Live blocks in the tracking allocator now (for checks inside a test). */
uint64_t evl_test_live_blocks(void);

#endif

/*
 * Shared by the I/O suites (test_fd*.c, test_backend*.c). BACKEND_TEST(name) is a TEST that
 * CMake registers once per backend (cmake/EvlTests.cmake), passing the backend's name in
 * EVL_BACKEND, the same override evljs honours.
 */
#ifndef EVL_TEST_FD_COMMON_H
#define EVL_TEST_FD_COMMON_H

#include "evl_test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define BACKEND_TEST(name) TEST(name)

/* The backend this run is about (EVL_BACKEND); skips if it is not built here. */
static inline enum evl_backend_kind test_backend(void)
{
    enum evl_backend_kind kind = EVL_BACKEND_DEFAULT;
    int rc = evl_backend_parse(getenv("EVL_BACKEND"), &kind);
    if (rc == EVL_ENOSYS) {
        TEST_SKIP("backend not built on this platform");
    }
    ASSERT_OK(rc);
    return kind;
}

/* Options for a loop on the backend under test. */
static inline void test_loop_options(struct evl_loop_options *o)
{
    evl_loop_options_init(o);
    o->backend = test_backend();
}

static inline void test_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    ASSERT_TRUE(fl >= 0);
    ASSERT_EQ(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* A pipe with both ends non-blocking. */
static inline void test_pipe(int p[2])
{
    ASSERT_EQ(pipe(p), 0);
    test_nonblock(p[0]);
    test_nonblock(p[1]);
}

static inline void test_write1(int fd)
{
    char c = 'x';
    ASSERT_EQ(write(fd, &c, 1), 1);
}

#endif

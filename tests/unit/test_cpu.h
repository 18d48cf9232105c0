/*
 * CPU pinning for the tests of the adaptive spins: a spinning loop keeps a producer or a
 * peer that shares its CPU off it, so those tests put the two threads on different CPUs when
 * the process may use two.
 */
#ifndef EVL_TEST_CPU_H
#define EVL_TEST_CPU_H

#include "evl_test.h"

#include <pthread.h>
#include <sched.h>

/* Two CPUs this process may run on, or both -1 when it has fewer (then nothing is pinned). */
static inline void test_two_cpus(int *a, int *b)
{
    cpu_set_t set;
    *a = -1;
    *b = -1;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return;
    }
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            if (*a < 0) {
                *a = c;
            } else {
                *b = c;
                return;
            }
        }
    }
    *a = -1;
}

/* Pins the calling thread to cpu; -1 leaves it free. */
static inline void test_pin_self(int cpu)
{
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
    }
}

#endif

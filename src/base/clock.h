/*
 * The monotonic clock: real time in nanoseconds, whatever clock a loop was given
 * (options.clock drives timers; this one measures spins, waits and rate windows, and is the
 * loop's clock by default).
 */
#ifndef EVL_BASE_CLOCK_H
#define EVL_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns. Thread-safe. Inline: the adaptive spin reads it between looks at
 * the submit lanes, where a call more per look shows. */
static inline uint64_t evl__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* The CPU the calling thread runs on, or -1 where unknown (cheap: vDSO/rseq). */
int evl__current_cpu(void);

#endif

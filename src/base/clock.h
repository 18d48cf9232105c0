/*
 * The monotonic clock: real time in nanoseconds, whatever clock a loop was given
 * (options.clock drives timers; this one measures spins, waits and rate windows).
 */
#ifndef EVL_BASE_CLOCK_H
#define EVL_BASE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns. Thread-safe. */
uint64_t evl__monotonic_ns(void);

/* The CPU the calling thread runs on, or -1 where unknown (cheap: vDSO/rseq). */
int evl__current_cpu(void);

#endif

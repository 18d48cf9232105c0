/*
 * Shared by the stress tests (tests/stress/). Each test is sized to take a few seconds in a
 * regular build; EVL_STRESS_SCALE (a factor, default 1) shrinks or grows every count, and
 * the sanitizer and valgrind builds set it (tests/stress/CMakeLists.txt) so that they check
 * the same interleavings on smaller numbers. Also: a seeded generator (the seed is printed,
 * EVL_STRESS_SEED replays one) and the process's resident set and open-fd count.
 */
#ifndef EVL_STRESS_H
#define EVL_STRESS_H

#include "evl_test.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

static inline double stress_scale(void)
{
    const char *s = getenv("EVL_STRESS_SCALE");
    if (!s || !*s) {
        return 1.0;
    }
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0.0) || v > 100.0) {
        evl_test_fail(__FILE__, __LINE__, "EVL_STRESS_SCALE=%s: expected a factor in (0, 100]", s);
    }
    return v;
}

/* full scaled by EVL_STRESS_SCALE, at least min. */
static inline uint64_t stress_count(uint64_t full, uint64_t min)
{
    double v = (double)full * stress_scale();
    uint64_t n = v < 1.0 ? 0 : (uint64_t)v;
    return n < min ? min : n;
}

/* xorshift64*: small, fast and good enough to pick indices. */
struct stress_rng {
    uint64_t s;
};

static inline uint64_t stress_rng_next(struct stress_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * UINT64_C(2685821657736338717);
}

/* A value in [0, n). */
static inline uint64_t stress_rng_below(struct stress_rng *r, uint64_t n)
{
    return n ? stress_rng_next(r) % n : 0;
}

/* The run's seed: EVL_STRESS_SEED if set, else from the clock; printed so that a failing
 * run can be replayed. */
static inline uint64_t stress_seed(const char *test)
{
    const char *s = getenv("EVL_STRESS_SEED");
    uint64_t seed = 0;
    if (s && *s) {
        seed = strtoull(s, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
    }
    if (seed == 0) {
        seed = 1;
    }
    printf("%s: seed %" PRIu64 " (EVL_STRESS_SEED replays it), scale %g\n", test, seed,
           stress_scale());
    fflush(stdout);
    return seed;
}

/* Resident set in KiB (/proc/self/statm), 0 if unknown. */
static inline uint64_t stress_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0;
    unsigned long long resident = 0;
    if (!f) {
        return 0;
    }
    int got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (got != 2) {
        return 0;
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}

/* Open descriptors of this process (/proc/self/fd, less the directory's own), -1 if unknown. */
static inline int stress_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - 1;
}

static inline uint64_t stress_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif

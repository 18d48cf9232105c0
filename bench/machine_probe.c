/*
 * The machine's primitive costs, printed next to the results because they bound what any
 * event loop can do here: a clock read, a system call, a wake-up through eventfd, an empty
 * epoll_wait, a first-touch page fault, an uncontended mutex, an atomic add, a thread
 * wake-up round trip through semaphores, and a cache-line round trip between two spinning
 * threads. Same line format as the benchmark programs, library "machine".
 */
#include "bench_common.h"

#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define REPEAT(n, body)                         \
    do {                                        \
        for (uint64_t k_ = 0; k_ < (n); k_++) { \
            body;                               \
        }                                       \
    } while (0)

static double per_op(uint64_t t0, uint64_t n)
{
    return (double)(bench_now_ns() - t0) / (double)n;
}

static void w_clock(uint64_t n)
{
    struct timespec ts;
    uint64_t t0 = bench_now_ns();
    REPEAT(n, clock_gettime(CLOCK_MONOTONIC, &ts));
    bench_report("probe_clock_gettime", n, per_op(t0, n), NULL);
}

static void w_syscall(uint64_t n)
{
    uint64_t t0 = bench_now_ns();
    REPEAT(n, syscall(SYS_getppid));
    bench_report("probe_syscall", n, per_op(t0, n), "call getppid");
}

static void w_eventfd(uint64_t n)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    uint64_t v = 1;
    BENCH_CHECK(fd >= 0, "eventfd: %s", strerror(errno));
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        BENCH_CHECK(write(fd, &v, sizeof(v)) == sizeof(v), "eventfd write");
        BENCH_CHECK(read(fd, &v, sizeof(v)) == sizeof(v), "eventfd read");
    }
    bench_report("probe_eventfd_write_read", n, per_op(t0, n), NULL);
    close(fd);
}

static void w_epoll(uint64_t n)
{
    int ep = epoll_create1(0);
    struct epoll_event ev;
    BENCH_CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    uint64_t t0 = bench_now_ns();
    REPEAT(n, epoll_wait(ep, &ev, 1, 0));
    bench_report("probe_epoll_wait0", n, per_op(t0, n), NULL);
    close(ep);
}

static void w_pagefault(uint64_t n)
{
    size_t len = (size_t)n * 4096u;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < len; i += 4096u) {
        p[i] = 1;
    }
    bench_report("probe_page_fault", n, per_op(t0, n), "first-touch 4KiB");
    munmap(p, len);
}

static void w_mutex(uint64_t n)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    uint64_t t0 = bench_now_ns();
    REPEAT(n, pthread_mutex_lock(&m); pthread_mutex_unlock(&m));
    bench_report("probe_mutex", n, per_op(t0, n), "uncontended lock+unlock");
}

static void w_atomic(uint64_t n)
{
    atomic_uint_fast64_t a = 0;
    uint64_t t0 = bench_now_ns();
    REPEAT(n, atomic_fetch_add(&a, 1));
    BENCH_CHECK(atomic_load(&a) == n, "atomic count");
    bench_report("probe_atomic_add", n, per_op(t0, n), NULL);
}

/* ---- two-thread round trips ---- */

static sem_t ping_sem;
static sem_t pong_sem;
static atomic_uint_fast64_t ball;
static uint64_t rounds;

static void *sem_peer(void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < rounds; i++) {
        while (sem_wait(&ping_sem) != 0) {
        }
        sem_post(&pong_sem);
    }
    return NULL;
}

static void *spin_peer(void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < rounds; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {
            BENCH_CPU_RELAX();
        }
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static void w_wake(uint64_t n)
{
    pthread_t t;
    uint64_t *s = bench_alloc(n, sizeof(*s));
    rounds = n;
    sem_init(&ping_sem, 0, 0);
    sem_init(&pong_sem, 0, 0);
    pthread_create(&t, NULL, sem_peer, NULL);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns();
        sem_post(&ping_sem);
        while (sem_wait(&pong_sem) != 0) {
        }
        s[i] = bench_now_ns() - t0;
    }
    pthread_join(t, NULL);
    uint64_t p50 = bench_quantile(s, n, 0.5, 0);
    bench_report("probe_thread_wake_rt", n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64,
                 bench_quantile(s, n, 0.1, 1), bench_quantile(s, n, 0.99, 1));
    sem_destroy(&ping_sem);
    sem_destroy(&pong_sem);
    free(s);
}

static void w_cacheline(uint64_t n)
{
    pthread_t t;
    rounds = n;
    atomic_store(&ball, 0);
    pthread_create(&t, NULL, spin_peer, NULL);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {
            BENCH_CPU_RELAX();
        }
    }
    double ns = per_op(t0, n);
    pthread_join(t, NULL);
    bench_report("probe_cacheline_rt", n, ns, "two spinning threads");
}

static const struct bench_workload workloads[] = {
    {"clock", w_clock, 1000000, 1000000},      {"syscall", w_syscall, 200000, 100000},
    {"eventfd", w_eventfd, 100000, 50000},     {"epoll", w_epoll, 100000, 50000},
    {"pagefault", w_pagefault, 4096, 2048},    {"mutex", w_mutex, 1000000, 1000000},
    {"atomic", w_atomic, 1000000, 1000000},    {"wake", w_wake, 5000, 2000},
    {"cacheline", w_cacheline, 100000, 20000},
};

int main(int argc, char **argv)
{
    bench_lib = "machine";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

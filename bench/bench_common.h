/*
 * Shared harness for every benchmark program (evl and its peers): argument parsing, clocks,
 * result lines and the checks every library's version of a workload shares. Header-only, so
 * each program builds from one .c file plus its own library; the peer programs also share
 * their workloads' skeletons through peer_common.h.
 *
 * Each program is a table of workloads; main() calls bench_main(), which parses
 *   --quick        smaller op counts (make bench QUICK=1)
 *   --only a,b     run only the named workloads (exact names)
 *   --n N          force the op count of every selected workload (callgrind mode)
 *   --no-warmup    skip untimed warm-up passes (callgrind counts every instruction)
 *   --list         print the workload names and exit
 * Each workload prints one line:
 *   NAME LIBRARY ops N ns_per_op X [key value]...
 * or, when it cannot run:
 *   NAME LIBRARY n/a REASON...
 * A workload that detects a wrong result (lost callback, broken order the library promises)
 * prints "FAIL ..." on stderr and the program exits with status 1, so a broken run can never
 * print a fast number.
 *
 * The harness's own arrays come from calloc: they belong to the benchmark, not to any of the
 * measured libraries, and the peer programs do not link libevl.
 */
#ifndef EVL_BENCH_COMMON_H
#define EVL_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define BENCH_CPU_RELAX() __builtin_ia32_pause()
#else
#define BENCH_CPU_RELAX() ((void)0)
#endif

/* The library name printed in the second column, set by each program. */
static const char *bench_lib = "?";
static const char *bench_current = "?";
static int bench_quick;
/* 0 with --no-warmup (callgrind mode): workloads skip their untimed warm-up pass. */
static int bench_warmup = 1;

/*
 * Latency workloads stop early when they exceed this wall-time budget (after at least 100
 * samples), so that a library whose tail explodes on a loaded machine cannot stall the
 * suite; the line then reports the samples actually taken.
 */
static inline uint64_t bench_budget_ns(void)
{
    return bench_quick ? 2000000000u : 8000000000u;
}

struct bench_workload {
    const char *name;
    void (*fn)(uint64_t n);
    uint64_t n_full;
    uint64_t n_quick;
};

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what the loop thread itself spent, sleeping excluded. */
static inline uint64_t bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void bench_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s %s: ", bench_current, bench_lib);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stdout);
    exit(1);
}

#define BENCH_CHECK(cond, ...)       \
    do {                             \
        if (!(cond)) {               \
            bench_fail(__VA_ARGS__); \
        }                            \
    } while (0)

static inline void *bench_alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    BENCH_CHECK(p != NULL, "out of memory (%zu x %zu)", n, size);
    /* Touch every page now: a first-touch page fault costs microseconds on a VM and must
     * not land inside a timed region. */
    memset(p, 0, (n ? n : 1) * size);
    return p;
}

/* Prints the result line; extra is a preformatted " key value ..." string or "". */
static inline void bench_report(const char *name, uint64_t ops, double ns_per_op, const char *fmt,
                                ...) __attribute__((format(printf, 4, 5)));
static inline void bench_report(const char *name, uint64_t ops, double ns_per_op, const char *fmt,
                                ...)
{
    printf("%s %s ops %" PRIu64 " ns_per_op %.2f", name, bench_lib, ops, ns_per_op);
    if (fmt != NULL && fmt[0] != '\0') {
        va_list ap;
        va_start(ap, fmt);
        putchar(' ');
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
}

/* A memory line: bytes per object, no timing. */
static inline void bench_report_bytes(const char *name, uint64_t ops, double bytes, const char *how)
{
    printf("%s %s ops %" PRIu64 " bytes_per_op %.1f method %s\n", name, bench_lib, ops, bytes, how);
    fflush(stdout);
}

static inline void bench_report_na(const char *name, const char *why)
{
    printf("%s %s n/a %s\n", name, bench_lib, why);
    fflush(stdout);
}

/* xorshift64*: deterministic and cheap, so every library sees the same random deadlines. */
static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns the q-quantile (0 <= q <= 1). */
static inline uint64_t bench_quantile(uint64_t *v, uint64_t n, double q, int sorted)
{
    if (n == 0) {
        return 0;
    }
    if (!sorted) {
        qsort(v, n, sizeof(*v), bench_cmp_u64);
    }
    uint64_t i = (uint64_t)(q * (double)(n - 1) + 0.5);
    return v[i];
}

/*
 * The peers' best cross-thread idiom (what libuv's own docs suggest): a preallocated queue
 * under a mutex, filled by producers and swapped out whole by the loop thread, followed by
 * the library's async wake (which deduplicates wake-ups itself).
 */
struct bench_item {
    void (*fn)(void *arg);
    void *arg;
};

struct bench_mq {
    pthread_mutex_t lock;
    struct bench_item *fill; /* producers append here */
    struct bench_item *spare;
    size_t len;
    size_t cap;
};

static inline void bench_mq_init(struct bench_mq *q, size_t cap)
{
    pthread_mutex_init(&q->lock, NULL);
    q->fill = bench_alloc(cap, sizeof(*q->fill));
    q->spare = bench_alloc(cap, sizeof(*q->spare));
    q->len = 0;
    q->cap = cap;
}

static inline void bench_mq_deinit(struct bench_mq *q)
{
    free(q->fill);
    free(q->spare);
    pthread_mutex_destroy(&q->lock);
}

static inline void bench_mq_push(struct bench_mq *q, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&q->lock);
    BENCH_CHECK(q->len < q->cap, "preallocated queue overflow");
    q->fill[q->len].fn = fn;
    q->fill[q->len].arg = arg;
    q->len++;
    pthread_mutex_unlock(&q->lock);
}

/* Loop thread: takes the whole batch under the lock, runs it outside. */
static inline size_t bench_mq_drain(struct bench_mq *q)
{
    pthread_mutex_lock(&q->lock);
    struct bench_item *batch = q->fill;
    size_t n = q->len;
    q->fill = q->spare;
    q->spare = batch;
    q->len = 0;
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < n; i++) {
        batch[i].fn(batch[i].arg);
    }
    return n;
}

/*
 * Submit-workload bookkeeping shared by all programs: each task carries (producer, seq) in
 * its argument and checks per-producer FIFO order.
 */
#define BENCH_MAX_PRODUCERS 8
struct bench_submit_state {
    uint64_t expected[BENCH_MAX_PRODUCERS];
    uint64_t done;
    uint64_t total;
    uint64_t t_end;
    uint64_t violations;
};
static struct bench_submit_state bench_sub;

static inline void *bench_submit_arg(unsigned producer, uint64_t seq)
{
    return (void *)(uintptr_t)(((uint64_t)producer << 48) | seq);
}

/* Returns 1 when this was the last task. */
static inline int bench_submit_account(void *arg)
{
    uint64_t v = (uint64_t)(uintptr_t)arg;
    unsigned p = (unsigned)(v >> 48);
    uint64_t seq = v & ((1ULL << 48) - 1);
    if (seq != bench_sub.expected[p]) {
        bench_sub.violations++;
    }
    bench_sub.expected[p] = seq + 1;
    if (++bench_sub.done == bench_sub.total) {
        bench_sub.t_end = bench_now_ns();
        return 1;
    }
    return 0;
}

static inline void bench_submit_reset(uint64_t total)
{
    memset(&bench_sub, 0, sizeof(bench_sub));
    bench_sub.total = total;
}

static inline void bench_submit_verify(unsigned producers, uint64_t per_producer)
{
    BENCH_CHECK(bench_sub.done == bench_sub.total, "ran %" PRIu64 " of %" PRIu64 " tasks",
                bench_sub.done, bench_sub.total);
    BENCH_CHECK(bench_sub.violations == 0, "%" PRIu64 " per-producer FIFO violations",
                bench_sub.violations);
    for (unsigned p = 0; p < producers; p++) {
        BENCH_CHECK(bench_sub.expected[p] == per_producer, "producer %u ran %" PRIu64 " tasks", p,
                    bench_sub.expected[p]);
    }
}

/* A start line for producer threads, so that thread creation is not timed. */
struct bench_gate {
    atomic_int open;
};

static inline void bench_gate_wait(struct bench_gate *g)
{
    while (!atomic_load_explicit(&g->open, memory_order_acquire)) {
        BENCH_CPU_RELAX();
    }
}

/*
 * 100k timers spread over 100 ms. Each timer's deadline is bracketed by two clock reads
 * around the library call: lo = before + delay, hi = after + delay (the library reads its
 * own clock somewhere in between, or uses a cached loop time before it). A fire before lo
 * is "early"; lateness is measured from lo. An "order violation" is a timer firing after
 * one whose deadline was certainly later: its hi (plus a tolerance for clock granularity)
 * is below the largest lo fired so far.
 *
 * All timers are scheduled from one callback, which holds the loop for milliseconds (the
 * library calls plus these clock reads): a timer due before that callback returns cannot
 * run earlier under any run-to-completion loop. "Loop lateness" therefore counts from
 * max(lo, end of the scheduling burst): the delay the loop itself adds.
 */
#define BENCH_SPREAD_TOLERANCE_NS 100000u
struct bench_spread {
    uint64_t *lo;
    uint64_t *hi;
    int64_t *late;
    int64_t *loop_late;
    uint64_t burst_end; /* the clock after the latest scheduling call */
    uint64_t max_lo;
    uint64_t order;
    uint64_t fired;
};
static struct bench_spread bench_spr;

static inline void bench_spread_init(uint64_t n)
{
    memset(&bench_spr, 0, sizeof(bench_spr));
    bench_spr.lo = bench_alloc(n, sizeof(*bench_spr.lo));
    bench_spr.hi = bench_alloc(n, sizeof(*bench_spr.hi));
    bench_spr.late = bench_alloc(n, sizeof(*bench_spr.late));
    bench_spr.loop_late = bench_alloc(n, sizeof(*bench_spr.loop_late));
}

/* Call just before scheduling timer i with delay_ms... */
static inline void bench_spread_schedule(uint64_t i, uint64_t delay_ms)
{
    bench_spr.lo[i] = bench_now_ns() + delay_ms * 1000000u;
}

/*
 * signal_rt: a signal sent to an idle process reaches the loop's callback. A sender thread
 * (with the signal blocked, so the kernel delivers it to the loop's thread, asleep in its
 * poll) waits until the previous delivery was handled, lets the loop go back to sleep for
 * 200 us, stamps the time and signals the process; the library's signal callback calls
 * bench_sig_delivered. Reported: the median latency, with p10 and p99.
 */
#include <signal.h>

struct bench_sig {
    uint64_t *samples;
    uint64_t n;
    _Atomic uint64_t done;
    _Atomic uint64_t t0;
    int signum;
};

static struct bench_sig bench_sig;

static void *bench_sig_sender(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, bench_sig.signum);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    uint64_t deadline = bench_now_ns() + bench_budget_ns();
    for (uint64_t i = 0; i < bench_sig.n; i++) {
        while (atomic_load(&bench_sig.done) < i) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
        struct timespec idle = {0, 200000};
        nanosleep(&idle, NULL);
        if (i >= 100 && bench_now_ns() > deadline) {
            bench_sig.n = i; /* over the time budget: report what was measured */
        }
        atomic_store(&bench_sig.t0, bench_now_ns());
        kill(getpid(), bench_sig.signum);
    }
    return NULL;
}

/* Starts the sender for n deliveries of signum (after the library's watcher is started). */
static inline void bench_sig_start(pthread_t *th, int signum, uint64_t n)
{
    bench_sig.samples = bench_alloc(n, sizeof(*bench_sig.samples));
    bench_sig.n = n;
    bench_sig.signum = signum;
    atomic_store(&bench_sig.done, 0);
    pthread_create(th, NULL, bench_sig_sender, NULL);
}

/* In the library's callback: records one latency; returns nonzero once all n arrived. */
static inline int bench_sig_delivered(uint32_t count)
{
    uint64_t now = bench_now_ns();
    uint64_t i = atomic_load(&bench_sig.done);
    BENCH_CHECK(count >= 1, "signal count %u", (unsigned)count);
    bench_sig.samples[i] = now - atomic_load(&bench_sig.t0);
    atomic_store(&bench_sig.done, i + 1);
    return i + 1 >= bench_sig.n;
}

static inline void bench_sig_finish(pthread_t th, const char *how)
{
    pthread_join(th, NULL);
    uint64_t n = bench_sig.n;
    BENCH_CHECK(atomic_load(&bench_sig.done) == n, "%" PRIu64 " of %" PRIu64 " signals",
                atomic_load(&bench_sig.done), n);
    uint64_t p50 = bench_quantile(bench_sig.samples, n, 0.5, 0);
    bench_report("signal_rt", n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64 " idiom %s",
                 bench_quantile(bench_sig.samples, n, 0.1, 1),
                 bench_quantile(bench_sig.samples, n, 0.99, 1), how);
    free(bench_sig.samples);
}

/* ...and just after. */
static inline void bench_spread_scheduled(uint64_t i, uint64_t delay_ms)
{
    bench_spr.burst_end = bench_now_ns();
    bench_spr.hi[i] = bench_spr.burst_end + delay_ms * 1000000u;
}

static inline void bench_spread_fire(uint64_t i)
{
    uint64_t now = bench_now_ns();
    uint64_t ready = bench_spr.lo[i] > bench_spr.burst_end ? bench_spr.lo[i] : bench_spr.burst_end;
    bench_spr.loop_late[bench_spr.fired] = (int64_t)(now - ready);
    bench_spr.late[bench_spr.fired++] = (int64_t)(now - bench_spr.lo[i]);
    if (bench_spr.hi[i] + BENCH_SPREAD_TOLERANCE_NS < bench_spr.max_lo) {
        bench_spr.order++;
    }
    if (bench_spr.lo[i] > bench_spr.max_lo) {
        bench_spr.max_lo = bench_spr.lo[i];
    }
}

static inline void bench_spread_report(uint64_t n, uint64_t cpu_ns)
{
    uint64_t early = 0;
    int64_t worst_early = 0;
    BENCH_CHECK(bench_spr.fired == n, "fired %" PRIu64 " of %" PRIu64, bench_spr.fired, n);
    uint64_t *late = bench_alloc(n, sizeof(*late));
    for (uint64_t i = 0; i < n; i++) {
        if (bench_spr.late[i] < 0) {
            early++;
            if (bench_spr.late[i] < worst_early) {
                worst_early = bench_spr.late[i];
            }
            late[i] = 0;
        } else {
            late[i] = (uint64_t)bench_spr.late[i];
        }
    }
    uint64_t p50 = bench_quantile(late, n, 0.5, 0);
    uint64_t p99 = bench_quantile(late, n, 0.99, 1);
    for (uint64_t i = 0; i < n; i++) {
        late[i] = bench_spr.loop_late[i] < 0 ? 0 : (uint64_t)bench_spr.loop_late[i];
    }
    uint64_t loop_p99 = bench_quantile(late, n, 0.99, 0);
    bench_report("timers_spread", n, (double)cpu_ns / (double)n,
                 "late_p50_us %.1f late_p99_us %.1f loop_late_p99_us %.1f early %" PRIu64
                 " worst_early_us %.1f order_viol %" PRIu64,
                 (double)p50 / 1e3, (double)p99 / 1e3, (double)loop_p99 / 1e3, early,
                 (double)-worst_early / 1e3, bench_spr.order);
    free(late);
    free(bench_spr.lo);
    free(bench_spr.hi);
    free(bench_spr.late);
    free(bench_spr.loop_late);
}

static inline int bench_selected(const char *only, const char *name)
{
    if (only == NULL) {
        return 1;
    }
    size_t len = strlen(name);
    const char *p = only;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (plen == len && strncmp(p, name, len) == 0) {
            return 1;
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    return 0;
}

static inline uint64_t bench_parse_u64(const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, "bad number: %s\n", s);
        exit(2);
    }
    return (uint64_t)v;
}

static inline int bench_main(int argc, char **argv, const struct bench_workload *w, size_t count)
{
    const char *only = NULL;
    uint64_t forced = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            bench_quick = 1;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            forced = bench_parse_u64(argv[++i]);
        } else if (strcmp(argv[i], "--no-warmup") == 0) {
            bench_warmup = 0;
        } else if (strcmp(argv[i], "--list") == 0) {
            for (size_t k = 0; k < count; k++) {
                printf("%s\n", w[k].name);
            }
            return 0;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--only a,b] [--n N] [--no-warmup] [--list]\n",
                    argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t k = 0; k < count; k++) {
        if (!bench_selected(only, w[k].name)) {
            continue;
        }
        bench_current = w[k].name;
        uint64_t n = forced ? forced : (bench_quick ? w[k].n_quick : w[k].n_full);
        w[k].fn(n);
    }
    return 0;
}

#endif

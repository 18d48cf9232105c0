/*
 * The C half of the soak (scripts/soak.sh): churns timers, fds, pool jobs and promises on
 * one loop for a given number of seconds while the script samples this process's resident
 * set and open fds from outside. Every millisecond a tick sets 40 timeouts with random
 * delays and clears half of them (from the loop thread, plus a few from a helper thread),
 * replaces two of 16 watched socketpairs and writes to random ends, submits 8 pool jobs
 * whose promises are checked, runs a promise chain with a rejection, an adoption and
 * finally, and queues an immediate, a nextTick and a microtask. At the end the work must
 * balance (timers fired + cleared = set, bytes written = read, jobs settled = submitted,
 * chains completed = started) and, with the tracking allocator on, nothing may be left.
 *
 *   soak_churn SECONDS
 * prints one summary line and exits 0, or prints FAIL lines and exits 1.
 */
#include "evl.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAIRS       16
#define TICK_TIMERS 40
#define TICK_JOBS   8
#define CHAIN       10

static struct evl_loop *loop;
static struct evl_pool *pool;
static uint64_t end_ns;
static uint64_t tick_id;
static int failures;
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static struct {
    uint64_t ticks, timers_set, timers_fired, timers_cleared, foreign_clears;
    uint64_t bytes_written, bytes_read, pairs_replaced;
    uint64_t jobs, jobs_done, chains, chains_done, immediates, ticks_run, microtasks;
} c;

/* Counts a failed check; the first ten are printed. */
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond) && failures++ < 10) {                                 \
            fprintf(stderr, "FAIL soak_churn:%d: %s\n", __LINE__, #cond); \
        }                                                                 \
    } while (0)

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

/* ---- timers, and clears from another thread ---- */

#define FOREIGN_SLOTS 256
static _Atomic uint64_t foreign_ids[FOREIGN_SLOTS];
static atomic_int foreign_stop;
static pthread_t foreign;

static void timer_cb(struct evl_loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    (void)arg;
    c.timers_fired++;
}

/* Clears whatever id it finds in its slots; the loop counts a timer as cleared only when
 * its own clear succeeds, so a foreign clear shows as a timer that neither fired nor was
 * cleared by the loop, and is counted through the sets that never fire (see the balance). */
static void *foreign_main(void *arg)
{
    (void)arg;
    uint64_t k = 0;
    while (!atomic_load(&foreign_stop)) {
        uint64_t id = atomic_exchange(&foreign_ids[k++ % FOREIGN_SLOTS], 0);
        if (id) {
            CHECK(evl_timer_clear(loop, id) == 0 || evl_loop_state(loop) >= EVL_LOOP_TERMINATING);
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- fds ---- */

struct pair {
    int fd[2];
    uint64_t sent[2]; /* bytes written for end i to read */
    uint64_t got[2];
};
static struct pair pairs[PAIRS];

static void fd_cb(struct evl_loop *l, int fd, int status, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    uintptr_t v = (uintptr_t)arg;
    struct pair *p = &pairs[v >> 1];
    int side = (int)(v & 1);
    CHECK(status == 0 && fd == p->fd[side]);
    char buf[512];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0) {
            break;
        }
        p->got[side] += (uint64_t)r;
        c.bytes_read += (uint64_t)r;
    }
}

static void pair_open(int i)
{
    struct pair *p = &pairs[i];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p->fd) == 0);
    for (int s = 0; s < 2; s++) {
        p->sent[s] = p->got[s] = 0;
        CHECK(evl_fd_start(loop, p->fd[s], EVL_READABLE, fd_cb, (void *)(uintptr_t)(i * 2 + s)) ==
              0);
    }
}

static void pair_close(int i)
{
    struct pair *p = &pairs[i];
    for (int s = 0; s < 2; s++) {
        char buf[512];
        for (;;) {
            ssize_t r = read(p->fd[s], buf, sizeof(buf));
            if (r <= 0) {
                break;
            }
            p->got[s] += (uint64_t)r;
            c.bytes_read += (uint64_t)r;
        }
        CHECK(p->got[s] == p->sent[s]);
    }
    for (int s = 0; s < 2; s++) {
        CHECK(evl_fd_stop(loop, p->fd[s]) == 0);
        close(p->fd[s]);
    }
}

/* ---- pool jobs ---- */

static void value_free(struct evl_loop *l, void *ptr)
{
    (void)l;
    evl_free(ptr);
}

static int work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    uint64_t n = (uint64_t)(uintptr_t)arg;
    uint64_t *v = evl_malloc(sizeof(*v));
    if (!v) {
        return EVL_ENOMEM;
    }
    *v = n * n;
    *value_out = v;
    *dtor_out = value_free;
    return 0;
}

static void job_done(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)result;
    uint64_t n = (uint64_t)(uintptr_t)arg;
    CHECK(value && *(uint64_t *)value == n * n);
    c.jobs_done++;
}

/* ---- promises ---- */

static void link_cb(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    uint64_t k = (uint64_t)(uintptr_t)arg;
    uint64_t v = (uint64_t)(uintptr_t)value;
    if (k == 4) {
        evl_result_reject(result, (void *)(uintptr_t)(v + 1), NULL);
    } else if (k == 6) {
        struct evl_promise *q;
        CHECK(evl_promise_resolved(l, (void *)(uintptr_t)(v + 1), NULL, &q) == 0);
        evl_result_resolve_promise(result, q);
        evl_promise_release(q);
    } else {
        evl_result_resolve(result, (void *)(uintptr_t)(v + 1), NULL);
    }
}

static void recover_cb(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)arg;
    evl_result_resolve(result, value, NULL);
}

static void chain_end(struct evl_loop *l, void *value, void *arg, struct evl_result *result)
{
    (void)l;
    (void)arg;
    (void)result;
    /* Each link adds one, except the recovery, which passes the rejection's value on. */
    CHECK((uint64_t)(uintptr_t)value == CHAIN - 1);
    c.chains_done++;
}

static void start_chain(void)
{
    struct evl_promise *root;
    CHECK(evl_promise_new(loop, &root) == 0);
    struct evl_promise *p = evl_promise_retain(root);
    for (uint64_t k = 0; k < CHAIN; k++) {
        struct evl_promise *next;
        CHECK(evl_promise_then(p, link_cb, k == 5 ? recover_cb : NULL, (void *)(uintptr_t)k, NULL,
                               &next) == 0);
        evl_promise_release(p);
        p = next;
    }
    struct evl_promise *fin;
    CHECK(evl_promise_finally(p, NULL, NULL, NULL, &fin) == 0);
    CHECK(evl_promise_then(fin, chain_end, NULL, NULL, NULL, NULL) == 0);
    CHECK(evl_promise_resolve(root, (void *)0, NULL) == 0);
    evl_promise_release(root);
    evl_promise_release(p);
    evl_promise_release(fin);
    c.chains++;
}

/* ---- immediates, nextTicks, microtasks ---- */

static void micro_cb(struct evl_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    c.microtasks++;
}

static void next_tick_cb(struct evl_loop *l, void *arg)
{
    (void)arg;
    c.ticks_run++;
    CHECK(evl_queue_microtask(l, micro_cb, NULL) == 0);
}

static void immediate_cb(struct evl_loop *l, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    c.immediates++;
    CHECK(evl_next_tick(l, next_tick_cb, NULL) == 0);
}

/* ---- the tick ---- */

static void tick_cb(struct evl_loop *l, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    c.ticks++;
    if (c.ticks % 10000 == 0) {
        /* The library's own live bytes next to what the sampler sees from outside (RSS
         * also counts the C library's arenas and the workers' stacks). */
        struct evl_alloc_stats st;
        evl_alloc_stats(&st);
        printf("soak_churn: tick %" PRIu64 ": %" PRIu64 " live blocks, %" PRIu64
               " live bytes (peak %" PRIu64 ")\n",
               c.ticks, st.live_blocks, st.live_bytes, st.peak_bytes);
        fflush(stdout);
    }
    uint64_t ids[TICK_TIMERS];
    for (int i = 0; i < TICK_TIMERS; i++) {
        CHECK(evl_timer_set(l, timer_cb, NULL, rnd(20), 0, &ids[i]) == 0);
        c.timers_set++;
    }
    for (int i = 0; i < TICK_TIMERS; i += 2) {
        if (evl_timer_clear(l, ids[i]) == 0) {
            c.timers_cleared++;
        }
    }
    /* One timer a tick goes to the other thread to clear (if its slot is free). */
    uint64_t expected = 0;
    if (atomic_compare_exchange_strong(&foreign_ids[c.ticks % FOREIGN_SLOTS], &expected, ids[1])) {
        c.foreign_clears++;
    }
    for (int k = 0; k < 2; k++) {
        int i = (int)rnd(PAIRS);
        pair_close(i);
        pair_open(i);
        c.pairs_replaced++;
    }
    for (int k = 0; k < 8; k++) {
        struct pair *p = &pairs[rnd(PAIRS)];
        int side = (int)rnd(2);
        char buf[64] = {0};
        size_t len = 1 + rnd(sizeof(buf));
        ssize_t w = write(p->fd[!side], buf, len);
        if (w > 0) {
            p->sent[side] += (uint64_t)w;
            c.bytes_written += (uint64_t)w;
        }
    }
    for (int k = 0; k < TICK_JOBS; k++) {
        struct evl_promise *job;
        uint64_t n = c.jobs++;
        CHECK(evl_pool_submit(pool, l, work, (void *)(uintptr_t)n, &job) == 0);
        CHECK(evl_promise_then(job, job_done, NULL, (void *)(uintptr_t)n, NULL, NULL) == 0);
        evl_promise_release(job);
    }
    start_chain();
    CHECK(evl_immediate_set(l, immediate_cb, NULL, NULL) == 0);
    if (evl_loop_now_ns(l) >= end_ns) {
        CHECK(evl_timer_clear(l, tick_id) == 0);
        /* Its last clears are queued before the join returns, so they are applied before
         * the loop can end. */
        atomic_store(&foreign_stop, 1);
        pthread_join(foreign, NULL);
        for (int i = 0; i < PAIRS; i++) {
            pair_close(i);
        }
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0;
    if (!(seconds > 0)) {
        fprintf(stderr, "usage: %s SECONDS\n", argv[0]);
        return 2;
    }
    evl_alloc_tracking_enable();
    if (evl_loop_new(&loop, NULL) != 0 || evl_pool_new(&pool, 2) != 0) {
        fprintf(stderr, "FAIL soak_churn: cannot create the loop or the pool\n");
        return 1;
    }
    for (int i = 0; i < PAIRS; i++) {
        pair_open(i);
    }
    if (pthread_create(&foreign, NULL, foreign_main, NULL) != 0) {
        fprintf(stderr, "FAIL soak_churn: pthread_create\n");
        return 1;
    }
    uint64_t t0 = now_ns();
    end_ns = evl_loop_now_ns(loop) + (uint64_t)(seconds * 1e9);
    CHECK(evl_timer_set(loop, tick_cb, NULL, 1, 1, &tick_id) == 0);
    CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT) == 0);
    for (int i = 0; i < FOREIGN_SLOTS; i++) {
        if (atomic_load(&foreign_ids[i])) {
            c.foreign_clears--; /* handed over, never cleared: it fired */
        }
    }
    /* Every timer set either fired, was cleared by the loop, or by the other thread (a
     * foreign clear of a timer that had already fired clears nothing). */
    CHECK(c.timers_fired + c.timers_cleared <= c.timers_set);
    CHECK(c.timers_set - c.timers_fired - c.timers_cleared <= c.foreign_clears);
    CHECK(c.bytes_written == c.bytes_read);
    CHECK(c.jobs_done == c.jobs);
    CHECK(c.chains_done == c.chains);
    CHECK(c.immediates == c.ticks && c.ticks_run == c.ticks && c.microtasks == c.ticks);
    CHECK(evl_pool_free(pool) == 0);
    CHECK(evl_loop_free(loop) == 0);
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    CHECK(st.live_blocks == 0);
    printf("soak_churn: %.1f s, %" PRIu64 " ticks, timers %" PRIu64 " set / %" PRIu64
           " fired / %" PRIu64 " cleared (+%" PRIu64 " from another thread), %" PRIu64
           " socketpairs replaced, %" PRIu64 " bytes, %" PRIu64 " pool jobs, %" PRIu64
           " promise chains, %" PRIu64 " immediates + nextTicks + microtasks, %d failures\n",
           (double)(now_ns() - t0) / 1e9, c.ticks, c.timers_set, c.timers_fired, c.timers_cleared,
           c.foreign_clears, c.pairs_replaced, c.bytes_written, c.jobs, c.chains, c.immediates * 3,
           failures);
    return failures ? 1 : 0;
}

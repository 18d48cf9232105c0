/*
 * evl side of the loop-core workloads: submit, cross-thread round trip, timers, zero-delay
 * chains and memory per timer/task. The peers' versions are uv_bench.c, ev_bench.c and
 * event_bench.c; see bench_common.h for the output format and docs/performance.md.
 *
 * Timed sections run inside a loop callback, as an application's code would. Workloads
 * that fill evl's internal pools (timer records, task chunks) run once untimed first and
 * report that cold figure as cold_ns: the peers' handles are preallocated and touched
 * before their timed sections, and the steady state is what a long-running program sees.
 */
#include "bench_common.h"

#include <evl.h>
#include <semaphore.h>

#define EVL_CHECK(expr)                                            \
    do {                                                           \
        int rc_ = (expr);                                          \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, evl_strerror(rc_)); \
    } while (0)

/* Set by the *_cached workloads: their loops read a clock that returns one cached instant
 * instead of CLOCK_MONOTONIC. That is not the semantics (deadlines must come from a
 * fresh read); the rows only show what the timers cost apart from the clock read, which is
 * how libev and libuv work (they use the loop's cached time). */
static int use_cached_clock;
static uint64_t cached_instant;

static uint64_t cached_clock(void *ud)
{
    (void)ud;
    return cached_instant;
}

/* EVL_BENCH_METRICS=1 runs every workload with metrics on at their defaults (=N: timing one
 * callback in N), so bench/run measures the recording cost against a run without. */
static const struct evl_metrics_options *bench_metrics(void)
{
    static struct evl_metrics_options mo;
    const char *v = getenv("EVL_BENCH_METRICS");
    if (v == NULL || *v == '\0' || strcmp(v, "0") == 0) {
        return NULL;
    }
    evl_metrics_options_init(&mo);
    unsigned long every = strtoul(v, NULL, 10);
    if (every > 1) {
        mo.sample_every = (uint32_t)every;
    }
    return &mo;
}

static struct evl_loop *loop_new(uint32_t spin_ns)
{
    struct evl_loop_options o;
    struct evl_loop *loop = NULL;
    evl_loop_options_init(&o);
    o.spin_ns = spin_ns;
    o.metrics = bench_metrics();
    if (use_cached_clock) {
        cached_instant = bench_now_ns();
        o.clock = cached_clock;
    }
    EVL_CHECK(evl_loop_new(&loop, &o));
    return loop;
}

static void loop_free(struct evl_loop *loop)
{
    EVL_CHECK(evl_loop_free(loop));
}

/* Runs body(loop) as a task inside the running loop, then runs the loop until it is empty. */
static void run_in_loop(struct evl_loop *loop, evl_task_cb body, void *arg)
{
    EVL_CHECK(evl_loop_submit(loop, body, arg));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
}

/* ---- submit throughput ---- */

static struct bench_gate gate;
static struct evl_loop *shared_loop;
static uint32_t submit_bound; /* options.max_queued_tasks of the submit workloads; 0: none */

struct producer {
    pthread_t thread;
    unsigned id;
    uint64_t count;
};

static void submit_task(struct evl_loop *loop, void *arg)
{
    if (bench_submit_account(arg)) {
        evl_loop_unref(loop);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    bench_gate_wait(&gate);
    for (uint64_t i = 0; i < p->count; i++) {
        /* With a bound, a full queue is waited for (the producer outruns the loop). */
        int rc = submit_bound
                     ? evl_loop_submit_wait(shared_loop, submit_task, NULL,
                                            bench_submit_arg(p->id, i), UINT64_MAX)
                     : evl_loop_submit(shared_loop, submit_task, bench_submit_arg(p->id, i));
        BENCH_CHECK(rc == 0, "evl_loop_submit: %s", evl_strerror(rc));
    }
    return NULL;
}

static double submit_once(unsigned producers, uint64_t per)
{
    struct producer prod[BENCH_MAX_PRODUCERS];
    bench_submit_reset(per * producers);
    atomic_store(&gate.open, 0);
    /* The producers' work keeps the loop alive until the last task has run. */
    EVL_CHECK(evl_loop_ref(shared_loop));
    for (unsigned i = 0; i < producers; i++) {
        prod[i].id = i;
        prod[i].count = per;
        pthread_create(&prod[i].thread, NULL, producer_main, &prod[i]);
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&gate.open, 1, memory_order_release);
    EVL_CHECK(evl_loop_run(shared_loop, EVL_RUN_DEFAULT));
    for (unsigned i = 0; i < producers; i++) {
        pthread_join(prod[i].thread, NULL);
    }
    bench_submit_verify(producers, per);
    return (double)(bench_sub.t_end - t0) / (double)bench_sub.total;
}

static void submit_run(const char *name, unsigned producers, uint64_t n)
{
    uint64_t per = n / producers;
    if (submit_bound) {
        struct evl_loop_options o;
        evl_loop_options_init(&o);
        o.max_queued_tasks = submit_bound;
        o.metrics = bench_metrics();
        EVL_CHECK(evl_loop_new(&shared_loop, &o));
    } else {
        shared_loop = loop_new(0);
    }
    double cold = bench_warmup ? submit_once(producers, per) : 0;
    double warm = submit_once(producers, per);
    bench_report(name, per * producers, warm, "producers %u cold_ns %.2f", producers, cold);
    loop_free(shared_loop);
}

static void w_submit_1p(uint64_t n)
{
    submit_run("submit_1p", 1, n);
}

static void w_submit_2p(uint64_t n)
{
    submit_run("submit_2p", 2, n);
}

/* The same with a queue bound (docs/overload.md): the cost of the gated path. */
static void w_submit_1p_bounded(uint64_t n)
{
    submit_bound = 65536;
    submit_run("submit_1p_bounded", 1, n);
    submit_bound = 0;
}

/* ---- cross-thread round trip ---- */

static atomic_uint_fast64_t rt_answer;
static sem_t rt_sem;
static int rt_sleeping;
static uint64_t *rt_samples;
static uint64_t rt_count;

static void rt_reply(struct evl_loop *loop, void *arg)
{
    (void)loop;
    if (rt_sleeping) {
        sem_post(&rt_sem);
    } else {
        atomic_store_explicit(&rt_answer, (uint64_t)(uintptr_t)arg, memory_order_release);
    }
}

static void rt_quit(struct evl_loop *loop, void *arg)
{
    (void)arg;
    evl_loop_unref(loop);
}

static void *rt_client(void *arg)
{
    (void)arg;
    uint64_t begin = bench_now_ns();
    uint64_t deadline = begin + bench_budget_ns();
    for (uint64_t i = 0; i < rt_count; i++) {
        uint64_t t0 = bench_now_ns();
        if (i >= 100 && t0 > deadline) {
            rt_count = i;
            break;
        }
        EVL_CHECK(evl_loop_submit(shared_loop, rt_reply, (void *)(uintptr_t)(i + 1)));
        if (rt_sleeping) {
            while (sem_wait(&rt_sem) != 0) {
            }
        } else {
            while (atomic_load_explicit(&rt_answer, memory_order_acquire) != i + 1) {
                BENCH_CPU_RELAX();
            }
        }
        rt_samples[i] = bench_now_ns() - t0;
    }
    EVL_CHECK(evl_loop_submit(shared_loop, rt_quit, NULL));
    return NULL;
}

static void rt_run(const char *name, int sleeping, uint32_t spin_ns, uint64_t n)
{
    pthread_t client;
    rt_sleeping = sleeping;
    rt_count = n;
    rt_samples = bench_alloc(n, sizeof(*rt_samples));
    atomic_store(&rt_answer, 0);
    sem_init(&rt_sem, 0, 0);
    shared_loop = loop_new(spin_ns);
    EVL_CHECK(evl_loop_ref(shared_loop));
    pthread_create(&client, NULL, rt_client, NULL);
    EVL_CHECK(evl_loop_run(shared_loop, EVL_RUN_DEFAULT));
    pthread_join(client, NULL);
    n = rt_count;
    uint64_t p50 = bench_quantile(rt_samples, n, 0.5, 0);
    bench_report(name, n, (double)p50, "p10_ns %" PRIu64 " p99_ns %" PRIu64 " spin_ns %u",
                 bench_quantile(rt_samples, n, 0.10, 1), bench_quantile(rt_samples, n, 0.99, 1),
                 spin_ns);
    loop_free(shared_loop);
    sem_destroy(&rt_sem);
    free(rt_samples);
}

static void w_rt_spin(uint64_t n)
{
    rt_run("rt_spin", 0, 0, n);
}

static void w_rt_sleep(uint64_t n)
{
    rt_run("rt_sleep", 1, 0, n);
}

/* The same spinning client with the loop's own adaptive spin on (options.spin_ns). */
static void w_rt_spin_loopspin(uint64_t n)
{
    rt_run("rt_spin_loopspin", 0, 20000, n);
}

/* ---- timers: start/stop with random deadlines ---- */

static uint64_t fired;

struct startstop {
    uint64_t n;
    uint64_t *delay;
    uint64_t *ids;
    uint64_t start_ns;
    uint64_t stop_ns;
};

static void never_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    fired++;
}

static void startstop_body(struct evl_loop *loop, void *arg)
{
    struct startstop *s = arg;
    uint64_t bad = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < s->n; i++) {
        bad += evl_timer_set(loop, never_cb, NULL, s->delay[i], 0, &s->ids[i]) != 0;
    }
    uint64_t t1 = bench_now_ns();
    BENCH_CHECK(bad == 0, "%" PRIu64 " evl_timer_set calls failed", bad);
    for (uint64_t i = 0; i < s->n; i += 97) {
        BENCH_CHECK(evl_timer_has_ref(loop, s->ids[i]) == 1, "timer %" PRIu64 " not pending", i);
    }
    uint64_t t2 = bench_now_ns();
    for (uint64_t i = 0; i < s->n; i++) {
        bad += evl_timer_clear(loop, s->ids[i]) != 0;
    }
    uint64_t t3 = bench_now_ns();
    BENCH_CHECK(bad == 0, "%" PRIu64 " evl_timer_clear calls failed", bad);
    for (uint64_t i = 0; i < s->n; i += 97) {
        BENCH_CHECK(evl_timer_has_ref(loop, s->ids[i]) == EVL_ENOENT, "timer %" PRIu64 " pending",
                    i);
    }
    s->start_ns = t1 - t0;
    s->stop_ns = t3 - t2;
}

static void w_timer_startstop(uint64_t n)
{
    struct startstop s = {n, bench_alloc(n, sizeof(uint64_t)), bench_alloc(n, sizeof(uint64_t)), 0,
                          0};
    uint64_t rng = 42;
    for (uint64_t i = 0; i < n; i++) {
        s.delay[i] = 1000 + bench_rand(&rng) % 1000000;
    }
    fired = 0;
    struct evl_loop *loop = loop_new(0);
    uint64_t cold_start = 0;
    uint64_t cold_stop = 0;
    if (bench_warmup) {
        run_in_loop(loop, startstop_body, &s);
        cold_start = s.start_ns;
        cold_stop = s.stop_ns;
    }
    run_in_loop(loop, startstop_body, &s);
    BENCH_CHECK(fired == 0, "%" PRIu64 " cleared timers fired", fired);
    bench_report(use_cached_clock ? "timer_start_cached" : "timer_start", n,
                 (double)s.start_ns / (double)n, "cold_ns %.2f", (double)cold_start / (double)n);
    bench_report(use_cached_clock ? "timer_stop_cached" : "timer_stop", n,
                 (double)s.stop_ns / (double)n, "cold_ns %.2f", (double)cold_stop / (double)n);
    loop_free(loop);
    free(s.delay);
    free(s.ids);
}

/* ---- 1M zero-delay timers ---- */

static uint64_t zero_next;
static uint64_t zero_violations;
static uint64_t zero_total;
static uint64_t zero_t0;
static uint64_t zero_end;

static void zero_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    uint64_t seq = (uint64_t)(uintptr_t)arg;
    if (seq != zero_next) {
        zero_violations++;
    }
    zero_next = seq + 1;
    if (++fired == zero_total) {
        zero_end = bench_now_ns();
    }
}

static void zero_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    zero_t0 = bench_now_ns();
    for (uint64_t i = 0; i < zero_total; i++) {
        EVL_CHECK(evl_timer_set(loop, zero_cb, (void *)(uintptr_t)i, 0, 0, NULL));
    }
}

static double zero_once(struct evl_loop *loop, uint64_t n)
{
    fired = 0;
    zero_next = 0;
    zero_violations = 0;
    zero_total = n;
    run_in_loop(loop, zero_body, NULL);
    BENCH_CHECK(fired == n, "fired %" PRIu64 " of %" PRIu64, fired, n);
    BENCH_CHECK(zero_violations == 0, "%" PRIu64 " FIFO violations among equal-delay timers",
                zero_violations);
    return (double)(zero_end - zero_t0) / (double)n;
}

static void w_timers_zero(uint64_t n)
{
    struct evl_loop *loop = loop_new(0);
    double cold = bench_warmup ? zero_once(loop, n) : 0;
    double warm = zero_once(loop, n);
    bench_report(use_cached_clock ? "timers_zero_cached" : "timers_zero", n, warm,
                 "order_viol 0 cold_ns %.2f", cold);
    loop_free(loop);
}

static void w_timer_startstop_cached(uint64_t n)
{
    use_cached_clock = 1;
    w_timer_startstop(n);
    use_cached_clock = 0;
}

static void w_timers_zero_cached(uint64_t n)
{
    use_cached_clock = 1;
    w_timers_zero(n);
    use_cached_clock = 0;
}

/* ---- 100k timers spread over 100 ms ---- */

static void spread_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    bench_spread_fire((uint64_t)(uintptr_t)arg);
}

static uint64_t spread_n;

static void spread_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    uint64_t rng = 7;
    for (uint64_t i = 0; i < spread_n; i++) {
        uint64_t d = 1 + bench_rand(&rng) % 100;
        bench_spread_schedule(i, d);
        EVL_CHECK(evl_timer_set(loop, spread_cb, (void *)(uintptr_t)i, d, 0, NULL));
        bench_spread_scheduled(i, d);
    }
}

static void w_timers_spread(uint64_t n)
{
    struct evl_loop *loop = loop_new(0);
    spread_n = n;
    bench_spread_init(n);
    /* Warm the timer pool (the peers' handles are preallocated and touched too). */
    struct startstop warm = {n, bench_alloc(n, sizeof(uint64_t)), bench_alloc(n, sizeof(uint64_t)),
                             0, 0};
    for (uint64_t i = 0; i < n; i++) {
        warm.delay[i] = 1000000;
    }
    if (bench_warmup) {
        run_in_loop(loop, startstop_body, &warm);
    }
    free(warm.delay);
    free(warm.ids);
    uint64_t c0 = bench_thread_cpu_ns();
    run_in_loop(loop, spread_body, NULL);
    uint64_t cpu = bench_thread_cpu_ns() - c0;
    bench_spread_report(n, cpu);
    loop_free(loop);
}

/* ---- zero-delay self-rescheduling chains ---- */

static uint64_t chain_left;
static uint64_t chain_t0;
static uint64_t chain_end;

static void chain_immediate_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    EVL_CHECK(evl_immediate_set(loop, chain_immediate_cb, arg, NULL));
}

static void chain_timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    EVL_CHECK(evl_timer_set(loop, chain_timer_cb, arg, 0, 0, NULL));
}

static void chain_microtask_cb(struct evl_loop *loop, void *arg)
{
    if (--chain_left == 0) {
        chain_end = bench_now_ns();
        return;
    }
    EVL_CHECK(evl_queue_microtask(loop, chain_microtask_cb, arg));
}

static void chain_start(struct evl_loop *loop, void *arg)
{
    int kind = (int)(uintptr_t)arg;
    chain_t0 = bench_now_ns();
    if (kind == 0) {
        EVL_CHECK(evl_immediate_set(loop, chain_immediate_cb, NULL, NULL));
    } else if (kind == 1) {
        EVL_CHECK(evl_timer_set(loop, chain_timer_cb, NULL, 0, 0, NULL));
    } else {
        EVL_CHECK(evl_queue_microtask(loop, chain_microtask_cb, NULL));
    }
}

static void chain_run(const char *name, int kind, uint64_t n)
{
    struct evl_loop *loop = loop_new(0);
    chain_left = n;
    run_in_loop(loop, chain_start, (void *)(uintptr_t)kind);
    BENCH_CHECK(chain_left == 0, "%" PRIu64 " steps left", chain_left);
    bench_report(name, n, (double)(chain_end - chain_t0) / (double)n, NULL);
    loop_free(loop);
}

static void w_chain_immediate(uint64_t n)
{
    chain_run("chain_immediate", 0, n);
}

static void w_chain_timer(uint64_t n)
{
    chain_run("chain_timer", 1, n);
}

static void w_chain_microtask(uint64_t n)
{
    chain_run("chain_microtask", 2, n);
}

/* ---- memory, through the tracking allocator ---- */

static uint64_t live_bytes(void)
{
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    return st.live_bytes;
}

struct mem_probe {
    uint64_t n;
    uint64_t *ids;
    uint64_t bytes;
};

static void mem_timer_body(struct evl_loop *loop, void *arg)
{
    struct mem_probe *m = arg;
    uint64_t before = live_bytes();
    for (uint64_t i = 0; i < m->n; i++) {
        EVL_CHECK(evl_timer_set(loop, never_cb, NULL, 1000000, 0, &m->ids[i]));
    }
    m->bytes = live_bytes() - before;
    for (uint64_t i = 0; i < m->n; i++) {
        EVL_CHECK(evl_timer_clear(loop, m->ids[i]));
    }
}

static void w_mem_timer(uint64_t n)
{
    struct mem_probe m = {n, bench_alloc(n, sizeof(uint64_t)), 0};
    evl_alloc_tracking_enable();
    struct evl_loop *loop = loop_new(0);
    run_in_loop(loop, mem_timer_body, &m);
    loop_free(loop);
    evl_alloc_tracking_disable();
    bench_report_bytes("mem_timer", n, (double)m.bytes / (double)n, "tracked-live-bytes/N");
    free(m.ids);
}

static void noop_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    fired++;
}

/* Tasks queued from another thread (the producer path), measured before the loop runs. */
static void *mem_task_producer(void *arg)
{
    struct mem_probe *m = arg;
    for (uint64_t i = 0; i < m->n; i++) {
        EVL_CHECK(evl_loop_submit(shared_loop, noop_task, NULL));
    }
    return NULL;
}

static void w_mem_task(uint64_t n)
{
    struct mem_probe m = {n, NULL, 0};
    pthread_t t;
    fired = 0;
    evl_alloc_tracking_enable();
    shared_loop = loop_new(0);
    uint64_t before = live_bytes();
    pthread_create(&t, NULL, mem_task_producer, &m);
    pthread_join(t, NULL);
    m.bytes = live_bytes() - before;
    EVL_CHECK(evl_loop_run(shared_loop, EVL_RUN_DEFAULT));
    BENCH_CHECK(fired == n, "ran %" PRIu64 " of %" PRIu64 " tasks", fired, n);
    loop_free(shared_loop);
    evl_alloc_tracking_disable();
    bench_report_bytes("mem_task", n, (double)m.bytes / (double)n, "tracked-live-bytes/N");
}

static const struct bench_workload workloads[] = {
    {"submit_1p", w_submit_1p, 4000000, 500000},
    {"submit_1p_bounded", w_submit_1p_bounded, 4000000, 500000},
    {"submit_2p", w_submit_2p, 4000000, 500000},
    {"rt_spin", w_rt_spin, 20000, 5000},
    {"rt_sleep", w_rt_sleep, 20000, 3000},
    {"rt_spin_loopspin", w_rt_spin_loopspin, 20000, 5000},
    {"timer_startstop", w_timer_startstop, 1000000, 100000},
    {"timers_zero", w_timers_zero, 1000000, 200000},
    {"timer_startstop_cached", w_timer_startstop_cached, 1000000, 100000},
    {"timers_zero_cached", w_timers_zero_cached, 1000000, 200000},
    {"timers_spread", w_timers_spread, 100000, 100000},
    {"chain_immediate", w_chain_immediate, 2000000, 100000},
    {"chain_timer", w_chain_timer, 2000000, 100000},
    {"chain_microtask", w_chain_microtask, 5000000, 1000000},
    {"mem_timer", w_mem_timer, 131072, 131072},
    {"mem_task", w_mem_task, 131070, 131070},
};

int main(int argc, char **argv)
{
    bench_lib = "evl";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

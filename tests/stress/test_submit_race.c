/*
 * 16 producer threads submit 1,000,000 tasks each while another thread shuts the loop down
 * or closes it at a random point. Conservation: every submit that returned 0 either ran or
 * had its discard callback run, exactly once; every refused submit got EVL_ECLOSED and ran
 * neither; a submit that began after the shutdown or close call returned is refused. Per
 * producer, runs and discards come in submission order, every run before every discard.
 * Half the producers use evl_loop_submit (retrying on EVL_EAGAIN when the queue bound is
 * reached), half evl_loop_submit_wait (which must wake with EVL_ECLOSED when admission
 * closes while they wait for space).
 */
#include "stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define NPROD     16
#define SEQ_BITS  40
#define SEQ_MASK  ((UINT64_C(1) << SEQ_BITS) - 1)
#define BATCH     256
#define QUEUE_MAX (1u << 16)

enum race_op { RACE_SHUTDOWN, RACE_CLOSE, RACE_DEADLINE };

struct producer {
    struct evl_loop *loop;
    int index;
    int wait_mode;
    uint64_t n;
    /* producer's side */
    uint64_t accepted;
    uint64_t refused;
    uint64_t eagain;
    uint64_t accepted_after_close; /* violations */
    uint64_t accepted_after_refusal;
    uint64_t other_errors;
    /* loop's side */
    uint64_t events; /* runs + discards seen so far */
    uint64_t runs;
    uint64_t discards;
    uint64_t out_of_order;
    uint64_t run_after_discard;
};

static struct producer prods[NPROD];
static atomic_uint_fast64_t progress;
static atomic_int closing;

static void loop_event(void *arg, int discard)
{
    uint64_t v = (uint64_t)(uintptr_t)arg;
    struct producer *p = &prods[v >> SEQ_BITS];
    uint64_t seq = v & SEQ_MASK;
    if (seq != p->events + 1) {
        p->out_of_order++;
    }
    p->events = seq;
    if (discard) {
        p->discards++;
    } else {
        if (p->discards) {
            p->run_after_discard++;
        }
        p->runs++;
    }
}

static void run_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    loop_event(arg, 0);
}

static void discard_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    loop_event(arg, 1);
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    uint64_t pending = 0;
    for (uint64_t i = 1; i <= p->n; i++) {
        void *task = (void *)(uintptr_t)(((uint64_t)p->index << SEQ_BITS) | i);
        int closed_before = atomic_load_explicit(&closing, memory_order_acquire);
        int rc;
        if (p->wait_mode) {
            rc = evl_loop_submit_wait(p->loop, run_cb, discard_cb, task, UINT64_MAX);
        } else {
            for (;;) {
                rc = evl_loop_submit_ex(p->loop, run_cb, discard_cb, task);
                if (rc != EVL_EAGAIN) {
                    break;
                }
                p->eagain++;
                sched_yield();
            }
        }
        if (rc == 0) {
            p->accepted++;
            p->accepted_after_close += closed_before != 0;
            p->accepted_after_refusal += p->refused != 0;
            if (++pending == BATCH) {
                atomic_fetch_add_explicit(&progress, pending, memory_order_relaxed);
                pending = 0;
            }
        } else if (rc == EVL_ECLOSED) {
            p->refused++;
        } else {
            p->other_errors++;
            p->refused++;
        }
    }
    atomic_fetch_add_explicit(&progress, pending, memory_order_relaxed);
    return NULL;
}

struct controller {
    struct evl_loop *loop;
    enum race_op op;
    uint64_t target;
    int rc;
};

static void *controller_main(void *arg)
{
    struct controller *c = arg;
    while (atomic_load_explicit(&progress, memory_order_relaxed) < c->target) {
        sched_yield();
    }
    switch (c->op) {
    case RACE_SHUTDOWN:
        c->rc = evl_loop_shutdown(c->loop);
        break;
    case RACE_CLOSE:
        c->rc = evl_loop_close(c->loop);
        break;
    case RACE_DEADLINE:
        c->rc = evl_loop_shutdown_ex(c->loop, 2000000); /* 2 ms */
        break;
    }
    atomic_store_explicit(&closing, 1, memory_order_release);
    return NULL;
}

static void race(const char *name, enum race_op op)
{
    struct stress_rng rng = {stress_seed(name)};
    uint64_t n = stress_count(1000000, 1000);
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_queued_tasks = QUEUE_MAX;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    /* Keeps the loop running while the producers start; shutdown and close end it anyway. */
    ASSERT_OK(evl_loop_ref(loop));
    atomic_store(&progress, 0);
    atomic_store(&closing, 0);
    /* The race point: between 10% and 90% of all tasks accepted. */
    uint64_t total = n * NPROD;
    struct controller ctl = {loop, op, total / 10 + stress_rng_below(&rng, total * 8 / 10), 0};
    pthread_t th[NPROD];
    for (int i = 0; i < NPROD; i++) {
        prods[i] = (struct producer){.loop = loop, .index = i, .wait_mode = i & 1, .n = n};
    }
    uint64_t t0 = stress_now_ns();
    for (int i = 0; i < NPROD; i++) {
        ASSERT_EQ(pthread_create(&th[i], NULL, producer_main, &prods[i]), 0);
    }
    pthread_t ct;
    ASSERT_EQ(pthread_create(&ct, NULL, controller_main, &ctl), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(ct, NULL), 0);
    for (int i = 0; i < NPROD; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    }
    ASSERT_OK(ctl.rc);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    uint64_t discarded_by_loop = evl_loop_discarded(loop);
    ASSERT_OK(evl_loop_free(loop));

    uint64_t accepted = 0;
    uint64_t refused = 0;
    uint64_t runs = 0;
    uint64_t discards = 0;
    uint64_t eagain = 0;
    for (int i = 0; i < NPROD; i++) {
        struct producer *p = &prods[i];
        ASSERT_UEQ(p->accepted + p->refused, n);
        ASSERT_UEQ(p->other_errors, 0);
        ASSERT_UEQ(p->accepted_after_close, 0);
        ASSERT_UEQ(p->accepted_after_refusal, 0);
        /* Conservation, exactly once, in order. */
        ASSERT_UEQ(p->events, p->accepted);
        ASSERT_UEQ(p->runs + p->discards, p->accepted);
        ASSERT_UEQ(p->out_of_order, 0);
        ASSERT_UEQ(p->run_after_discard, 0);
        accepted += p->accepted;
        refused += p->refused;
        runs += p->runs;
        discards += p->discards;
        eagain += p->eagain;
    }
    ASSERT_UEQ(discards, discarded_by_loop);
    if (op == RACE_SHUTDOWN) {
        ASSERT_UEQ(discards, 0); /* a shutdown without deadline runs everything accepted */
    }
    ASSERT_UGE(accepted, ctl.target);
    printf("%s: %d producers x %" PRIu64 ": accepted %" PRIu64 " (ran %" PRIu64
           ", discarded %" PRIu64 "), refused %" PRIu64 ", EAGAIN retries %" PRIu64
           ", race at %" PRIu64 ", %.2f s\n",
           name, NPROD, n, accepted, runs, discards, refused, eagain, ctl.target,
           (double)(stress_now_ns() - t0) / 1e9);
}

TEST(producers_race_shutdown)
{
    race("producers_race_shutdown", RACE_SHUTDOWN);
}

TEST(producers_race_close)
{
    race("producers_race_close", RACE_CLOSE);
}

TEST(producers_race_shutdown_deadline)
{
    race("producers_race_shutdown_deadline", RACE_DEADLINE);
}

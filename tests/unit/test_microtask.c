/* Microtasks, nextTick and the checkpoint: caps, thread rules, hooks. */
#include "evl_test.h"

#include "core/loop_state.h"

#include <pthread.h>

static uint64_t runs;
static int keep_going;

static void forever(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (keep_going) {
        ASSERT_OK(evl_queue_microtask(loop, forever, NULL));
    }
}

struct logrec {
    int warns;
};

static void log_hook(void *ud, int level, const char *component, const char *msg)
{
    struct logrec *l = ud;
    (void)component;
    (void)msg;
    if (level == EVL_LOG_WARN) {
        l->warns++;
    }
}

static void start_forever(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_queue_microtask(loop, forever, NULL));
}

/* A runaway microtask chain is cut at the cap: the checkpoint logs and yields to the loop. */
TEST(checkpoint_cap_logs_and_yields)
{
    struct logrec lr = {0};
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_microtasks_per_checkpoint = 100;
    o.log = log_hook;
    o.log_ud = &lr;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    runs = 0;
    keep_going = 1;
    ASSERT_OK(evl_loop_submit(loop, start_forever, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* returns: work remains */
    ASSERT_UEQ(runs, 100);
    ASSERT_EQ(lr.warns, 1);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* the chain continues, capped again */
    ASSERT_UEQ(runs, 200);
    /* Every cap is counted; the warning itself is rate-limited (one a second). */
    ASSERT_EQ(lr.warns, 1);
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.checkpoint_caps, 2);
    keep_going = 0;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, 201);
    ASSERT_OK(evl_loop_free(loop));
}

static int depth;

static void nested(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (++depth < 1000) {
        ASSERT_OK(evl_queue_microtask(loop, nested, NULL));
    }
}

static int after_nested;

static void after(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    after_nested = (int)runs;
}

TEST(microtasks_queued_by_microtasks_run_in_same_checkpoint)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    depth = 0;
    ASSERT_OK(evl_queue_microtask(loop, nested, NULL));
    ASSERT_OK(evl_loop_submit(loop, after, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(after_nested, 1000); /* the whole chain ran before the next task */
    ASSERT_OK(evl_loop_free(loop));
}

struct qres {
    struct evl_loop *loop;
    int micro_rc;
    int tick_rc;
};

static void *queue_from_thread(void *p)
{
    struct qres *r = p;
    r->micro_rc = evl_queue_microtask(r->loop, forever, NULL);
    r->tick_rc = evl_next_tick(r->loop, forever, NULL);
    return NULL;
}

TEST(microtasks_are_loop_thread_only)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct qres r = {loop, 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, queue_from_thread, &r), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_ERR(EVL_EPERM, r.micro_rc);
    ASSERT_ERR(EVL_EPERM, r.tick_rc);
    ASSERT_ERR(EVL_EINVAL, evl_queue_microtask(loop, NULL, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_next_tick(NULL, forever, NULL));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_queue_microtask(loop, forever, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_next_tick(loop, forever, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

/* Internal hooks (seam 4): run after both queues are empty; more work queued by a hook is
 * drained and the hooks run again. */
static int hook_a;
static int hook_b;
static char seq[64];
static size_t slen;

static void mark(struct evl_loop *loop, void *arg)
{
    (void)loop;
    seq[slen++] = (char)(uintptr_t)arg;
    seq[slen] = '\0';
}

static void hook_first(struct evl_loop *loop, void *ud)
{
    (void)ud;
    hook_a++;
    mark(loop, (void *)(uintptr_t)'a');
    if (hook_a == 1) {
        ASSERT_OK(evl_queue_microtask(loop, mark, (void *)(uintptr_t)'m'));
    }
}

static void hook_second(struct evl_loop *loop, void *ud)
{
    (void)ud;
    hook_b++;
    mark(loop, (void *)(uintptr_t)'b');
}

TEST(internal_checkpoint_hooks_redrain)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    hook_a = hook_b = 0;
    slen = 0;
    ASSERT_OK(evl__loop_add_checkpoint_hook(loop, hook_first, NULL));
    ASSERT_OK(evl__loop_add_checkpoint_hook(loop, hook_second, NULL));
    evl_loop_set_checkpoint_hook(loop, hook_second, NULL);
    ASSERT_OK(evl_loop_submit(loop, mark, (void *)(uintptr_t)'T'));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    /* T; hooks a, b, public b; a queued m: drained, then all hooks again. */
    ASSERT_STR_EQ(seq, "Tabbmabb");
    for (int i = 0; i < EVL__MAX_CHECKPOINT_HOOKS - 2; i++) {
        ASSERT_OK(evl__loop_add_checkpoint_hook(loop, hook_second, NULL));
    }
    ASSERT_ERR(EVL_ELIMIT, evl__loop_add_checkpoint_hook(loop, hook_second, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

/* Pending and close phases (internal deferred callbacks) run with checkpoints, in order. */
static void queue_micro_mark(struct evl_loop *loop, void *arg)
{
    mark(loop, arg);
    ASSERT_OK(evl_queue_microtask(loop, mark, (void *)(uintptr_t)'m'));
}

static void imm_mark(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    mark(loop, arg);
}

TEST(pending_and_close_phases)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    slen = 0;
    ASSERT_OK(evl__loop_defer_close(loop, queue_micro_mark, (void *)(uintptr_t)'C'));
    ASSERT_OK(evl_immediate_set(loop, imm_mark, (void *)(uintptr_t)'I', NULL));
    ASSERT_OK(evl_loop_submit(loop, mark, (void *)(uintptr_t)'S'));
    ASSERT_OK(evl__loop_defer_pending(loop, queue_micro_mark, (void *)(uintptr_t)'P'));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(seq, "PmSICm");
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- jobs with a discard callback (evl_queue_microtask_ex, evl_next_tick_ex) ----------- */

struct exjob {
    char tag;
    int ran;
    int discarded;
};

static void exjob_run(struct evl_loop *loop, void *arg)
{
    struct exjob *j = arg;
    mark(loop, (void *)(uintptr_t)j->tag);
    j->ran++;
}

static void exjob_discard(struct evl_loop *loop, void *arg)
{
    struct exjob *j = arg;
    /* Nothing can be queued from a discard: the loop is terminating. */
    ASSERT_ERR(EVL_ECLOSED, evl_queue_microtask(loop, exjob_run, j));
    j->discarded++;
}

struct exmix {
    struct exjob jobs[4];
    uint32_t micro_depth;
    uint32_t tick_depth;
};

static void queue_mix(struct evl_loop *loop, void *arg)
{
    struct exmix *m = arg;
    ASSERT_OK(evl_queue_microtask_ex(loop, exjob_run, exjob_discard, &m->jobs[0]));
    ASSERT_OK(evl_queue_microtask(loop, mark, (void *)(uintptr_t)'p'));
    ASSERT_OK(evl_next_tick_ex(loop, exjob_run, exjob_discard, &m->jobs[1]));
    ASSERT_OK(evl_queue_microtask_ex(loop, exjob_run, NULL, &m->jobs[2])); /* NULL: plain */
    ASSERT_OK(evl_next_tick(loop, mark, (void *)(uintptr_t)'t'));
    m->micro_depth = evl__checkpoint_micro_count(&loop->cp);
    m->tick_depth = evl__checkpoint_tick_count(&loop->cp);
}

/* Jobs with a discard run in queue order among plain ones, nextTick first; the queue depths
 * count jobs, not ring entries. */
TEST(ex_jobs_run_in_order_among_plain_jobs)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct exmix m;
    memset(&m, 0, sizeof(m));
    m.jobs[0].tag = 'a';
    m.jobs[1].tag = 'b';
    m.jobs[2].tag = 'c';
    slen = 0;
    ASSERT_OK(evl_loop_submit(loop, queue_mix, &m));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(seq, "btapc");
    ASSERT_UEQ(m.micro_depth, 3);
    ASSERT_UEQ(m.tick_depth, 2);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(m.jobs[i].ran, 1);
        ASSERT_EQ(m.jobs[i].discarded, 0);
    }
    ASSERT_UEQ(evl__checkpoint_micro_count(&loop->cp), 0);
    ASSERT_OK(evl_loop_free(loop));
}

#define EX_JOBS 200

struct exclose {
    struct exjob jobs[EX_JOBS];
    int with_context;
};

static void queue_then_close(struct evl_loop *loop, void *arg)
{
    struct exclose *c = arg;
    if (c->with_context) {
        unsigned char id[16];
        ASSERT_OK(evl_correlation_new(loop, id));
    }
    /* Enough to grow both rings past their first size, marks and jobs interleaved. */
    for (int i = 0; i < EX_JOBS; i++) {
        if (i % 2) {
            ASSERT_OK(evl_next_tick_ex(loop, exjob_run, exjob_discard, &c->jobs[i]));
        } else {
            ASSERT_OK(evl_queue_microtask_ex(loop, exjob_run, exjob_discard, &c->jobs[i]));
        }
    }
    ASSERT_OK(evl_loop_close(loop));
}

/* A close drops every queued job (queued here outside a run, as an embedder would before
 * its own checkpoint; a close from inside a callback lets that callback's checkpoint run
 * first): each job with a discard has it called exactly once (with a correlation context
 * current too, where the context wrapper carries it) and never runs. */
static void ex_jobs_discarded(int with_context)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    static struct exclose c;
    memset(&c, 0, sizeof(c));
    c.with_context = with_context;
    queue_then_close(loop, &c);
    ASSERT_OK(evl_loop_free(loop));
    for (int i = 0; i < EX_JOBS; i++) {
        ASSERT_EQ(c.jobs[i].ran, 0);
        ASSERT_EQ(c.jobs[i].discarded, 1);
    }
}

TEST(ex_jobs_discarded_on_close)
{
    ex_jobs_discarded(0);
}

TEST(ex_jobs_discarded_on_close_with_context)
{
    ex_jobs_discarded(1);
}

/* A job queued outside any run (an embedder's own checkpoint would run it) and dropped by a
 * close before any run: discarded when the loop is freed. */
TEST(ex_job_discarded_when_closed_outside_run)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct exjob j = {'x', 0, 0};
    ASSERT_OK(evl_queue_microtask_ex(loop, exjob_run, exjob_discard, &j));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(j.ran, 0);
    ASSERT_EQ(j.discarded, 1);
}

/* The checkpoint cap counts jobs: a mark is never split from its job's count. */
static void ex_forever(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (keep_going) {
        ASSERT_OK(evl_queue_microtask_ex(loop, ex_forever, exjob_discard, NULL));
    }
}

static void start_ex_forever(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_queue_microtask_ex(loop, ex_forever, exjob_discard, NULL));
}

TEST(ex_jobs_count_once_against_the_cap)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_microtasks_per_checkpoint = 100;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    runs = 0;
    keep_going = 1;
    ASSERT_OK(evl_loop_submit(loop, start_ex_forever, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_UEQ(runs, 100);
    ASSERT_UEQ(evl__checkpoint_micro_count(&loop->cp), 1);
    keep_going = 0;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, 101);
    ASSERT_OK(evl_loop_free(loop));
}

/* Allocation failure while the ring grows: refused with nothing queued, no callback runs. */
static void queue_ex_failing(struct evl_loop *loop, void *arg)
{
    struct exjob *j = arg;
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl_queue_microtask_ex(loop, exjob_run, exjob_discard, j));
    ASSERT_ERR(EVL_ENOMEM, evl_next_tick_ex(loop, exjob_run, exjob_discard, j));
    evl_alloc_fail_at(0, 0);
    ASSERT_UEQ(evl__checkpoint_micro_count(&loop->cp), 0);
    ASSERT_UEQ(evl__checkpoint_tick_count(&loop->cp), 0);
}

TEST(ex_job_refused_on_allocation_failure)
{
    if (!evl_alloc_tracking_enabled()) {
        TEST_SKIP("allocation tracking is off");
    }
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct exjob j = {'f', 0, 0};
    ASSERT_OK(evl_loop_submit(loop, queue_ex_failing, &j));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(j.ran, 0);
    ASSERT_EQ(j.discarded, 0);
    ASSERT_OK(evl_loop_free(loop));
}

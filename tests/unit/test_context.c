/* Context hooks and correlation ids: capture at schedule time, restore around the
 * callback, release when the work is done; UUIDv7 layout and order. The scheduler here is
 * the test itself (as an embedder with its own queue would be), driving real loop timers. */
#include "evl_test.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

/* An embedder's context: a current integer, values boxed so releases can be counted. */
struct box {
    int value;
};

struct store {
    struct box *current;
    int captures, releases, enters, leaves;
    int made; /* non-NULL values captured (each must be released once) */
};

static void *s_capture(void *ud)
{
    struct store *s = ud;
    s->captures++;
    if (s->current == NULL) {
        return NULL;
    }
    struct box *b = malloc(sizeof(*b));
    b->value = s->current->value;
    s->made++;
    return b;
}

static void *s_enter(void *ud, void *value)
{
    struct store *s = ud;
    s->enters++;
    struct box *prev = s->current;
    s->current = value;
    return prev;
}

static void s_leave(void *ud, void *previous)
{
    struct store *s = ud;
    s->leaves++;
    s->current = previous;
}

static void s_release(void *ud, void *value)
{
    struct store *s = ud;
    s->releases++;
    free(value);
}

static const struct evl_context_hooks hooks = {sizeof(struct evl_context_hooks), s_capture, s_enter,
                                               s_leave, s_release};

static int current(const struct store *s)
{
    return s->current ? s->current->value : -1;
}

TEST(capture_without_context_is_free)
{
    struct evl_loop *loop = new_loop();
    struct evl_context_frame *f = (struct evl_context_frame *)&f;
    uint64_t before = evl_test_live_blocks();
    ASSERT_OK(evl_context_capture(loop, &f));
    ASSERT_PTR_EQ(f, NULL);
    ASSERT_UEQ(evl_test_live_blocks(), before);
    struct evl_context_scope sc;
    evl_context_enter(loop, NULL, &sc);
    evl_context_leave(loop, &sc);
    evl_context_release(loop, NULL);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(capture_enter_leave_release)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    ASSERT_EQ(slot, 0);
    struct box five = {5};
    struct box nine = {9};
    s.current = &five;
    struct evl_context_frame *f = NULL;
    ASSERT_OK(evl_context_capture(loop, &f)); /* schedule time */
    ASSERT_NOT_NULL(f);
    s.current = &nine;
    struct evl_context_scope sc;
    evl_context_enter(loop, f, &sc); /* around the callback */
    ASSERT_EQ(current(&s), 5);
    evl_context_leave(loop, &sc);
    ASSERT_EQ(current(&s), 9);
    /* An interval keeps its frame across runs: retain, enter again. */
    evl_context_retain(f);
    evl_context_enter(loop, f, &sc);
    ASSERT_EQ(current(&s), 5);
    evl_context_leave(loop, &sc);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 0);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 1);
    ASSERT_EQ(s.enters, 2);
    ASSERT_EQ(s.leaves, 2);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(scopes_nest)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box a = {1};
    struct box b = {2};
    unsigned char ida[16];
    unsigned char idb[16];
    unsigned char got[16];
    ASSERT_OK(evl_correlation_new(loop, ida));
    ASSERT_OK(evl_correlation_new(loop, idb));
    s.current = &a;
    ASSERT_OK(evl_correlation_set(loop, ida));
    struct evl_context_frame *fa = NULL;
    ASSERT_OK(evl_context_capture(loop, &fa));
    s.current = &b;
    ASSERT_OK(evl_correlation_set(loop, idb));
    struct evl_context_frame *fb = NULL;
    ASSERT_OK(evl_context_capture(loop, &fb));
    s.current = NULL;
    ASSERT_OK(evl_correlation_set(loop, NULL));
    struct evl_context_scope outer;
    struct evl_context_scope inner;
    evl_context_enter(loop, fa, &outer);
    ASSERT_EQ(current(&s), 1);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, ida, 16), 0);
    evl_context_enter(loop, fb, &inner);
    ASSERT_EQ(current(&s), 2);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, idb, 16), 0);
    evl_context_leave(loop, &inner);
    ASSERT_EQ(current(&s), 1);
    ASSERT_EQ(memcmp(got, idb, 16), 0);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, ida, 16), 0);
    /* The empty frame clears both inside its scope. */
    evl_context_enter(loop, NULL, &inner);
    ASSERT_EQ(current(&s), -1);
    ASSERT_EQ(evl_correlation_get(loop, got), 0);
    evl_context_leave(loop, &inner);
    evl_context_leave(loop, &outer);
    ASSERT_EQ(current(&s), -1);
    ASSERT_EQ(evl_correlation_get(loop, got), 0);
    evl_context_release(loop, fa);
    evl_context_release(loop, fb);
    ASSERT_EQ(s.releases, 2);
    ASSERT_OK(evl_loop_free(loop));
}

/* The pattern the loop's schedulers follow, with real timers: capture when the timer is
 * set, enter/leave around its callback, release when it is done. */
struct scheduled {
    struct evl_context_frame *frame;
    struct store *s;
    unsigned char want_id[16];
    int seen_value;
    int seen_id;
    int runs;
};

static void timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct scheduled *w = arg;
    struct evl_context_scope sc;
    evl_context_enter(loop, w->frame, &sc);
    /* ...the user's callback body: */
    w->seen_value = current(w->s);
    unsigned char got[16];
    w->seen_id = evl_correlation_get(loop, got) && memcmp(got, w->want_id, 16) == 0;
    evl_log(loop, EVL_LOG_WARN, "app", "inside"); /* carries the id (see test_log) */
    w->runs++;
    evl_context_leave(loop, &sc);
    evl_context_release(loop, w->frame);
    w->frame = NULL;
}

static void quiet(void *ud, int level, const char *c, const char *m)
{
    (void)ud;
    (void)level;
    (void)c;
    (void)m;
}

TEST(context_follows_a_timer)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = quiet;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box request = {42};
    struct scheduled w;
    memset(&w, 0, sizeof(w));
    w.s = &s;
    s.current = &request;
    ASSERT_OK(evl_correlation_new(loop, w.want_id));
    ASSERT_OK(evl_correlation_set(loop, w.want_id));
    ASSERT_OK(evl_context_capture(loop, &w.frame));
    ASSERT_OK(evl_timer_set(loop, timer_cb, &w, 1, 0, NULL));
    /* The request ends; its context is gone before the timer runs. */
    s.current = NULL;
    ASSERT_OK(evl_correlation_set(loop, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(w.runs, 1);
    ASSERT_EQ(w.seen_value, 42);
    ASSERT_EQ(w.seen_id, 1);
    ASSERT_EQ(current(&s), -1);
    /* The test's own frame and the one the loop captured for the timer itself. */
    ASSERT_EQ(s.captures, 2);
    ASSERT_EQ(s.releases, 2);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(removed_slot_still_releases)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {3};
    s.current = &v;
    struct evl_context_frame *f = NULL;
    ASSERT_OK(evl_context_capture(loop, &f));
    ASSERT_OK(evl_context_remove_slot(loop, slot));
    ASSERT_ERR(EVL_ENOENT, evl_context_remove_slot(loop, slot));
    struct evl_context_scope sc;
    evl_context_enter(loop, f, &sc);
    ASSERT_EQ(s.enters, 0); /* the slot is gone: not entered */
    evl_context_leave(loop, &sc);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 1);
    struct evl_context_frame *g = NULL;
    ASSERT_OK(evl_context_capture(loop, &g));
    ASSERT_PTR_EQ(g, NULL); /* no slot, no id: nothing to capture */
    ASSERT_OK(evl_loop_free(loop));
}

static void *add_slot_from_thread(void *arg)
{
    int slot;
    return (void *)(intptr_t)evl_context_add_slot(arg, &hooks, NULL, &slot);
}

TEST(slot_errors)
{
    struct evl_loop *loop = new_loop();
    int slot;
    struct evl_context_hooks bad = hooks;
    bad.size = 4;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &bad, NULL, &slot));
    bad = hooks;
    bad.enter = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &bad, NULL, &slot));
    ASSERT_ERR(EVL_EINVAL, evl_context_remove_slot(loop, 99));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, add_slot_from_thread, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    struct store s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < EVL_CONTEXT_MAX_SLOTS; i++) {
        ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
        ASSERT_EQ(slot, i);
    }
    ASSERT_ERR(EVL_ELIMIT, evl_context_add_slot(loop, &hooks, &s, &slot));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(uuid_v7_layout_and_order)
{
    struct evl_loop *loop = new_loop();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    unsigned char prev[16];
    memset(prev, 0, sizeof(prev));
    for (int i = 0; i < 20000; i++) {
        unsigned char id[16];
        ASSERT_OK(evl_correlation_new(loop, id));
        ASSERT_EQ(id[6] >> 4, 7);           /* version */
        ASSERT_EQ(id[8] >> 6, 2);           /* variant 10 */
        ASSERT_GT(memcmp(id, prev, 16), 0); /* strictly increasing */
        memcpy(prev, id, 16);
        if (i == 0) {
            uint64_t t = 0;
            for (int k = 0; k < 6; k++) {
                t = t << 8 | id[k];
            }
            ASSERT_TRUE(t >= now_ms && t < now_ms + 5000);
        }
    }
    char text[37];
    evl_uuid_format(prev, text);
    ASSERT_UEQ(strlen(text), 36);
    ASSERT_EQ(text[14], '7');
    unsigned char back[16];
    ASSERT_OK(evl_uuid_parse(text, back));
    ASSERT_EQ(memcmp(back, prev, 16), 0);
    ASSERT_OK(evl_uuid_parse("0190B6B2-1234-7ABC-8DEF-0123456789AB", back));
    ASSERT_EQ(back[0], 0x01);
    ASSERT_EQ(back[15], 0xab);
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-1234-7abc-8def-0123456789a", back));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2x1234-7abc-8def-0123456789ab", back));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-1234-7abc-8def-0123456789ag", back));
    ASSERT_ERR(EVL_EINVAL, evl_correlation_new(loop, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

static void *new_ids(void *arg)
{
    struct evl_loop *loop = arg;
    unsigned char prev[16] = {0};
    for (int i = 0; i < 5000; i++) {
        unsigned char id[16];
        if (evl_correlation_new(loop, id) != 0 || memcmp(id, prev, 16) <= 0) {
            return (void *)1;
        }
        memcpy(prev, id, 16);
    }
    return NULL;
}

TEST(uuid_from_many_threads)
{
    struct evl_loop *loop = new_loop();
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(pthread_create(&th[i], NULL, new_ids, loop), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc = NULL;
        pthread_join(th[i], &rc);
        ASSERT_PTR_EQ(rc, NULL);
    }
    unsigned char id[16];
    ASSERT_EQ(evl_correlation_get(loop, id), 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- propagation through the loop's own schedulers -------------------------------------- */

/* What callbacks saw: the correlation id current when each ran (0 when none). */
struct seen {
    unsigned char want[16];
    int with_id;    /* callbacks that ran with `want` current */
    int without_id; /* callbacks that ran with no id */
    int other;      /* callbacks that ran with another id */
    int runs;
    uint64_t timer;
    struct evl_loop *loop;
};

static void note(struct evl_loop *loop, struct seen *s)
{
    unsigned char got[16];
    s->runs++;
    if (!evl_correlation_get(loop, got)) {
        s->without_id++;
    } else if (memcmp(got, s->want, 16) == 0) {
        s->with_id++;
    } else {
        s->other++;
    }
}

static struct evl_loop *quiet_loop(void)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = quiet;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    return loop;
}

static void note_timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    note(loop, arg);
}

static void note_task(struct evl_loop *loop, void *arg)
{
    note(loop, arg);
}

/* A task submitted without context makes an id current and sets a timer. */
static void task_sets_id_and_timer(struct evl_loop *loop, void *arg)
{
    struct seen *s = arg;
    note(loop, s);
    ASSERT_OK(evl_correlation_set(loop, s->want));
    ASSERT_OK(evl_timer_set(loop, note_timer_cb, s, 1, 0, NULL));
}

TEST(id_set_in_a_task_flows_to_its_timer)
{
    struct evl_loop *loop = quiet_loop();
    struct seen s;
    memset(&s, 0, sizeof(s));
    ASSERT_OK(evl_correlation_new(loop, s.want));
    ASSERT_OK(evl_loop_submit(loop, task_sets_id_and_timer, &s));
    /* Queued after it, without context: the id the first task set is its own. */
    ASSERT_OK(evl_loop_submit(loop, note_task, &s));
    ASSERT_OK(evl_immediate_set(loop, note_timer_cb, &s, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.runs, 4);
    ASSERT_EQ(s.with_id, 1);    /* the timer */
    ASSERT_EQ(s.without_id, 3); /* the setter itself before setting, the task, the immediate */
    ASSERT_EQ(evl_correlation_get(loop, NULL), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void interval_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct seen *s = arg;
    note(loop, s);
    if (s->runs == 3) {
        ASSERT_OK(evl_timer_clear(loop, id)); /* from its own callback: freed after it */
    }
}

static void task_starts_interval(struct evl_loop *loop, void *arg)
{
    struct seen *s = arg;
    ASSERT_OK(evl_correlation_set(loop, s->want));
    ASSERT_OK(evl_timer_set(loop, interval_cb, s, 1, 1, &s->timer));
}

TEST(interval_keeps_the_id_on_every_run)
{
    struct evl_loop *loop = quiet_loop();
    struct seen s;
    memset(&s, 0, sizeof(s));
    ASSERT_OK(evl_correlation_new(loop, s.want));
    ASSERT_OK(evl_loop_submit(loop, task_starts_interval, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.runs, 3);
    ASSERT_EQ(s.with_id, 3);
    ASSERT_OK(evl_loop_free(loop));
}

static void reaction_notes(struct evl_loop *loop, void *value, void *arg, struct evl_result *res)
{
    (void)value;
    note(loop, arg);
    ASSERT_OK(evl_result_resolve(res, NULL, NULL));
}

struct chain {
    struct seen in_ctx;  /* reactions registered while the id was current */
    struct seen out_ctx; /* reactions registered with no context */
    struct evl_promise *head;
    struct evl_promise *other;
};

/* Registers a three-link chain on head with the id current, then (no id) one on other. */
static void task_builds_chains(struct evl_loop *loop, void *arg)
{
    struct chain *c = arg;
    ASSERT_OK(evl_correlation_set(loop, c->in_ctx.want));
    struct evl_promise *a = NULL;
    struct evl_promise *b = NULL;
    ASSERT_OK(evl_promise_then(c->head, reaction_notes, NULL, &c->in_ctx, NULL, &a));
    ASSERT_OK(evl_promise_then(a, reaction_notes, NULL, &c->in_ctx, NULL, &b));
    ASSERT_OK(evl_promise_then(b, reaction_notes, NULL, &c->in_ctx, NULL, NULL));
    evl_promise_release(a);
    evl_promise_release(b);
    /* Resolving other here does not give its reactions the id: then decides. */
    ASSERT_OK(evl_promise_resolve(c->other, NULL, NULL));
}

static void timer_resolves_head(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    struct chain *c = arg;
    ASSERT_OK(evl_promise_resolve(c->head, NULL, NULL));
}

TEST(promise_chain_reactions_carry_the_then_context)
{
    struct evl_loop *loop = quiet_loop();
    struct chain c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_correlation_new(loop, c.in_ctx.want));
    memcpy(c.out_ctx.want, c.in_ctx.want, 16);
    ASSERT_OK(evl_promise_new(loop, &c.head));
    ASSERT_OK(evl_promise_new(loop, &c.other));
    ASSERT_OK(evl_promise_then(c.other, reaction_notes, NULL, &c.out_ctx, NULL, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_builds_chains, &c));
    /* Set outside any context: the head settles with no id current. */
    ASSERT_OK(evl_timer_set(loop, timer_resolves_head, &c, 2, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(c.in_ctx.runs, 3);
    ASSERT_EQ(c.in_ctx.with_id, 3);
    ASSERT_EQ(c.out_ctx.runs, 1);
    ASSERT_EQ(c.out_ctx.without_id, 1);
    evl_promise_release(c.head);
    evl_promise_release(c.other);
    ASSERT_OK(evl_loop_free(loop));
}

static int failing_work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    return EVL_EIO;
}

struct pool_probe {
    unsigned char want[16];
    struct evl_pool *pool;
    struct evl_promise *job;
    int checked;
    int reason_has_id;
};

static void task_submits_job(struct evl_loop *loop, void *arg)
{
    struct pool_probe *pp = arg;
    ASSERT_OK(evl_correlation_set(loop, pp->want));
    ASSERT_OK(evl_pool_submit(pp->pool, loop, failing_work, NULL, &pp->job));
}

static void job_rejected(struct evl_loop *loop, void *value, void *arg, struct evl_result *res)
{
    (void)res;
    struct pool_probe *pp = arg;
    pp->checked++;
    ASSERT_EQ(evl_correlation_get(loop, NULL), 0); /* then was called with no context */
    unsigned char got[16];
    pp->reason_has_id = evl_error_correlation(value, got) && memcmp(got, pp->want, 16) == 0;
}

static void timer_observes_job(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct pool_probe *pp = arg;
    if (pp->job == NULL) {
        ASSERT_OK(evl_timer_set(loop, timer_observes_job, pp, 1, 0, NULL)); /* not yet */
        return;
    }
    ASSERT_OK(evl_promise_then(pp->job, NULL, job_rejected, pp, NULL, NULL));
}

TEST(pool_completion_runs_in_the_submit_context)
{
    struct evl_loop *loop = quiet_loop();
    struct pool_probe pp;
    memset(&pp, 0, sizeof(pp));
    ASSERT_OK(evl_correlation_new(loop, pp.want));
    ASSERT_OK(evl_pool_new(&pp.pool, 1));
    ASSERT_OK(evl_loop_submit(loop, task_submits_job, &pp));
    ASSERT_OK(evl_timer_set(loop, timer_observes_job, &pp, 0, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    /* The rejection reason was made while settling, inside the submit's context. */
    ASSERT_EQ(pp.checked, 1);
    ASSERT_EQ(pp.reason_has_id, 1);
    evl_promise_release(pp.job);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_pool_free(pp.pool));
}

struct fd_probe {
    struct seen s;
    int fds[2];
};

static void fd_ready(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct fd_probe *fp = arg;
    note(loop, &fp->s);
    char b;
    ASSERT_EQ(read(fd, &b, 1), 1);
    ASSERT_OK(evl_fd_stop(loop, fd)); /* from its own callback: the frame outlives it */
    note(loop, &fp->s);
}

static void task_starts_fd(struct evl_loop *loop, void *arg)
{
    struct fd_probe *fp = arg;
    ASSERT_OK(evl_correlation_set(loop, fp->s.want));
    ASSERT_OK(evl_fd_start(loop, fp->fds[0], EVL_READABLE, fd_ready, fp));
}

static void timer_writes(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    struct fd_probe *fp = arg;
    ASSERT_EQ(write(fp->fds[1], "x", 1), 1);
}

TEST(fd_callback_runs_in_the_start_context)
{
    struct evl_loop *loop = quiet_loop();
    struct fd_probe fp;
    memset(&fp, 0, sizeof(fp));
    ASSERT_EQ(pipe(fp.fds), 0);
    ASSERT_OK(evl_correlation_new(loop, fp.s.want));
    ASSERT_OK(evl_loop_submit(loop, task_starts_fd, &fp));
    ASSERT_OK(evl_timer_set(loop, timer_writes, &fp, 2, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(fp.s.runs, 2);
    ASSERT_EQ(fp.s.with_id, 2);
    close(fp.fds[0]);
    close(fp.fds[1]);
    ASSERT_OK(evl_loop_free(loop));
}

static void task_queues_micro(struct evl_loop *loop, void *arg)
{
    struct seen *s = arg;
    ASSERT_OK(evl_correlation_set(loop, s->want));
    ASSERT_OK(evl_queue_microtask(loop, note_task, s));
    ASSERT_OK(evl_next_tick(loop, note_task, s));
    ASSERT_OK(evl_correlation_set(loop, NULL));
    ASSERT_OK(evl_queue_microtask(loop, note_task, s)); /* queued with none */
}

TEST(microtask_and_next_tick_carry_the_id)
{
    struct evl_loop *loop = quiet_loop();
    struct seen s;
    memset(&s, 0, sizeof(s));
    ASSERT_OK(evl_correlation_new(loop, s.want));
    ASSERT_OK(evl_loop_submit(loop, task_queues_micro, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.runs, 3);
    ASSERT_EQ(s.with_id, 2);
    ASSERT_EQ(s.without_id, 1);
    ASSERT_OK(evl_loop_free(loop));
}

/* A task submitted from another thread with an explicit id sets a timer: both see it. */
static void foreign_task(struct evl_loop *loop, void *arg)
{
    struct seen *s = arg;
    note(loop, s);
    ASSERT_OK(evl_timer_set(loop, note_timer_cb, s, 1, 0, NULL));
}

static void *submit_with_id(void *arg)
{
    struct seen *s = arg;
    struct evl_submit_options o;
    evl_submit_options_init(&o);
    o.correlation_id = s->want;
    return (void *)(intptr_t)evl_loop_submit_opts(s->loop, foreign_task, s, &o);
}

TEST(submit_opts_attaches_an_id_from_another_thread)
{
    struct evl_loop *loop = quiet_loop();
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.loop = loop;
    ASSERT_OK(evl_correlation_new(loop, s.want));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, submit_with_id, &s), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.runs, 2);
    ASSERT_EQ(s.with_id, 2);
    /* Refused (closed): nothing ran, nothing leaked (the harness counts blocks). */
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(pthread_create(&th, NULL, submit_with_id, &s), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, EVL_ECLOSED);
    struct evl_submit_options bad;
    evl_submit_options_init(&bad);
    bad.size = 3;
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_opts(loop, foreign_task, &s, &bad));
    ASSERT_EQ(s.runs, 2);
    ASSERT_OK(evl_loop_free(loop));
}

static void task_makes_errors(struct evl_loop *loop, void *arg)
{
    struct seen *s = arg;
    struct evl_error *before = NULL;
    struct evl_error *inside = NULL;
    ASSERT_OK(evl_error_new(&before, EVL_EIO, "before"));
    ASSERT_OK(evl_correlation_set(loop, s->want));
    ASSERT_OK(evl_error_new(&inside, EVL_EIO, "inside %d", 1));
    unsigned char got[16];
    ASSERT_EQ(evl_error_correlation(before, got), 0);
    ASSERT_EQ(evl_error_correlation(inside, got), 1);
    ASSERT_EQ(memcmp(got, s->want, 16), 0);
    ASSERT_OK(evl_error_set_correlation(before, s->want));
    ASSERT_EQ(evl_error_correlation(before, NULL), 1);
    ASSERT_OK(evl_error_set_correlation(inside, NULL));
    ASSERT_EQ(evl_error_correlation(inside, NULL), 0);
    ASSERT_ERR(EVL_EINVAL, evl_error_set_correlation(NULL, s->want));
    evl_error_free(before);
    evl_error_free(inside);
    s->runs++;
}

TEST(errors_made_while_an_id_is_current_carry_it)
{
    struct evl_loop *loop = quiet_loop();
    struct seen s;
    memset(&s, 0, sizeof(s));
    ASSERT_OK(evl_correlation_new(loop, s.want));
    ASSERT_OK(evl_loop_submit(loop, task_makes_errors, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.runs, 1);
    /* Outside the task the id is gone, and so is it from new errors. */
    struct evl_error *after = NULL;
    ASSERT_OK(evl_error_new(&after, EVL_EIO, NULL));
    ASSERT_EQ(evl_error_correlation(after, NULL), 0);
    evl_error_free(after);
    ASSERT_OK(evl_loop_free(loop));
}

struct log_probe {
    char want[37];
    int records;
    int with_id;
};

static void log_sink(void *ud, const struct evl_log_record *r)
{
    struct log_probe *lp = ud;
    if (r->component != NULL && strcmp(r->component, "app") == 0) {
        lp->records++;
        if (r->correlation_id != NULL && strcmp(r->correlation_id, lp->want) == 0 &&
            strstr(r->line, lp->want) != NULL) {
            lp->with_id++;
        }
    }
}

static void timer_logs(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    evl_log(loop, EVL_LOG_WARN, "app", "from the timer");
}

static void task_logs_later(struct evl_loop *loop, void *arg)
{
    (void)arg;
    unsigned char id[16];
    ASSERT_OK(evl_correlation_new(loop, id));
    struct log_probe *lp = arg;
    evl_uuid_format(id, lp->want);
    ASSERT_OK(evl_correlation_set(loop, id));
    ASSERT_OK(evl_timer_set(loop, timer_logs, NULL, 1, 0, NULL));
}

TEST(log_records_in_a_timer_carry_the_id)
{
    struct evl_loop *loop = quiet_loop();
    struct log_probe lp;
    memset(&lp, 0, sizeof(lp));
    ASSERT_OK(evl_logger_add_callback(loop, log_sink, &lp, EVL_LOG_DEBUG));
    ASSERT_OK(evl_loop_submit(loop, task_logs_later, &lp));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    evl_log(loop, EVL_LOG_WARN, "app", "outside"); /* no id */
    ASSERT_EQ(lp.records, 2);
    ASSERT_EQ(lp.with_id, 1);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- embedder slots and ownership -------------------------------------------------------- */

struct mix {
    struct store *s;
    struct box *value;
    int seen_ok; /* callbacks that saw value current */
    int runs;
    int fds[2];
    struct evl_promise *p;
};

static void mix_check(struct mix *m)
{
    m->runs++;
    if (current(m->s) == m->value->value) {
        m->seen_ok++;
    }
}

static void mix_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    mix_check(arg);
}

static void mix_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    mix_check(arg);
}

static void mix_reaction(struct evl_loop *loop, void *value, void *arg, struct evl_result *res)
{
    (void)loop;
    (void)value;
    (void)res;
    mix_check(arg);
}

static void mix_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    mix_check(arg);
    char b;
    ASSERT_EQ(read(fd, &b, 1), 1);
    ASSERT_OK(evl_fd_stop(loop, fd));
}

static void mix_interval(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct mix *m = arg;
    mix_check(m);
    ASSERT_OK(evl_timer_clear(loop, id));
}

/* Schedules one of everything while the embedder's value is current. */
static void mix_schedule(struct evl_loop *loop, void *arg)
{
    struct mix *m = arg;
    struct box *prev = m->s->current;
    m->s->current = m->value;
    ASSERT_OK(evl_timer_set(loop, mix_timer, m, 1, 0, NULL));
    ASSERT_OK(evl_timer_set(loop, mix_interval, m, 1, 1, NULL));
    ASSERT_OK(evl_immediate_set(loop, mix_timer, m, NULL));
    ASSERT_OK(evl_loop_submit(loop, mix_task, m));
    ASSERT_OK(evl_queue_microtask(loop, mix_task, m));
    ASSERT_OK(evl_next_tick(loop, mix_task, m));
    ASSERT_OK(evl_promise_then(m->p, mix_reaction, NULL, m, NULL, NULL));
    ASSERT_OK(evl_fd_start(loop, m->fds[0], EVL_READABLE, mix_fd, m));
    ASSERT_EQ(write(m->fds[1], "x", 1), 1);
    m->s->current = prev;
    ASSERT_OK(evl_promise_resolve(m->p, NULL, NULL));
}

TEST(embedder_slot_enter_leave_balance)
{
    struct evl_loop *loop = quiet_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {77};
    struct mix m;
    memset(&m, 0, sizeof(m));
    m.s = &s;
    m.value = &v;
    ASSERT_EQ(pipe(m.fds), 0);
    ASSERT_OK(evl_promise_new(loop, &m.p));
    ASSERT_OK(evl_loop_submit(loop, mix_schedule, &m));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(m.runs, 8);
    ASSERT_EQ(m.seen_ok, 8);
    ASSERT_EQ(current(&s), -1);    /* restored after every callback */
    ASSERT_EQ(s.enters, s.leaves); /* balanced */
    ASSERT_GE(s.made, 8);
    evl_promise_release(m.p);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(s.releases, s.made); /* every captured value released exactly once */
    close(m.fds[0]);
    close(m.fds[1]);
}

static void never_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    ASSERT_TRUE(0); /* cleared or torn down: never runs */
}

static void never_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    ASSERT_TRUE(0);
}

static void never_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    (void)arg;
    ASSERT_TRUE(0);
}

static void never_reaction(struct evl_loop *loop, void *value, void *arg, struct evl_result *res)
{
    (void)loop;
    (void)value;
    (void)arg;
    (void)res;
    ASSERT_TRUE(0);
}

static int discards;

static void count_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    discards++;
}

/* Schedules work with a context and drops it without running: a frame is released when a
 * timer, immediate or interval is cleared, an fd stopped, a pending promise released. */
TEST(frames_freed_on_clear_and_stop)
{
    struct evl_loop *loop = quiet_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {5};
    s.current = &v;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    uint64_t t1 = 0;
    uint64_t t2 = 0;
    uint64_t t3 = 0;
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 0, &t1));
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 50, &t2));
    ASSERT_OK(evl_immediate_set(loop, never_timer, NULL, &t3));
    ASSERT_OK(evl_fd_start(loop, fds[0], EVL_READABLE, never_fd, NULL));
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_promise_then(p, never_reaction, NULL, NULL, NULL, NULL));
    ASSERT_EQ(s.made, 5);
    uint64_t scheduled = evl_test_live_blocks();
    ASSERT_OK(evl_timer_clear(loop, t1));
    ASSERT_OK(evl_timer_clear(loop, t2));
    ASSERT_OK(evl_immediate_clear(loop, t3));
    ASSERT_OK(evl_fd_stop(loop, fds[0]));
    evl_promise_release(p);
    ASSERT_EQ(s.releases, 5);
    /* Five frames and the three timer wrappers went at once, not at teardown. */
    ASSERT_UGE(scheduled - evl_test_live_blocks(), 8);
    s.current = NULL;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* the cleared immediate is reaped */
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 0, &t1));
    ASSERT_OK(evl_timer_clear(loop, t1));
    ASSERT_EQ(s.made, 5); /* no current value: frames hold NULL, nothing to release */
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(s.releases, 5);
    close(fds[0]);
    close(fds[1]);
}

/* Work still queued when the loop closes, shuts down or is freed releases its frames:
 * discarded tasks (their discard callbacks running in their context), cancelled timers and
 * intervals, torn-down fds, dropped microtasks, cancelled pool jobs. */
TEST(frames_freed_on_close_and_teardown)
{
    struct evl_loop *loop = quiet_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {9};
    s.current = &v;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    discards = 0;
    ASSERT_OK(evl_loop_submit_ex(loop, never_task, count_discard, NULL));
    ASSERT_OK(evl_loop_submit(loop, never_task, NULL));
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 0, NULL));
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 50, NULL));
    ASSERT_OK(evl_immediate_set(loop, never_timer, NULL, NULL));
    ASSERT_OK(evl_fd_start(loop, fds[0], EVL_READABLE, never_fd, NULL));
    ASSERT_OK(evl_queue_microtask(loop, never_task, NULL));
    ASSERT_OK(evl_next_tick(loop, never_task, NULL));
    ASSERT_EQ(s.made, 8);
    s.current = NULL;
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(discards, 1);
    ASSERT_UEQ(evl_loop_discarded(loop), 2);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(s.releases, 8);
    ASSERT_EQ(s.enters, s.leaves);
    close(fds[0]);
    close(fds[1]);
}

static void shutdown_task(struct evl_loop *loop, void *arg)
{
    struct store *s = arg;
    struct box *b = s->current; /* entered from the frame */
    ASSERT_NOT_NULL(b);
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 1000, 0, NULL)); /* cancelled by it */
    ASSERT_OK(evl_loop_shutdown(loop));
}

TEST(frames_freed_on_shutdown)
{
    struct evl_loop *loop = quiet_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {3};
    s.current = &v;
    ASSERT_OK(evl_loop_submit(loop, shutdown_task, &s));
    s.current = NULL;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(s.made, 2);
    ASSERT_EQ(s.releases, 2);
    ASSERT_EQ(s.enters, s.leaves);
    ASSERT_OK(evl_loop_free(loop));
}

/* The default: no slot, no id. Scheduling captures nothing and allocates nothing more. */
TEST(no_context_schedules_allocate_nothing_extra)
{
    struct evl_loop *loop = quiet_loop();
    uint64_t t = 0;
    /* Warm the pools. */
    ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 0, &t));
    ASSERT_OK(evl_timer_clear(loop, t));
    uint64_t before = evl_test_live_blocks();
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(evl_timer_set(loop, never_timer, NULL, 50, 0, &t));
        ASSERT_OK(evl_timer_clear(loop, t));
    }
    ASSERT_UEQ(evl_test_live_blocks(), before);
    ASSERT_OK(evl_loop_free(loop));
}

struct opts_probe {
    struct store *s;
    unsigned char given[16];
    int ok;
};

static void opts_task(struct evl_loop *loop, void *arg)
{
    struct opts_probe *op = arg;
    unsigned char got[16];
    op->ok =
        evl_correlation_get(loop, got) && memcmp(got, op->given, 16) == 0 && current(op->s) == 11;
}

/* On the loop thread an explicit id replaces the current one; slot values are kept. */
TEST(submit_opts_on_the_loop_thread_replaces_the_id)
{
    struct evl_loop *loop = quiet_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {11};
    s.current = &v;
    struct opts_probe op;
    memset(&op, 0, sizeof(op));
    op.s = &s;
    unsigned char ambient[16];
    ASSERT_OK(evl_correlation_new(loop, ambient));
    ASSERT_OK(evl_correlation_new(loop, op.given));
    ASSERT_OK(evl_correlation_set(loop, ambient));
    struct evl_submit_options o;
    evl_submit_options_init(&o);
    o.correlation_id = op.given;
    ASSERT_OK(evl_loop_submit_opts(loop, opts_task, &op, &o));
    ASSERT_OK(evl_correlation_set(loop, NULL));
    s.current = NULL;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(op.ok, 1);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(s.releases, s.made);
}

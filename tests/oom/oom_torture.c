/*
 * Out-of-memory torture, curl's method: a case is run once to count its allocations (N),
 * then N more times, failing the 1st, 2nd, ... Nth allocation in turn (evl_alloc_fail_at).
 * Every run must end cleanly: each call returns 0 or EVL_ENOMEM (work that fails later,
 * inside the loop, surfaces as a promise rejected with EVL_ENOMEM), a refused call never
 * runs its callback, nothing is left half-registered (the loop frees without EVL_EBUSY and
 * runs only the work that was accepted), and the tracking allocator is back to zero live
 * blocks. Crashes, double frees and use-after-free are the sanitizers' to report.
 *
 *   oom_torture --list          the case names
 *   oom_torture CASE            count, then fail each allocation in turn
 *   oom_torture CASE --count    only count (and run the case once)
 *   oom_torture CASE --at K     fail only the Kth allocation (to study one failure point)
 *
 * A case is a function written with OOM_TRY, which leaves through the cleanup label on
 * EVL_ENOMEM and fails the test on any other error; cases register with OOM_CASE(name).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evl.h"

struct oom_case {
    const char *name;
    int (*fn)(void);
    struct oom_case *next;
};

static struct oom_case *cases;

/* Adapter cases: a separate name so the build registers them only with the adapter. */
#define OOM_DUK_CASE OOM_CASE

#define OOM_CASE(name)                                                  \
    static int oom_##name(void);                                        \
    static struct oom_case oom_case_##name = {#name, oom_##name, NULL}; \
    __attribute__((constructor)) static void oom_register_##name(void)  \
    {                                                                   \
        oom_case_##name.next = cases;                                   \
        cases = &oom_case_##name;                                       \
    }                                                                   \
    static int oom_##name(void)

static int failing; /* nonzero while an allocation failure is armed */

static void oom_fail(const char *file, int line, const char *what, int rc)
{
    fprintf(stderr, "%s:%d: %s (rc %d %s)\n", file, line, what, rc, evl_err_name(rc));
    exit(1);
}

/* Runs call; EVL_ENOMEM ends the case through its cleanup (label out), any other error
 * fails it. */
#define OOM_TRY(call)                                         \
    do {                                                      \
        int oom_rc_ = (call);                                 \
        if (oom_rc_ != 0) {                                   \
            if (oom_rc_ != EVL_ENOMEM) {                      \
                oom_fail(__FILE__, __LINE__, #call, oom_rc_); \
            }                                                 \
            rc = EVL_ENOMEM;                                  \
            goto out;                                         \
        }                                                     \
    } while (0)

#define OOM_CHECK(cond)                                       \
    do {                                                      \
        if (!(cond)) {                                        \
            oom_fail(__FILE__, __LINE__, "check: " #cond, 0); \
        }                                                     \
    } while (0)

/* The loop must free (nothing half-registered keeps it busy). */
static void finish_loop(struct evl_loop *loop)
{
    if (!loop) {
        return;
    }
    int rc = evl_loop_close(loop);
    OOM_CHECK(rc == 0 || rc == EVL_EALREADY);
    for (int i = 0; i < 8 && evl_loop_run(loop, EVL_RUN_NOWAIT) > 0; i++) {
    }
    rc = evl_loop_free(loop);
    if (rc != 0) {
        oom_fail(__FILE__, __LINE__, "evl_loop_free", rc);
    }
}

/* A promise's outcome after its work ran: the expected value, or a rejection with
 * EVL_ENOMEM when an allocation inside the loop failed. Pending is a lost settlement. */
static void check_outcome(struct evl_promise *p, int expect_fulfilled, const void *expect)
{
    enum evl_promise_state st = evl_promise_state(p);
    OOM_CHECK(st != EVL_PROMISE_PENDING);
    const struct evl_error *err = evl_promise_reason_as_error(p);
    if (st == EVL_PROMISE_REJECTED && err && evl_error_code(err) == EVL_ENOMEM) {
        OOM_CHECK(failing);
        return;
    }
    OOM_CHECK(st == (expect_fulfilled ? EVL_PROMISE_FULFILLED : EVL_PROMISE_REJECTED));
    if (expect) {
        OOM_CHECK(evl_promise_value(p) == expect);
    }
}

static uint64_t fake_now;
static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static int new_loop(struct evl_loop **loop)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = fake_clock;
    o.spin_ns = EVL_SPIN_OFF;
    fake_now = 1000000000u;
    *loop = NULL;
    return evl_loop_new(loop, &o);
}

static int counter;
static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    counter++;
}
static void count_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    counter++;
}
static int discarded;
static void count_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    discarded++;
}

/* ---- loop ----------------------------------------------------------------------------- */

OOM_CASE(loop_new_free)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    OOM_TRY(evl_loop_new(&loop, NULL));
out:
    finish_loop(loop);
    return rc;
}

OOM_CASE(loop_new_poll_backend)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.backend = EVL_BACKEND_POLL;
    o.timer_clamp = EVL_TIMER_CLAMP_NODE;
    OOM_TRY(evl_loop_new(&loop, &o));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
out:
    finish_loop(loop);
    return rc;
}

static int hook_calls;
static void hook_cb(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    hook_calls++;
}

OOM_CASE(loop_hooks)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int added = 0;
    hook_calls = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_loop_add_hook(loop, EVL_HOOK_PREPARE | EVL_HOOK_CHECK, hook_cb, NULL));
    added = 1;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT) < 0 ? evl_loop_run(loop, EVL_RUN_NOWAIT) : 0);
    OOM_CHECK(hook_calls > 0);
    OOM_TRY(evl_loop_remove_hook(loop, EVL_HOOK_PREPARE | EVL_HOOK_CHECK, hook_cb, NULL));
out:
    if (!added) {
        OOM_CHECK(hook_calls == 0);
    }
    finish_loop(loop);
    return rc;
}

OOM_CASE(loop_shutdown_drains)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int accepted = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT)); /* becomes the loop thread */
    for (int i = 0; i < 20; i++) {
        OOM_TRY(evl_loop_submit(loop, count_task, NULL));
        accepted++;
    }
    OOM_TRY(evl_loop_shutdown(loop));
    OOM_CHECK(counter == accepted);
out:
    finish_loop(loop);
    OOM_CHECK(counter == accepted);
    return rc;
}

OOM_CASE(loop_close_discards)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int accepted = 0;
    counter = 0;
    discarded = 0;
    OOM_TRY(new_loop(&loop));
    for (int i = 0; i < 20; i++) {
        OOM_TRY(evl_loop_submit_ex(loop, count_task, count_discard, NULL));
        accepted++;
    }
out:
    finish_loop(loop);
    OOM_CHECK(counter == 0 && discarded == accepted);
    return rc;
}

/* ---- timers ----------------------------------------------------------------------------- */

OOM_CASE(timer_set_fire)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int set = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    for (int i = 0; i < 5; i++) {
        uint64_t id;
        OOM_TRY(evl_timer_set(loop, count_timer, NULL, (uint64_t)i * 3, 0, &id));
        set++;
    }
    fake_now += 100000000u;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == set);
out:
    OOM_CHECK(counter <= set);
    finish_loop(loop);
    return rc;
}

OOM_CASE(timer_many)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int set = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    for (int i = 0; i < 300; i++) {
        uint64_t id;
        OOM_TRY(evl_timer_set(loop, count_timer, NULL, (uint64_t)(i * 7919) % 5000, 0, &id));
        set++;
    }
    fake_now += 6000000000u;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == set);
out:
    finish_loop(loop);
    return rc;
}

OOM_CASE(timer_interval_clear)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    uint64_t id = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_timer_set(loop, count_timer, NULL, 1, 1, &id));
    for (int i = 0; i < 3; i++) {
        fake_now += 1000000u;
        int r = evl_loop_run(loop, EVL_RUN_NOWAIT);
        OOM_CHECK(r >= 0);
    }
    OOM_CHECK(counter == 3);
    OOM_TRY(evl_timer_clear(loop, id));
    fake_now += 10000000u;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == 3);
out:
    finish_loop(loop);
    return rc;
}

OOM_CASE(timer_refresh_unref)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    uint64_t a = 0;
    uint64_t b = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_timer_set(loop, count_timer, NULL, 10, 0, &a));
    OOM_TRY(evl_timer_set(loop, count_timer, NULL, 20, 0, &b));
    fake_now += 5000000u;
    OOM_TRY(evl_timer_refresh(loop, a));
    OOM_TRY(evl_timer_unref(loop, b));
    fake_now += 30000000u;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter >= 1);
out:
    finish_loop(loop);
    return rc;
}

OOM_CASE(immediates)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int set = 0;
    counter = 0;
    OOM_TRY(new_loop(&loop));
    for (int i = 0; i < 100; i++) {
        uint64_t id;
        OOM_TRY(evl_immediate_set(loop, count_timer, NULL, &id));
        set++;
        if (i % 10 == 0) {
            OOM_TRY(evl_immediate_clear(loop, id));
            set--;
        }
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == set);
out:
    OOM_CHECK(counter <= set);
    finish_loop(loop);
    return rc;
}

OOM_CASE(timer_html_clamp_chain)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.timer_clamp = EVL_TIMER_CLAMP_HTML;
    o.clock = fake_clock;
    fake_now = 1;
    counter = 0;
    OOM_TRY(evl_loop_new(&loop, &o));
    uint64_t id;
    OOM_TRY(evl_timer_set(loop, count_timer, NULL, 0, 1, &id));
    for (int i = 0; i < 10; i++) {
        fake_now += 5000000u;
        OOM_CHECK(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    }
    OOM_CHECK(counter > 0);
out:
    finish_loop(loop);
    return rc;
}

/* ---- submit, microtasks, nextTick ---------------------------------------------------------- */

static int chain_rc;
static void queue_children(struct evl_loop *loop, void *arg)
{
    (void)arg;
    counter++;
    for (int i = 0; i < 20 && chain_rc == 0; i++) {
        int r = (i % 2) ? evl_queue_microtask(loop, count_task, NULL)
                        : evl_next_tick(loop, count_task, NULL);
        if (r != 0) {
            OOM_CHECK(r == EVL_ENOMEM);
            chain_rc = r;
        } else {
            discarded++; /* here: the number accepted */
        }
    }
}

OOM_CASE(microtasks_and_ticks)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    counter = 0;
    discarded = 0;
    chain_rc = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_loop_submit(loop, queue_children, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == 1 + discarded);
    rc = chain_rc;
out:
    finish_loop(loop);
    return rc;
}

static void submit_more(struct evl_loop *loop, void *arg)
{
    (void)arg;
    counter++;
    for (int i = 0; i < 30 && chain_rc == 0; i++) {
        int r = evl_loop_submit(loop, count_task, NULL);
        if (r != 0) {
            OOM_CHECK(r == EVL_ENOMEM);
            chain_rc = r;
        } else {
            discarded++;
        }
    }
}

OOM_CASE(submit_loop_thread)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    counter = 0;
    discarded = 0;
    chain_rc = 0;
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_loop_submit(loop, submit_more, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == 1 + discarded);
    rc = chain_rc;
out:
    finish_loop(loop);
    return rc;
}

struct producer {
    struct evl_loop *loop;
    int accepted;
    int refused_nomem;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < 200; i++) {
        int r = evl_loop_submit_ex(p->loop, count_task, count_discard, NULL);
        if (r == 0) {
            p->accepted++;
        } else {
            OOM_CHECK(r == EVL_ENOMEM);
            p->refused_nomem++;
        }
    }
    return NULL;
}

OOM_CASE(submit_other_thread)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    counter = 0;
    discarded = 0;
    struct producer p = {0};
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT));
    p.loop = loop;
    pthread_t t;
    OOM_CHECK(pthread_create(&t, NULL, producer_main, &p) == 0);
    pthread_join(t, NULL);
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == p.accepted);
    rc = p.refused_nomem ? EVL_ENOMEM : 0;
out:
    finish_loop(loop);
    OOM_CHECK(counter + discarded == p.accepted);
    return rc;
}

OOM_CASE(submit_wait_bounded)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int accepted = 0;
    counter = 0;
    discarded = 0;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_queued_tasks = 8;
    OOM_TRY(evl_loop_new(&loop, &o));
    for (int i = 0; i < 20; i++) {
        int r = evl_loop_submit_wait(loop, count_task, count_discard, NULL, 0);
        if (r == EVL_EAGAIN) {
            OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT) < 0 ? EVL_EIO : 0);
            continue;
        }
        OOM_TRY(r);
        accepted++;
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == accepted);
out:
    finish_loop(loop);
    OOM_CHECK(counter + discarded == accepted);
    return rc;
}

/* ---- io -------------------------------------------------------------------------------------- */

static void fd_read_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)events;
    (void)arg;
    (void)status;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    counter++;
    evl_fd_stop(loop, fd);
}

OOM_CASE(fd_start_stop)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int sv[2];
    int started = 0;
    counter = 0;
    OOM_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_fd_start(loop, sv[0], EVL_READABLE, fd_read_cb, NULL));
    started = 1;
    OOM_CHECK(write(sv[1], "x", 1) == 1);
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == 1 && !evl_fd_active(loop, sv[0]));
out:
    if (!started) {
        OOM_CHECK(counter == 0);
    }
    if (loop && evl_fd_active(loop, sv[0])) {
        OOM_CHECK(evl_fd_stop(loop, sv[0]) == 0);
    }
    finish_loop(loop);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

OOM_CASE(fd_many)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int sv[16][2];
    int started = 0;
    counter = 0;
    for (int i = 0; i < 16; i++) {
        OOM_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]) == 0);
    }
    OOM_TRY(new_loop(&loop));
    for (int i = 0; i < 16; i++) {
        OOM_TRY(evl_fd_start(loop, sv[i][0], EVL_READABLE, fd_read_cb, NULL));
        started++;
        OOM_CHECK(write(sv[i][1], "x", 1) == 1);
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    OOM_CHECK(counter == started);
out:
    for (int i = 0; i < 16; i++) {
        if (loop && evl_fd_active(loop, sv[i][0])) {
            OOM_CHECK(evl_fd_stop(loop, sv[i][0]) == 0);
        }
    }
    finish_loop(loop);
    OOM_CHECK(counter <= started);
    for (int i = 0; i < 16; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    return rc;
}

static int timeouts_seen;
static void fd_timeout_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)events;
    (void)arg;
    if (status == EVL_ETIMEDOUT) {
        timeouts_seen++;
    }
    evl_fd_stop(loop, fd);
}

OOM_CASE(fd_start_timeout)
{
    struct evl_loop *loop = NULL;
    int rc = 0;
    int sv[2];
    timeouts_seen = 0;
    OOM_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    OOM_TRY(new_loop(&loop));
    OOM_TRY(evl_fd_start_timeout(loop, sv[0], EVL_READABLE, 5, fd_timeout_cb, NULL));
    fake_now += 10000000u;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT) < 0 ? EVL_EIO : 0);
    OOM_CHECK(timeouts_seen == 1);
out:
    if (loop && evl_fd_active(loop, sv[0])) {
        OOM_CHECK(evl_fd_stop(loop, sv[0]) == 0);
    }
    finish_loop(loop);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* ---- promises ------------------------------------------------------------------------------ */

static char v1[] = "v1";
static char v2[] = "v2";

static void h_forward(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    evl_result_forward(result);
}

static void h_return_v2(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    int r = evl_result_resolve(result, v2, NULL);
    OOM_CHECK(r == 0);
}

static void h_throw_v2(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    int r = evl_result_reject(result, v2, NULL);
    OOM_CHECK(r == 0);
}

static void release_all(struct evl_promise **ps, int n)
{
    for (int i = 0; i < n; i++) {
        evl_promise_release(ps[i]);
    }
}

static void noop_rejection(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)loop;
    (void)p;
    (void)ud;
}

static int new_promise_loop(struct evl_loop **loop)
{
    int rc = new_loop(loop);
    if (rc == 0) {
        rc = evl_loop_set_rejection_hooks(*loop, noop_rejection, noop_rejection, NULL);
        if (rc != 0) {
            finish_loop(*loop);
            *loop = NULL;
        }
    }
    return rc;
}

OOM_CASE(promise_resolve_then)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[3];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    OOM_TRY(evl_promise_then(ps[0], h_return_v2, NULL, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_resolve(ps[0], v1, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[0], 1, v1);
    check_outcome(ps[1], 1, v2);
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

OOM_CASE(promise_chain)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[12];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_resolved(loop, v1, NULL, &ps[np]));
    np++;
    for (int i = 0; i < 10; i++) {
        OOM_TRY(evl_promise_then(ps[np - 1], i % 3 ? h_forward : NULL, NULL, NULL, NULL, &ps[np]));
        np++;
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[np - 1], 1, v1);
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

OOM_CASE(promise_reject_catch)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[4];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_rejected(loop, v1, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_then(ps[0], h_return_v2, NULL, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_catch(ps[1], h_throw_v2, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[1], 0, v1);
    check_outcome(ps[2], 0, v2);
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

static void fin_cb(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
    counter++;
}

OOM_CASE(promise_finally)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[4];
    int np = 0;
    int rc = 0;
    counter = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    OOM_TRY(evl_promise_finally(ps[0], fin_cb, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_finally(ps[1], fin_cb, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_reject(ps[0], v1, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[2], 0, NULL);
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

OOM_CASE(promise_adopt)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[4];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    OOM_TRY(evl_promise_resolve_promise(ps[1], ps[0]));
    OOM_TRY(evl_promise_then(ps[1], h_forward, NULL, NULL, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_resolve(ps[0], v1, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[2], 1, v1);
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

OOM_CASE(promise_with_resolvers)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *p = NULL;
    struct evl_promise_resolvers *r = NULL;
    struct evl_promise *d = NULL;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_with_resolvers(loop, &p, &r));
    OOM_TRY(evl_promise_then(p, h_forward, h_forward, NULL, NULL, &d));
    OOM_TRY(evl_resolvers_resolve(r, v1, NULL));
    OOM_CHECK(evl_resolvers_resolve(r, v2, NULL) == EVL_EALREADY);
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(d, 1, v1);
out:
    if (d) {
        evl_promise_release(d);
    }
    if (r) {
        evl_promise_resolvers_release(r);
    }
    if (p) {
        evl_promise_release(p);
    }
    finish_loop(loop);
    return rc;
}

static void try_fn(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    int r = evl_result_resolve(result, v1, NULL);
    OOM_CHECK(r == 0);
}

static void counted_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    (void)ptr;
    discarded++;
}

OOM_CASE(promise_try_dtor)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *p = NULL;
    int rc = 0;
    discarded = 0;
    OOM_TRY(new_promise_loop(&loop));
    rc = evl_promise_try(loop, try_fn, v2, counted_dtor, &p);
    if (rc != 0) {
        OOM_CHECK(rc == EVL_ENOMEM && discarded == 0); /* refused: arg stays the caller's */
        goto out;
    }
    OOM_CHECK(discarded == 1);
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(p, 1, v1);
out:
    if (p) {
        evl_promise_release(p);
    }
    finish_loop(loop);
    return rc;
}

static void value_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    evl_free(ptr);
}

struct resolver_job {
    struct evl_resolver *r;
    void *value;
    int rc;
};

static void *resolver_main(void *arg)
{
    struct resolver_job *j = arg;
    j->rc = evl_resolver_resolve(j->r, j->value, value_dtor);
    if (j->rc != 0) {
        evl_free(j->value); /* refused: still ours */
    }
    evl_resolver_release(j->r);
    return NULL;
}

OOM_CASE(resolver_thread)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *p = NULL;
    int rc = 0;
    struct resolver_job j = {0};
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_NOWAIT));
    OOM_TRY(evl_promise_new(loop, &p));
    OOM_TRY(evl_resolver_new(p, &j.r));
    j.value = evl_malloc(16);
    if (!j.value) {
        evl_resolver_release(j.r);
        rc = EVL_ENOMEM;
        goto out;
    }
    pthread_t t;
    OOM_CHECK(pthread_create(&t, NULL, resolver_main, &j) == 0);
    pthread_join(t, NULL);
    if (j.rc != 0) {
        OOM_CHECK(j.rc == EVL_ENOMEM);
        rc = EVL_ENOMEM;
        goto out;
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(p, 1, j.value);
out:
    if (p) {
        evl_promise_release(p);
    }
    finish_loop(loop);
    return rc;
}

/* ---- combinators -------------------------------------------------------------------------- */

/* kind: 0 all, 1 any, 2 race, 3 allSettled; two promises and one plain value. */
static int combinator_case(int kind, int reject_first)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[4];
    int np = 0;
    int rc = 0;
    void *plain = NULL;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    OOM_TRY(evl_promise_new(loop, &ps[np]));
    np++;
    plain = evl_malloc(8);
    if (!plain) {
        rc = EVL_ENOMEM;
        goto out;
    }
    struct evl_promise_input in[3] = {
        {ps[0], NULL, NULL}, {NULL, plain, value_dtor}, {ps[1], NULL, NULL}};
    int r = kind == 0   ? evl_promise_all(loop, in, 3, &ps[np])
            : kind == 1 ? evl_promise_any(loop, in, 3, &ps[np])
            : kind == 2 ? evl_promise_race(loop, in, 3, &ps[np])
                        : evl_promise_all_settled(loop, in, 3, &ps[np]);
    if (r != 0) {
        OOM_CHECK(r == EVL_ENOMEM);
        rc = r;
        goto out; /* the plain value stays ours */
    }
    plain = NULL;
    np++;
    if (reject_first) {
        OOM_TRY(evl_promise_reject(ps[0], v1, NULL));
    } else {
        OOM_TRY(evl_promise_resolve(ps[0], v1, NULL));
    }
    OOM_TRY(evl_promise_resolve(ps[1], v2, NULL));
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    int expect_fulfilled = kind == 0 ? !reject_first : 1;
    check_outcome(ps[2], expect_fulfilled, NULL);
out:
    evl_free(plain);
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

OOM_CASE(combinator_all)
{
    return combinator_case(0, 0);
}

OOM_CASE(combinator_all_rejects)
{
    return combinator_case(0, 1);
}

OOM_CASE(combinator_any)
{
    return combinator_case(1, 1);
}

OOM_CASE(combinator_race)
{
    return combinator_case(2, 0);
}

OOM_CASE(combinator_all_settled)
{
    return combinator_case(3, 1);
}

OOM_CASE(combinator_any_all_rejected)
{
    struct evl_loop *loop = NULL;
    struct evl_promise *ps[3];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_promise_rejected(loop, v1, NULL, &ps[np]));
    np++;
    OOM_TRY(evl_promise_rejected(loop, v2, NULL, &ps[np]));
    np++;
    struct evl_promise_input in[2] = {{ps[0], NULL, NULL}, {ps[1], NULL, NULL}};
    OOM_TRY(evl_promise_any(loop, in, 2, &ps[np]));
    np++;
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    check_outcome(ps[2], 0, NULL);
    const struct evl_error *err = evl_promise_reason_as_error(ps[2]);
    OOM_CHECK(err != NULL);
    if (evl_error_code(err) == EVL_EAGGREGATE) {
        OOM_CHECK(evl_values_count(evl_error_errors(err)) == 2);
    }
out:
    release_all(ps, np);
    finish_loop(loop);
    return rc;
}

/* ---- pool ----------------------------------------------------------------------------------- */

static int work_fn(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)dtor_out;
    *value_out = arg;
    return 0;
}

OOM_CASE(pool_submit)
{
    struct evl_loop *loop = NULL;
    struct evl_pool *pool = NULL;
    struct evl_promise *ps[6];
    int np = 0;
    int rc = 0;
    OOM_TRY(new_promise_loop(&loop));
    OOM_TRY(evl_pool_new(&pool, 2));
    for (int i = 0; i < 6; i++) {
        OOM_TRY(evl_pool_submit(pool, loop, work_fn, v1, &ps[np]));
        np++;
    }
    OOM_TRY(evl_loop_run(loop, EVL_RUN_DEFAULT));
    for (int i = 0; i < np; i++) {
        check_outcome(ps[i], 1, v1);
    }
out:
    if (rc != 0 && loop) {
        /* The jobs accepted before the failure still settle. */
        OOM_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT) >= 0);
        for (int i = 0; i < np; i++) {
            check_outcome(ps[i], 1, v1);
        }
    }
    release_all(ps, np);
    if (pool) {
        OOM_CHECK(evl_pool_free(pool) == 0);
    }
    finish_loop(loop);
    return rc;
}

/* ---- errors ---------------------------------------------------------------------------------- */

OOM_CASE(error_with_cause)
{
    struct evl_error *a = NULL;
    struct evl_error *b = NULL;
    int rc = 0;
    OOM_TRY(evl_error_new(&a, EVL_EIO, "outer %d", 1));
    OOM_TRY(evl_error_new(&b, EVL_ENOENT, "inner %s", "x"));
    OOM_TRY(evl_error_set_cause(a, b));
    b = NULL;
    OOM_CHECK(evl_error_find(a, EVL_ENOENT) != NULL);
out:
    evl_error_free(b);
    evl_error_free(a);
    return rc;
}

/* ---- Duktape adapter (public API only) --------------------------------------------------------
 */

#ifdef EVL_OOM_DUKTAPE
#include "evl_duktape.h"

/* Heap creation, install and a script using a timer, a promise and a microtask. An
 * allocation failure must surface as EVL_ENOMEM from the C calls or as a JS RangeError. */
static int duk_script_case(const char *src)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    int rc = 0;
    OOM_TRY(evl_loop_new(&loop, NULL));
    OOM_TRY(evl_duk_heap_new(&ctx, NULL));
    OOM_TRY(evl_duk_install(ctx, loop, 0));
    if (duk_peval_string(ctx, src) != 0) {
        OOM_CHECK(failing);
        OOM_CHECK(duk_is_error(ctx, -1));
        OOM_CHECK(duk_get_error_code(ctx, -1) == DUK_ERR_RANGE_ERROR);
        duk_pop(ctx);
        rc = EVL_ENOMEM;
        goto out;
    }
    duk_pop(ctx);
    OOM_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT) >= 0);
    duk_get_global_string(ctx, "out");
    const char *got = duk_safe_to_string(ctx, -1);
    if (strcmp(got, "2,3,1") != 0) {
        /* A callback that failed for lack of memory reported its RangeError. */
        OOM_CHECK(failing);
        rc = EVL_ENOMEM;
    }
    duk_pop(ctx);
out:
    if (ctx) {
        OOM_CHECK(evl_duk_heap_free(ctx) == 0);
    }
    finish_loop(loop);
    return rc;
}

OOM_DUK_CASE(duk_install_script)
{
    return duk_script_case("var out = [];"
                           "setTimeout(function () { out.push(1); }, 0);"
                           "Promise.resolve(2).then(function (v) { out.push(v); });"
                           "queueMicrotask(function () { out.push(3); });"
                           "out.length");
}
#endif

/* ---- driver -----------------------------------------------------------------------------------
 */

static uint64_t live_blocks(void)
{
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    return st.live_blocks;
}

static int torture(const struct oom_case *c, int count_only, uint64_t only)
{
    struct evl_alloc_stats st0;
    struct evl_alloc_stats st1;
    evl_alloc_stats(&st0);
    int rc = c->fn();
    evl_alloc_stats(&st1);
    if (rc != 0) {
        fprintf(stderr, "%s: failed without an injected failure (%d %s)\n", c->name, rc,
                evl_err_name(rc));
        return 1;
    }
    if (st1.live_blocks != 0) {
        fprintf(stderr, "%s: leaked %" PRIu64 " blocks\n", c->name, st1.live_blocks);
        return 1;
    }
    uint64_t n = st1.total_allocs - st0.total_allocs;
    if (count_only) {
        printf("%s: %" PRIu64 " allocations\n", c->name, n);
        return 0;
    }
    uint64_t enomem = 0;
    uint64_t recovered = 0;
    /* A few more than counted: paths with threads vary a little from run to run. */
    for (uint64_t k = only ? only : 1; k <= (only ? only : n + 2); k++) {
        failing = 1;
        evl_alloc_fail_at(k, 0);
        rc = c->fn();
        evl_alloc_fail_at(0, 0);
        failing = 0;
        if (rc == EVL_ENOMEM) {
            enomem++;
        } else if (rc == 0) {
            recovered++; /* the failure was absorbed (a retry, a fallback) or not reached */
        } else {
            fprintf(stderr, "%s: failing allocation %" PRIu64 ": %d %s\n", c->name, k, rc,
                    evl_err_name(rc));
            return 1;
        }
        uint64_t live = live_blocks();
        if (live != 0) {
            fprintf(stderr, "%s: failing allocation %" PRIu64 " leaked %" PRIu64 " blocks\n",
                    c->name, k, live);
            return 1;
        }
    }
    printf("%s: %" PRIu64 " failure points, %" PRIu64 " surfaced as EVL_ENOMEM, %" PRIu64
           " absorbed\n",
           c->name, n, enomem, recovered);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s --list | CASE [--count]\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (struct oom_case *c = cases; c; c = c->next) {
            printf("%s\n", c->name);
        }
        return 0;
    }
    evl_alloc_tracking_enable();
    for (struct oom_case *c = cases; c; c = c->next) {
        if (strcmp(c->name, argv[1]) == 0) {
            uint64_t only =
                argc > 3 && strcmp(argv[2], "--at") == 0 ? strtoull(argv[3], NULL, 10) : 0;
            return torture(c, argc > 2 && strcmp(argv[2], "--count") == 0, only);
        }
    }
    fprintf(stderr, "no case named %s\n", argv[1]);
    return 2;
}

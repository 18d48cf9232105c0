/*
 * Fuzzes the loop's public operations against a reference model, on a fake clock. The input
 * is a program of (op, arg) byte pairs: submit, timer set / clear / refresh, immediate,
 * nextTick and queueMicrotask from outside a callback (followed by the embedder's
 * checkpoint), fd start / stop on a socketpair and writes to its peer, one non-blocking
 * iteration after advancing the clock, a producer thread submitting tasks (and possibly
 * stopping or shutting the loop down) while the loop runs, shutdown and close.
 *
 * What the model checks, as each callback runs:
 *   - every callback belongs to work that is pending: never after a clear, an fd stop, a
 *     close, or (for timers and immediates) a shutdown;
 *   - order within each class: tasks FIFO per producer, due timers by (deadline, scheduling
 *     order), immediates FIFO; the nextTick and microtask queues drained after every callback
 *     (ticks first, each FIFO), so a timer, immediate, task or fd callback never finds either
 *     non-empty;
 *   - after evl_loop_stop from a callback, nothing but that callback's checkpoint runs in the
 *     same evl_loop_run;
 * and after every iteration not cut short by a stop: nothing due is left behind (due timers,
 * immediates, tasks submitted before the iteration, readable bytes on a started fd).
 * At the end: every accepted task ran or was discarded exactly once, every refused one did
 * neither, evl_loop_free succeeds and the tracking allocator is back to its starting count.
 * Hangs (a lost wake-up, a deadlock with the producer) show as libFuzzer timeouts.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS      512
#define MAX_THREAD     64
#define MAX_PRODUCERS  8  /* threads per input: each costs a clone */
#define FLAG_SPAWN     1u /* the callback queues one nextTick and one microtask */
#define FLAG_STOP      2u /* the callback calls evl_loop_stop */
#define FLAG_NODISCARD 4u /* submitted without a discard callback */

enum kind { K_TASK, K_TIMER, K_IMM, K_TICK, K_MICRO };

struct item {
    enum kind kind;
    unsigned flags;
    uint64_t id;
    uint64_t deadline;
    uint64_t seq;
    uint64_t repeat; /* ns; 0 for a timeout */
    uint64_t period; /* ns: what a refresh re-arms with */
    int live;        /* accepted and not yet run, cleared or cancelled */
    int ran;
    int discarded;
};

/* A task submitted by the producer thread: written by it before the submit, read by the
 * loop thread in the callback, so the state words are atomic. */
struct titem {
    uint64_t seq;
    int producer;
    atomic_int submitted;
    atomic_int refused;
    atomic_int ran;
    atomic_int discarded;
};

struct model {
    struct evl_loop *loop;
    struct item items[MAX_ITEMS];
    int n;
    uint64_t seq;
    uint64_t now;
    /* FIFO queues of item indices, in the order the loop must honour. */
    int taskq[MAX_ITEMS], taskq_head, taskq_tail;
    int immq[MAX_ITEMS], immq_head, immq_tail;
    int tickq[MAX_ITEMS], tickq_head, tickq_tail;
    int microq[MAX_ITEMS], microq_head, microq_tail;
    int stopped;         /* a callback called evl_loop_stop in the current run */
    int racy;            /* the producer may stop or shut the loop down at any moment */
    int terminating;     /* shutdown or close accepted on the loop thread */
    int closed;          /* close accepted: queued tasks are discarded, not run */
    int remote_shutdown; /* the producer may have shut the loop down */
    int in_run;
    int ever_ran; /* before its first run the loop has no thread: close drains at the run */
    /* The socketpair: fd[0] is watched, fd[1] is written by the driver. */
    int fd[2];
    int fd_active;
    int fd_pending;
    /* The producer thread. */
    pthread_t thread;
    int thread_live;
    struct titem titems[MAX_THREAD];
    int ntitems;
    unsigned thread_count;
    unsigned thread_action; /* 0 none, 1 stop, 2 shutdown */
    int nproducers;
    uint64_t last_tseq[MAX_THREAD]; /* per producer: written on the loop thread only */
};

static struct model m;

static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return m.now;
}

static void fail(int line)
{
    fprintf(stderr, "fuzz_loop_ops: invariant at line %d broken\n", line);
    abort();
}

#define check(ok) ((ok) ? (void)0 : fail(__LINE__))

/* Whether the loop may refuse new work now. */
static int may_refuse(void)
{
    return m.terminating || m.remote_shutdown;
}

static int queue_empty(int head, int tail)
{
    return head == tail;
}

/* A timer, immediate, task or fd callback: the previous checkpoint drained both queues, and
 * no macrotask runs after a stop in the same run. */
static void enter_macro(void)
{
    check(queue_empty(m.tickq_head, m.tickq_tail));
    check(queue_empty(m.microq_head, m.microq_tail));
    check(!m.stopped || m.remote_shutdown); /* a shutdown drain outlasts a stop */
}

static void tick_cb(struct evl_loop *loop, void *arg);
static void micro_cb(struct evl_loop *loop, void *arg);

static int new_item(enum kind kind, unsigned flags)
{
    if (m.n == MAX_ITEMS) {
        return -1;
    }
    struct item *it = &m.items[m.n];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->flags = flags;
    it->seq = ++m.seq;
    return m.n++;
}

/* After a macrotask: what its flags ask for. */
static void leave_macro(struct evl_loop *loop, unsigned flags)
{
    if (flags & FLAG_SPAWN) {
        int t = new_item(K_TICK, 0);
        int u = t < 0 ? -1 : new_item(K_MICRO, 0);
        if (u >= 0) {
            if (evl_next_tick(loop, tick_cb, (void *)(intptr_t)t) == 0) {
                m.items[t].live = 1;
                m.tickq[m.tickq_tail++] = t;
            }
            if (evl_queue_microtask(loop, micro_cb, (void *)(intptr_t)u) == 0) {
                m.items[u].live = 1;
                m.microq[m.microq_tail++] = u;
            }
        }
    }
    if ((flags & FLAG_STOP) && m.in_run) {
        check(evl_loop_stop(loop) == 0);
        m.stopped = 1;
    }
}

static void tick_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    int i = (int)(intptr_t)arg;
    check(!queue_empty(m.tickq_head, m.tickq_tail) && m.tickq[m.tickq_head] == i);
    m.tickq_head++;
    check(m.items[i].live && !m.items[i].ran);
    m.items[i].live = 0;
    m.items[i].ran = 1;
}

static void micro_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    int i = (int)(intptr_t)arg;
    check(queue_empty(m.tickq_head, m.tickq_tail)); /* nextTicks drain first */
    check(!queue_empty(m.microq_head, m.microq_tail) && m.microq[m.microq_head] == i);
    m.microq_head++;
    check(m.items[i].live && !m.items[i].ran);
    m.items[i].live = 0;
    m.items[i].ran = 1;
}

static void task_cb(struct evl_loop *loop, void *arg)
{
    int i = (int)(intptr_t)arg;
    enter_macro();
    check(!m.closed);
    check(!queue_empty(m.taskq_head, m.taskq_tail) && m.taskq[m.taskq_head] == i);
    m.taskq_head++;
    struct item *it = &m.items[i];
    check(it->live && !it->ran && !it->discarded);
    it->live = 0;
    it->ran = 1;
    leave_macro(loop, it->flags);
}

static void task_discard_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    int i = (int)(intptr_t)arg;
    struct item *it = &m.items[i];
    check(it->live && !it->ran && !it->discarded);
    /* Tasks ahead of it without a discard callback were dropped silently. */
    while (m.taskq_head < m.taskq_tail && m.taskq[m.taskq_head] != i) {
        struct item *skipped = &m.items[m.taskq[m.taskq_head++]];
        check(skipped->flags & FLAG_NODISCARD);
        skipped->live = 0;
        skipped->discarded = 1;
    }
    check(!queue_empty(m.taskq_head, m.taskq_tail));
    m.taskq_head++;
    it->live = 0;
    it->discarded = 1;
}

static int earlier(const struct item *a, const struct item *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    int i = (int)(intptr_t)arg;
    struct item *it = &m.items[i];
    enter_macro();
    check(!m.terminating);
    check(it->id == id);
    if (it->kind == K_IMM) {
        check(!queue_empty(m.immq_head, m.immq_tail) && m.immq[m.immq_head] == i);
        m.immq_head++;
        check(it->live);
        it->live = 0;
        it->ran = 1;
        leave_macro(loop, it->flags);
        return;
    }
    check(it->live && it->deadline <= m.now);
    for (int j = 0; j < m.n; j++) { /* the earliest due timer fires first */
        const struct item *o = &m.items[j];
        if (j != i && o->kind == K_TIMER && o->live && o->deadline <= m.now) {
            check(earlier(it, o));
        }
    }
    it->ran++;
    if (it->repeat) { /* re-armed from the start of its callback */
        it->deadline = m.now + it->repeat;
        it->seq = ++m.seq;
    } else {
        it->live = 0;
    }
    leave_macro(loop, it->flags);
}

static void fd_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)events;
    (void)arg;
    (void)status;
    enter_macro();
    check(!m.closed);
    check(fd == m.fd[0] && m.fd_active);
    char buf[256];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        m.fd_pending -= (int)r;
    }
    check(m.fd_pending == 0);
    leave_macro(loop, 0);
}

static void ttask_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct titem *t = arg;
    enter_macro();
    check(!m.closed);
    check(atomic_load(&t->submitted) && !atomic_load(&t->refused));
    check(!atomic_load(&t->ran) && !atomic_load(&t->discarded));
    check(t->seq > m.last_tseq[t->producer]); /* FIFO per producer (task.h) */
    m.last_tseq[t->producer] = t->seq;
    atomic_store(&t->ran, 1);
}

static void ttask_discard_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct titem *t = arg;
    check(atomic_load(&t->submitted) && !atomic_load(&t->refused));
    check(!atomic_load(&t->ran) && !atomic_load(&t->discarded));
    atomic_store(&t->discarded, 1);
}

static void *producer_main(void *arg)
{
    (void)arg;
    for (unsigned k = 0; k < m.thread_count && m.ntitems < MAX_THREAD; k++) {
        struct titem *t = &m.titems[m.ntitems++];
        t->seq = (uint64_t)m.ntitems;
        t->producer = m.nproducers - 1;
        atomic_store(&t->submitted, 1);
        if (evl_loop_submit_ex(m.loop, ttask_cb, ttask_discard_cb, t) != 0) {
            atomic_store(&t->refused, 1);
        }
    }
    if (m.thread_action == 1) {
        evl_loop_stop(m.loop);
    } else if (m.thread_action == 2) {
        evl_loop_shutdown(m.loop);
    }
    return NULL;
}

static void join_producer(void)
{
    if (m.thread_live) {
        pthread_join(m.thread, NULL);
        m.thread_live = 0;
    }
}

static void start_producer(uint8_t arg)
{
    join_producer();
    if (m.nproducers == MAX_PRODUCERS) {
        return;
    }
    m.nproducers++;
    m.thread_count = arg % 16;
    m.thread_action = (arg & 0x40) ? ((arg & 0x80) ? 2 : 1) : 0;
    if (m.thread_action) {
        m.racy = 1;
    }
    if (m.thread_action == 2) {
        m.remote_shutdown = 1;
    }
    if (pthread_create(&m.thread, NULL, producer_main, NULL) == 0) {
        m.thread_live = 1;
    }
}

static void submit_task(uint8_t arg)
{
    unsigned flags = (arg & 1) ? FLAG_SPAWN : 0;
    if ((arg & 0x0e) == 0x0e) {
        flags |= FLAG_STOP;
    }
    int i = new_item(K_TASK, flags);
    if (i < 0) {
        return;
    }
    void *a = (void *)(intptr_t)i;
    enum evl_loop_state st = evl_loop_state(m.loop);
    int rc = (arg & 0x10) ? evl_loop_submit_ex(m.loop, task_cb, task_discard_cb, a)
                          : evl_loop_submit(m.loop, task_cb, a);
    if (rc == 0) {
        /* The loop thread's own submissions are accepted while a shutdown drains. */
        check(st != EVL_LOOP_TERMINATED);
        m.items[i].live = 1;
        m.taskq[m.taskq_tail++] = i;
        if (!(arg & 0x10)) {
            /* Without a discard callback a dropped task leaves no trace: close would lose
             * it silently, so count it as discarded only if close comes. */
            m.items[i].flags |= FLAG_NODISCARD;
        }
    }
}

static void add_timer(int kind, uint8_t arg)
{
    int i = new_item(kind == 2 ? K_IMM : K_TIMER, (arg & 0x20) ? FLAG_SPAWN : 0);
    if (i < 0) {
        return;
    }
    struct item *it = &m.items[i];
    uint64_t delay = arg % 40;
    uint64_t repeat = kind == 1 ? 1 + arg % 7 : 0;
    void *a = (void *)(intptr_t)i;
    int rc = kind == 2 ? evl_immediate_set(m.loop, timer_cb, a, &it->id)
                       : evl_timer_set(m.loop, timer_cb, a, delay, repeat, &it->id);
    if (rc != 0) {
        check(may_refuse());
        return;
    }
    it->deadline = m.now + delay * 1000000u;
    it->repeat = repeat * 1000000u;
    it->period = (repeat ? repeat : delay) * 1000000u;
    it->live = 1;
    if (kind == 2) {
        m.immq[m.immq_tail++] = i;
    }
}

static int pick_timer(uint8_t arg)
{
    int cand[MAX_ITEMS];
    int nc = 0;
    for (int i = 0; i < m.n; i++) {
        if (m.items[i].kind == K_TIMER || m.items[i].kind == K_IMM) {
            cand[nc++] = i;
        }
    }
    return nc ? cand[arg % nc] : -1;
}

static void remove_imm(int i)
{
    int w = m.immq_head;
    for (int r = m.immq_head; r < m.immq_tail; r++) {
        if (m.immq[r] != i) {
            m.immq[w++] = m.immq[r];
        }
    }
    m.immq_tail = w;
}

static void clear_timer(uint8_t arg)
{
    int i = pick_timer(arg);
    if (i < 0) {
        check(evl_timer_clear(m.loop, 0xfffffffu) != 0);
        return;
    }
    struct item *it = &m.items[i];
    int rc = evl_timer_clear(m.loop, it->id);
    if (!may_refuse()) {
        check(rc == (it->live ? 0 : EVL_ENOENT));
    }
    if (it->live && it->kind == K_IMM) {
        remove_imm(i);
    }
    it->live = 0;
}

static void refresh_timer(uint8_t arg)
{
    int i = pick_timer(arg);
    if (i < 0) {
        return;
    }
    struct item *it = &m.items[i];
    int rc = evl_timer_refresh(m.loop, it->id);
    if (!may_refuse()) {
        check(rc == (it->live ? 0 : EVL_ENOENT));
    }
    if (rc == 0 && it->live && it->kind == K_TIMER) {
        it->deadline = m.now + it->period;
        it->seq = ++m.seq;
    }
}

static void queue_outside(int tick)
{
    int i = new_item(tick ? K_TICK : K_MICRO, 0);
    if (i < 0) {
        return;
    }
    void *a = (void *)(intptr_t)i;
    int rc = tick ? evl_next_tick(m.loop, tick_cb, a) : evl_queue_microtask(m.loop, micro_cb, a);
    if (rc != 0) {
        check(may_refuse());
        return;
    }
    m.items[i].live = 1;
    if (tick) {
        m.tickq[m.tickq_tail++] = i;
    } else {
        m.microq[m.microq_tail++] = i;
    }
    /* The embedder's checkpoint after entering from outside a callback. */
    check(evl_loop_checkpoint(m.loop) == 0);
    check(queue_empty(m.tickq_head, m.tickq_tail) && queue_empty(m.microq_head, m.microq_tail));
}

static void toggle_fd(void)
{
    if (m.fd_active) {
        int rc = evl_fd_stop(m.loop, m.fd[0]);
        check(rc == 0 || may_refuse());
        m.fd_active = 0;
    } else {
        int rc = evl_fd_start(m.loop, m.fd[0], EVL_READABLE, fd_cb, NULL);
        check(rc == 0 || may_refuse());
        m.fd_active = rc == 0;
    }
}

static void write_fd(void)
{
    if (write(m.fd[1], "x", 1) == 1) {
        m.fd_pending++;
    }
}

/* One non-blocking iteration; unless cut short, nothing that was due is left behind. */
static void run_once(uint8_t arg)
{
    m.now += (uint64_t)(arg % 64) * 1000000u;
    m.stopped = 0;
    int tasks_before = m.taskq_tail;
    m.in_run = 1;
    m.ever_ran = 1;
    int rc = evl_loop_run(m.loop, EVL_RUN_NOWAIT);
    m.in_run = 0;
    check(rc >= 0 || rc == EVL_ECLOSED);
    check(queue_empty(m.tickq_head, m.tickq_tail) && queue_empty(m.microq_head, m.microq_tail));
    if (m.stopped || m.racy || m.terminating || rc < 0) {
        return;
    }
    check(m.taskq_head >= tasks_before);
    check(queue_empty(m.immq_head, m.immq_tail));
    for (int i = 0; i < m.n; i++) {
        const struct item *it = &m.items[i];
        check(!(it->kind == K_TIMER && it->live && it->deadline <= m.now));
    }
    check(!m.fd_active || m.fd_pending == 0);
}

static void cancel_timers(void)
{
    for (int i = 0; i < m.n; i++) {
        if (m.items[i].kind == K_TIMER || m.items[i].kind == K_IMM) {
            m.items[i].live = 0;
        }
    }
    m.immq_head = m.immq_tail;
}

static void shutdown_loop(void)
{
    m.terminating = 1;
    m.stopped = 0;
    int rc = evl_loop_shutdown(m.loop);
    check(rc == 0 || rc == EVL_EALREADY);
    if (rc == 0 && !m.racy && m.ever_ran) {
        check(m.taskq_head == m.taskq_tail); /* drained right here: every accepted task ran */
    }
    cancel_timers();
}

static void close_loop(void)
{
    m.terminating = 1;
    m.stopped = 0;
    int rc = evl_loop_close(m.loop);
    check(rc == 0 || rc == EVL_EALREADY);
    if (rc == 0) {
        m.closed = 1;
    }
    cancel_timers();
}

/* Tasks dropped without a discard callback leave no trace; account for them here. */
static void settle_silent_drops(void)
{
    while (m.taskq_head < m.taskq_tail) {
        struct item *it = &m.items[m.taskq[m.taskq_head++]];
        check(it->flags & FLAG_NODISCARD);
        it->live = 0;
        it->discarded = 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int tracking;
    if (!tracking) {
        evl_alloc_tracking_enable();
        tracking = 1;
    }
    struct evl_alloc_stats before;
    evl_alloc_stats(&before);

    memset(&m, 0, sizeof(m));
    m.now = 1000000000u;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, m.fd) != 0) {
        return 0;
    }
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = fake_clock;
    o.spin_ns = EVL_SPIN_OFF;
    o.max_task_ns_per_iteration = UINT64_MAX; /* bounds by count only: runs are predictable */
    o.max_immediate_ns_per_iteration = UINT64_MAX;
    o.max_io_ns_per_iteration = UINT64_MAX;
    if (evl_loop_new(&m.loop, &o) != 0) {
        abort();
    }
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint8_t arg = data[i + 1];
        switch (data[i] % 14) {
        case 0:
            submit_task(arg);
            break;
        case 1:
            add_timer(0, arg);
            break;
        case 2:
            add_timer(1, arg);
            break;
        case 3:
            clear_timer(arg);
            break;
        case 4:
            refresh_timer(arg);
            break;
        case 5:
            add_timer(2, arg);
            break;
        case 6:
            queue_outside(arg & 1);
            break;
        case 7:
            toggle_fd();
            break;
        case 8:
            write_fd();
            break;
        case 9:
            start_producer(arg);
            break;
        case 10:
            join_producer();
            break;
        case 11:
            if (arg % 16 == 0) {
                shutdown_loop();
            } else {
                run_once(arg);
            }
            break;
        case 12:
            if (arg % 16 == 0) {
                close_loop();
            } else {
                run_once(arg);
            }
            break;
        default:
            run_once(arg);
            break;
        }
    }
    join_producer();
    if (m.fd_active) {
        int rc = evl_fd_stop(m.loop, m.fd[0]);
        check(rc == 0 || may_refuse());
        m.fd_active = 0;
    }
    if (!m.terminating) {
        /* Let the accepted work finish, then close: nothing may be left to discard. */
        for (int k = 0; k < MAX_ITEMS && !m.racy && m.taskq_head < m.taskq_tail; k++) {
            run_once(0);
        }
        if (!m.racy) {
            check(m.taskq_head == m.taskq_tail);
        }
    }
    close_loop();
    for (int k = 0; k < 4; k++) {
        m.stopped = 0;
        if (evl_loop_run(m.loop, EVL_RUN_NOWAIT) <= 0) {
            break;
        }
    }
    check(evl_loop_free(m.loop) == 0);
    settle_silent_drops();
    for (int i = 0; i < m.n; i++) {
        const struct item *it = &m.items[i];
        if (it->kind == K_TASK && (it->ran || it->discarded || it->live)) {
            check(it->ran + it->discarded == 1 && !it->live);
        }
    }
    for (int k = 0; k < m.ntitems; k++) {
        struct titem *t = &m.titems[k];
        int done = atomic_load(&t->ran) + atomic_load(&t->discarded);
        check(atomic_load(&t->refused) ? done == 0 : done == 1);
    }
    close(m.fd[0]);
    close(m.fd[1]);
    struct evl_alloc_stats after;
    evl_alloc_stats(&after);
    check(after.live_blocks == before.live_blocks);
    return 0;
}

/*
 * Fuzzes the timer and immediate machinery against a small reference model, on a fake clock.
 * The input is a program of operations (set timeout, set interval, set immediate, clear a
 * known or unknown id, refresh, advance the clock and run one non-blocking iteration). After every
 * iteration the ids that fired must equal the model's prediction exactly, in order:
 * due timers by (deadline, scheduling order), then immediates in FIFO order. Intervals
 * re-arm from the start of their callback and never run twice in one timer phase.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 64
#define MAX_FIRED 256

struct item {
    uint64_t id;
    uint64_t deadline;
    uint64_t seq;
    uint64_t repeat; /* ns; 0 for a timeout */
    uint64_t period; /* ns: what a refresh re-arms with (the delay, or the repeat) */
    int immediate;
    int live;
};

struct model {
    struct item items[MAX_ITEMS];
    int n;
    uint64_t seq;
    uint64_t now;
    uint64_t fired[MAX_FIRED];
    int nfired;
};

static struct model m;

static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return m.now;
}

static void record_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)arg;
    if (m.nfired < MAX_FIRED) {
        m.fired[m.nfired++] = id;
    } else {
        abort(); /* more callbacks than the model allows: a bug */
    }
}

static int earlier(const struct item *a, const struct item *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Predicts one NOWAIT iteration: returns the ids expected to fire, in order. */
static int predict(uint64_t *out)
{
    int n = 0;
    int due[MAX_ITEMS];
    int ndue = 0;
    for (int i = 0; i < m.n; i++) {
        if (m.items[i].live && !m.items[i].immediate && m.items[i].deadline <= m.now) {
            due[ndue++] = i;
        }
    }
    for (int i = 1; i < ndue; i++) { /* insertion sort: tiny arrays */
        for (int j = i; j > 0 && earlier(&m.items[due[j]], &m.items[due[j - 1]]); j--) {
            int t = due[j];
            due[j] = due[j - 1];
            due[j - 1] = t;
        }
    }
    for (int k = 0; k < ndue; k++) {
        struct item *it = &m.items[due[k]];
        out[n++] = it->id;
        if (it->repeat) {
            it->deadline = m.now + it->repeat;
            it->seq = ++m.seq;
        } else {
            it->live = 0;
        }
    }
    for (int i = 0; i < m.n; i++) { /* immediates are stored in FIFO order */
        if (m.items[i].live && m.items[i].immediate) {
            out[n++] = m.items[i].id;
            m.items[i].live = 0;
        }
    }
    return n;
}

static void add_item(struct evl_loop *loop, int kind, uint64_t delay_ms, uint64_t repeat_ms)
{
    if (m.n == MAX_ITEMS) {
        return;
    }
    struct item *it = &m.items[m.n];
    int rc = kind == 2 ? evl_immediate_set(loop, record_cb, NULL, &it->id)
                       : evl_timer_set(loop, record_cb, NULL, delay_ms, repeat_ms, &it->id);
    if (rc != 0) {
        abort();
    }
    it->deadline = m.now + delay_ms * 1000000u;
    it->seq = ++m.seq;
    it->repeat = repeat_ms * 1000000u;
    it->period = (repeat_ms ? repeat_ms : delay_ms) * 1000000u;
    it->immediate = kind == 2;
    it->live = 1;
    m.n++;
}

static void clear_item(struct evl_loop *loop, uint8_t pick)
{
    if (m.n == 0) {
        if (evl_timer_clear(loop, 0xfffffffu) != EVL_ENOENT) {
            abort();
        }
        return;
    }
    struct item *it = &m.items[pick % m.n];
    int rc = evl_timer_clear(loop, it->id);
    if (rc != (it->live ? 0 : EVL_ENOENT)) {
        abort();
    }
    it->live = 0;
}

/* Refresh restarts a pending timer from now with its period and a new place in FIFO order;
 * an immediate or a fired or cleared id is left alone. */
static void refresh_item(struct evl_loop *loop, uint8_t pick)
{
    if (m.n == 0) {
        return;
    }
    struct item *it = &m.items[pick % m.n];
    int rc = evl_timer_refresh(loop, it->id);
    if (rc != (it->live ? 0 : EVL_ENOENT)) {
        abort();
    }
    if (it->live && !it->immediate) {
        it->deadline = m.now + it->period;
        it->seq = ++m.seq;
    }
}

/* Delays below 40 ms use a run each; the longer ones (128 ms and up) share runs by hash with
 * each other and with the short ones, so timers of different periods meet in one run. */
static uint64_t delay_of(uint8_t arg)
{
    return (arg & 0x80) ? 128 + (uint64_t)(arg & 0x7f) * 5 : arg % 40;
}

static void run_once(struct evl_loop *loop, uint8_t advance)
{
    uint64_t expect[MAX_FIRED];
    m.now += (uint64_t)(advance % 64) * 1000000u;
    m.nfired = 0;
    int n = predict(expect);
    if (evl_loop_run(loop, EVL_RUN_NOWAIT) < 0) {
        abort();
    }
    if (n != m.nfired || memcmp(expect, m.fired, (size_t)n * sizeof(expect[0])) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&m, 0, sizeof(m));
    m.now = 1000000000u;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = fake_clock;
    struct evl_loop *loop = NULL;
    if (evl_loop_new(&loop, &o) != 0) {
        return 0;
    }
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint8_t op = data[i] % 7;
        uint8_t arg = data[i + 1];
        switch (op) {
        case 0:
            add_item(loop, 0, delay_of(arg), 0);
            break;
        case 6:
            refresh_item(loop, arg);
            break;
        case 1:
            add_item(loop, 1, arg % 40, 1 + arg % 7);
            break;
        case 2:
            add_item(loop, 2, 0, 0);
            break;
        case 3:
            clear_item(loop, arg);
            break;
        default:
            run_once(loop, arg);
            break;
        }
    }
    evl_loop_close(loop);
    evl_loop_run(loop, EVL_RUN_NOWAIT);
    if (evl_loop_free(loop) != 0) {
        abort();
    }
    return 0;
}

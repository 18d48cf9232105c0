/*
 * Overload controls: the submit queue's bound, producers waiting for space, token buckets
 * (per loop, per producer group), refusal counters and their rate-limited warning.
 *
 * The bound. Queued tasks are counted in slots (16 bytes; a task with a discard callback
 * takes two). For fairness the bound is split: each of the EVL__LANES lanes may always hold
 * `reserve` slots (an eighth of half the bound), and the rest is a shared pool taken first
 * come first served. A producer flooding its lane fills its reserve and the pool; every other
 * producer still gets its lane's reserve, and the loop takes the lanes round robin, so no
 * producer starves however fast the others are. With E(c) = max(0, c - reserve) the pool
 * holds the sum of E over the lanes: a producer (under its lane's exclusion, so the only one
 * raising that lane's count) reserves E(c + n) - E(c) in the pool before counting its n
 * slots; the loop, having consumed k slots, subtracts them and gives E(old) - E(old - k)
 * back. A producer charges in batches (what it needs plus up to `batch` more, kept by its
 * lane as credit for the fast path), the loop gives back once per stretch of tasks: the loop
 * never locks, and producers pay one atomic charge per batch.
 *
 * Buckets. A generic cell rate algorithm: one word (the theoretical arrival time of the next
 * token) updated by compare-and-swap; a refusal tells when the next token comes.
 */
#include "core/overload/overload.h"
#include "core/loop_state.h"

#include "evl/overload.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The warning about refusals: at most one record per second per kind. */
#define WARN_INTERVAL_NS UINT64_C(1000000000)

static _Thread_local uint64_t retry_after_ns;

uint64_t evl_loop_submit_retry_ns(void)
{
    return retry_after_ns;
}

/* ---- token buckets ------------------------------------------------------------------------ */

void evl__bucket_init(struct evl__bucket *b, double rate, uint32_t burst, uint64_t now_ns)
{
    double iv = 1e9 * EVL__BUCKET_TICKS / rate;
    b->interval = iv < 1.0 ? 1 : (uint64_t)(iv + 0.5);
    b->tolerance = (uint64_t)(burst ? burst - 1 : 0) * b->interval;
    b->base = now_ns;
    atomic_init(&b->tat, 0);
}

static uint64_t bucket_ticks(const struct evl__bucket *b, uint64_t now_ns)
{
    return now_ns <= b->base ? 0 : (now_ns - b->base) * EVL__BUCKET_TICKS;
}

int evl__bucket_take(struct evl__bucket *b, uint64_t now_ns, uint64_t *retry_ns)
{
    uint64_t now = bucket_ticks(b, now_ns);
    uint64_t tat = atomic_load_explicit(&b->tat, memory_order_relaxed);
    for (;;) {
        uint64_t t = tat > now ? tat : now;
        if (t - now > b->tolerance) {
            uint64_t wait = t - now - b->tolerance;
            *retry_ns = (wait + EVL__BUCKET_TICKS - 1) / EVL__BUCKET_TICKS;
            return EVL_EAGAIN;
        }
        if (atomic_compare_exchange_weak_explicit(&b->tat, &tat, t + b->interval,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *retry_ns = 0;
            return 0;
        }
    }
}

void evl__bucket_refund(struct evl__bucket *b)
{
    atomic_fetch_sub_explicit(&b->tat, b->interval, memory_order_relaxed);
}

/* Validates a (rate, burst) pair of the options or of a group. */
static int rate_valid(double rate, uint32_t burst)
{
    if (rate == 0.0) {
        return burst == 0;
    }
    return isfinite(rate) && rate > 0.0 && rate <= 1e9;
}

static uint32_t burst_default(double rate, uint32_t burst)
{
    if (burst) {
        return burst;
    }
    /* A tenth of a second's worth, at least one token. */
    double b = rate / 10.0;
    return b < 1.0 ? 1 : b > 1e9 ? 1000000000u : (uint32_t)b;
}

/* ---- the loop's state --------------------------------------------------------------------- */

int evl__overload_init(struct evl_loop *loop, const struct evl_loop_options *o)
{
    uint64_t slots = o->max_queued_tasks;
    if (o->max_queued_bytes) {
        uint64_t b = o->max_queued_bytes / sizeof(struct evl__lane_slot);
        if (b == 0) {
            return EVL_EINVAL; /* less than one slot */
        }
        if (!slots || b < slots) {
            slots = b;
        }
    }
    if (slots > UINT32_MAX / 2 || !rate_valid(o->submit_rate, o->submit_burst)) {
        return EVL_EINVAL;
    }
    if (slots == 0 && o->submit_rate == 0.0) {
        return 0; /* no gate: the fast paths stay as they are */
    }
    /* The struct keeps producer-written counters on lines of their own: align it. */
    size_t align = alignof(struct evl__overload);
    void *raw = evl__loop_malloc(loop, sizeof(struct evl__overload) + align);
    if (!raw) {
        return EVL_ENOMEM;
    }
    struct evl__overload *v =
        (struct evl__overload *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    memset(v, 0, sizeof(*v));
    v->raw = raw;
    v->limit = (uint32_t)slots;
    v->reserve = v->limit / (2 * EVL__LANES);
    v->shared_cap = v->limit - v->reserve * EVL__LANES;
    v->pressure_mark = v->shared_cap - v->shared_cap / 4;
    /* Credit a producer may hold unused: a quarter of a lane's reserve, so a lane that stays
     * within its reserve never touches the shared pool, and what idle lanes keep back is a
     * small part of the bound. */
    v->batch = v->reserve / 4 < 64 ? v->reserve / 4 : 64;
    if (o->submit_rate > 0.0) {
        v->has_rate = 1;
        evl__bucket_init(&v->rate, o->submit_rate, burst_default(o->submit_rate, o->submit_burst),
                         evl__loop_clock(loop));
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&v->mu, NULL) != 0) {
        pthread_condattr_destroy(&ca);
        evl__loop_free(loop, raw);
        return EVL_ENOMEM;
    }
    if (pthread_cond_init(&v->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&v->mu);
        evl__loop_free(loop, raw);
        return EVL_ENOMEM;
    }
    pthread_condattr_destroy(&ca);
    loop->ovl = v;
    if (v->has_rate) {
        evl__submitq_gate(loop); /* every external push takes a token: the full path */
    }
    return 0;
}

void evl__overload_deinit(struct evl_loop *loop)
{
    struct evl__overload *v = loop->ovl;
    if (!v) {
        return;
    }
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    loop->ovl = NULL;
    evl__loop_free(loop, v->raw);
}

/* ---- batch budgets -------------------------------------------------------------------------- */

#define BUDGET_STRIDE 64u /* callbacks between two checks at most */

void evl__budget_begin(struct evl_loop *loop, struct evl__budget *b, uint32_t max,
                       uint64_t limit_ns, int precise)
{
    b->max = max ? max : 1;
    b->limit_ns = limit_ns;
    b->done = 0;
    b->have_start = 0;
    b->start = 0;
    b->next_check = BUDGET_STRIDE;
    if (limit_ns == UINT64_MAX) {
        b->next_check = b->max;
    } else if (precise) {
        b->start = evl__loop_clock(loop);
        b->have_start = 1;
        b->next_check = 1;
    }
}

int evl__budget_check(struct evl_loop *loop, struct evl__budget *b)
{
    if (b->done >= b->max) {
        return 1;
    }
    if (b->limit_ns == UINT64_MAX) {
        b->next_check = b->max;
        return 0;
    }
    uint64_t now = evl__loop_clock(loop);
    if (!b->have_start) {
        b->start = now;
        b->have_start = 1;
        b->next_check = b->done + BUDGET_STRIDE;
        return 0;
    }
    uint64_t elapsed = now > b->start ? now - b->start : 0;
    if (elapsed >= b->limit_ns) {
        return 1;
    }
    uint64_t avg = b->done ? elapsed / b->done : 0;
    uint64_t left = b->limit_ns - elapsed;
    if (avg > left) {
        return 1; /* the next callback would likely overrun */
    }
    uint64_t n = avg ? left / avg : BUDGET_STRIDE;
    if (n > BUDGET_STRIDE) {
        n = BUDGET_STRIDE;
    }
    b->next_check = b->done + (n ? (uint32_t)n : 1);
    return 0;
}

int evl__budget_precise(struct evl_loop *loop)
{
    return evl__timers_any(&loop->timers) ||
           atomic_load_explicit(&loop->shutdown_deadline, memory_order_relaxed) != 0;
}

/* ---- budgets and sandbox limits ----------------------------------------------------------- */

void evl__budgets_init(struct evl_loop *loop, const struct evl_loop_options *o)
{
    struct evl__budgets *b = &loop->budgets;
    b->max_imm = o->max_immediates_per_iteration ? o->max_immediates_per_iteration : 4096;
    b->max_imm_ns =
        o->max_immediate_ns_per_iteration ? o->max_immediate_ns_per_iteration : UINT64_C(2000000);
    b->max_io = o->max_io_callbacks_per_iteration ? o->max_io_callbacks_per_iteration : 1024;
    b->max_io_ns = o->max_io_ns_per_iteration ? o->max_io_ns_per_iteration : UINT64_C(2000000);
    b->limit[EVL__LIMIT_TIMERS] = o->max_timers;
    b->limit[EVL__LIMIT_IMMEDIATES] = o->max_immediates;
    b->limit[EVL__LIMIT_FDS] = o->max_fds;
    b->limit[EVL__LIMIT_POOL_JOBS] = o->max_pool_jobs;
    for (int i = 0; i < EVL__LIMIT_KINDS; i++) {
        atomic_init(&b->hits[i], 0);
        atomic_init(&b->warn_next_ns[i], 0);
        atomic_init(&b->warn_suppressed[i], 0);
    }
}

int evl__loop_limit_hit(struct evl_loop *loop, enum evl__limit_kind kind)
{
    static const char *const queue[EVL__LIMIT_KINDS] = {"timers", "immediates", "fds", "pool",
                                                        "microtasks"};
    static const char *const what[EVL__LIMIT_KINDS] = {
        "timer refused: options.max_timers reached",
        "immediate refused: options.max_immediates reached",
        "fd registration refused: options.max_fds reached",
        "pool job refused: options.max_pool_jobs reached",
        "checkpoint cut short: options.max_microtasks_per_checkpoint reached",
    };
    struct evl__budgets *b = &loop->budgets;
    uint64_t total = atomic_fetch_add_explicit(&b->hits[kind], 1, memory_order_relaxed) + 1;
    uint64_t limit = kind == EVL__LIMIT_MICROTASKS ? evl__loop_max_micro(loop) : b->limit[kind];
    struct evl__overload_event ev = {"refused", queue[kind], "limit", limit, 0};
    evl__overload_warn(loop, &b->warn_next_ns[kind], &b->warn_suppressed[kind], &ev, what[kind],
                       total);
    if (b->hook && evl__loop_on_thread(loop)) {
        b->hook(loop, (enum evl_limit_kind)kind, b->hook_ud);
    }
    return EVL_ELIMIT;
}

/* The public and internal kinds are the same numbers. */
_Static_assert((int)EVL_LIMIT_MICROTASKS == (int)EVL__LIMIT_MICROTASKS, "limit kinds");

int evl_loop_set_checkpoint_cap(struct evl_loop *loop, uint32_t n)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    evl__loop_set_max_micro(loop, n ? n : 10000000);
    return 0;
}

void evl_loop_set_limit_hook(struct evl_loop *loop, evl_limit_cb cb, void *ud)
{
    if (loop) {
        loop->budgets.hook = cb;
        loop->budgets.hook_ud = ud;
    }
}

/* ---- refusals and the warning ------------------------------------------------------------- */

void evl__overload_warn(struct evl_loop *loop, _Atomic uint64_t *next_ns,
                        _Atomic uint64_t *suppressed, const struct evl__overload_event *ev,
                        const char *what, uint64_t total)
{
    uint64_t now = evl__monotonic_ns();
    uint64_t next = atomic_load_explicit(next_ns, memory_order_relaxed);
    if (now < next ||
        !atomic_compare_exchange_strong_explicit(next_ns, &next, now + WARN_INTERVAL_NS,
                                                 memory_order_relaxed, memory_order_relaxed)) {
        atomic_fetch_add_explicit(suppressed, 1, memory_order_relaxed);
        return;
    }
    uint64_t held = atomic_exchange_explicit(suppressed, 0, memory_order_relaxed);
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "overload", ev->event, what, EVL_LF_STR("queue", ev->queue),
                  EVL_LF_STR("reason", ev->reason), EVL_LF_UINT("limit", ev->limit),
                  EVL_LF_UINT("depth", ev->depth), EVL_LF_UINT("total", total),
                  EVL_LF_UINT("suppressed", held));
}

void evl__overload_refused(struct evl_loop *loop, int rc)
{
    struct evl__overload *v = loop->ovl;
    const char *what;
    uint64_t total;
    struct evl__overload_event ev = {"refused", "submit", "bound", v->limit, 0};
    if (rc == EVL_EAGAIN && v->has_rate && retry_after_ns != 0) {
        total = atomic_fetch_add_explicit(&v->refused_rate, 1, memory_order_relaxed) + 1;
        what = "submit refused: rate limit";
        ev.reason = "rate";
        ev.limit = 0;
    } else if (rc == EVL_EAGAIN || rc == EVL_ETIMEDOUT) {
        retry_after_ns = 0; /* not a bucket: no token time to tell */
        total = atomic_fetch_add_explicit(&v->refused_full, 1, memory_order_relaxed) + 1;
        if (rc == EVL_ETIMEDOUT) {
            atomic_fetch_add_explicit(&v->wait_timeouts, 1, memory_order_relaxed);
        }
        what = "submit refused: queue bound reached";
    } else if (rc == EVL_ECLOSED) {
        atomic_fetch_add_explicit(&v->refused_closed, 1, memory_order_relaxed);
        return; /* the owner asked for it: not an overload */
    } else {
        return;
    }
    evl__overload_warn(loop, &v->warn_next_ns, &v->warn_suppressed, &ev, what, total);
}

/* ---- rate ----------------------------------------------------------------------------------- */

int evl__overload_rate_admit(struct evl_loop *loop)
{
    struct evl__overload *v = loop->ovl;
    retry_after_ns = 0;
    uint64_t retry;
    int rc = evl__bucket_take(&v->rate, evl__loop_clock(loop), &retry);
    if (rc != 0) {
        retry_after_ns = retry ? retry : 1;
        evl__overload_refused(loop, rc);
    }
    return rc;
}

/* ---- the bound ------------------------------------------------------------------------------ */

static inline uint32_t excess(const struct evl__overload *v, uint32_t c)
{
    return c > v->reserve ? c - v->reserve : 0;
}

/* The shared pool just filled past its high-water mark: producers outrun the loop. Logged
 * (rate-limited) on the producer's thread; refusals come next if it goes on. */
EVL__NOINLINE static void overload_pressure(struct evl_loop *loop, struct evl__overload *v,
                                            uint32_t used)
{
    uint64_t total = atomic_fetch_add_explicit(&v->pressure_total, 1, memory_order_relaxed) + 1;
    struct evl__overload_event ev = {"queue_pressure", "submit", "high_water", v->limit,
                                     (uint64_t)used + (uint64_t)v->reserve * EVL__LANES};
    evl__overload_warn(loop, &v->pressure_next_ns, &v->pressure_suppressed, &ev,
                       "submit queue above 3/4 of its bound", total);
}

uint32_t evl__overload_charge(struct evl_loop *loop, unsigned li, uint32_t need, int force)
{
    struct evl__overload *v = loop->ovl;
    struct evl__ovl_lane *lane = &v->lane[li];
    uint32_t want = force ? need : need + v->batch;
    /* Only the lane's producer raises the count, so c is at least the true value and the
     * room computed from it at most the true room. */
    uint32_t c = atomic_load_explicit(&lane->count, memory_order_relaxed);
    uint32_t s = atomic_load_explicit(&v->shared, memory_order_relaxed);
    uint32_t take;
    uint32_t xs;
    for (;;) {
        uint32_t room =
            (c < v->reserve ? v->reserve - c : 0) + (s < v->shared_cap ? v->shared_cap - s : 0);
        take = want < room ? want : room;
        if (take < need) {
            if (!force) {
                return 0;
            }
            take = need;
        }
        xs = excess(v, c + take) - excess(v, c);
        if (xs == 0 || atomic_compare_exchange_weak_explicit(
                           &v->shared, &s, s + xs, memory_order_relaxed, memory_order_relaxed)) {
            break;
        }
    }
    if (xs != 0 && s < v->pressure_mark && s + xs >= v->pressure_mark) {
        overload_pressure(loop, v, s + xs);
    }
    uint32_t old = atomic_fetch_add_explicit(&lane->count, take, memory_order_relaxed);
    /* The loop may have lowered the count meanwhile (giving back its excess): the true
     * increase of the excess is then smaller than the one reserved. */
    uint32_t real = excess(v, old + take) - excess(v, old);
    if (real < xs) {
        atomic_fetch_sub_explicit(&v->shared, xs - real, memory_order_relaxed);
    }
    return take;
}

void evl__overload_release(struct evl_loop *loop, unsigned li, uint32_t n)
{
    struct evl__overload *v = loop->ovl;
    if (!v->limit || n == 0) {
        return;
    }
    uint32_t old = atomic_fetch_sub_explicit(&v->lane[li].count, n, memory_order_seq_cst);
    uint32_t freed = excess(v, old) - excess(v, old - n);
    if (freed) {
        atomic_fetch_sub_explicit(&v->shared, freed, memory_order_seq_cst);
    }
    if (atomic_load_explicit(&v->waiters, memory_order_seq_cst) != 0) {
        pthread_mutex_lock(&v->mu);
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->mu);
    }
}

void evl__overload_wake_all(struct evl_loop *loop)
{
    struct evl__overload *v = loop->ovl;
    pthread_mutex_lock(&v->mu);
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

/* Nonzero if n slots of lane li would be admitted now (a hint: the push decides). */
static int room_for(struct evl__overload *v, unsigned li, uint32_t n)
{
    uint32_t c = atomic_load_explicit(&v->lane[li].count, memory_order_seq_cst);
    uint32_t need = excess(v, c + n) - excess(v, c);
    return need == 0 ||
           atomic_load_explicit(&v->shared, memory_order_seq_cst) + need <= v->shared_cap;
}

static int admission_closed(struct evl_loop *loop, unsigned li)
{
    return evl__submitq_lane_closed(&loop->q, li);
}

/*
 * Waiting. A producer that finds no room joins the queue under `mu` and announces itself in
 * `waiters` (seq_cst), checks once more, then sleeps on `cv`. The loop, after giving slots
 * back (seq_cst), reads `waiters` and only when it is nonzero takes `mu` to broadcast: either
 * it sees the waiter, or the waiter's check sees the space. Only the first in line tries, and
 * it pushes before it leaves the queue, so waiters are served in arrival order.
 */
void evl__overload_wait_enter(struct evl_loop *loop, struct evl__waiter *w)
{
    struct evl__overload *v = loop->ovl;
    w->next = NULL;
    pthread_mutex_lock(&v->mu);
    if (v->wq_tail) {
        v->wq_tail->next = w;
    } else {
        v->wq_head = w;
    }
    v->wq_tail = w;
    atomic_fetch_add_explicit(&v->waits, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&v->waiters, 1, memory_order_seq_cst);
}

int evl__overload_wait_turn(struct evl_loop *loop, struct evl__waiter *w, unsigned li, uint32_t n,
                            uint64_t until)
{
    struct evl__overload *v = loop->ovl;
    for (;;) {
        if (admission_closed(loop, li)) {
            return EVL_ECLOSED;
        }
        if (v->wq_head == w && room_for(v, li, n)) {
            return 0;
        }
        if (evl__monotonic_ns() >= until) {
            return EVL_ETIMEDOUT;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)(until / UINT64_C(1000000000));
        ts.tv_nsec = (long)(until % UINT64_C(1000000000));
        pthread_cond_timedwait(&v->cv, &v->mu, &ts);
    }
}

void evl__overload_wait_leave(struct evl_loop *loop, struct evl__waiter *w)
{
    struct evl__overload *v = loop->ovl;
    struct evl__waiter **pp = &v->wq_head;
    struct evl__waiter *prev = NULL;
    while (*pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = w->next;
    if (v->wq_tail == w) {
        v->wq_tail = prev;
    }
    atomic_fetch_sub_explicit(&v->waiters, 1, memory_order_seq_cst);
    if (v->wq_head) {
        pthread_cond_broadcast(&v->cv); /* the next in line may try now */
    }
    pthread_mutex_unlock(&v->mu);
}

/* ---- public queries ------------------------------------------------------------------------- */

int evl_loop_overload_stats(const struct evl_loop *loop, struct evl_overload_stats *out)
{
    if (!loop || !out) {
        return EVL_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    struct evl_loop *l = (struct evl_loop *)(uintptr_t)loop; /* atomics: reads only */
    out->discarded = atomic_load_explicit(&l->discarded, memory_order_relaxed);
    out->limit_timers =
        atomic_load_explicit(&l->budgets.hits[EVL__LIMIT_TIMERS], memory_order_relaxed);
    out->limit_immediates =
        atomic_load_explicit(&l->budgets.hits[EVL__LIMIT_IMMEDIATES], memory_order_relaxed);
    out->limit_fds = atomic_load_explicit(&l->budgets.hits[EVL__LIMIT_FDS], memory_order_relaxed);
    out->limit_pool_jobs =
        atomic_load_explicit(&l->budgets.hits[EVL__LIMIT_POOL_JOBS], memory_order_relaxed);
    out->checkpoint_caps =
        atomic_load_explicit(&l->budgets.hits[EVL__LIMIT_MICROTASKS], memory_order_relaxed);
    const struct evl__overload *v = loop->ovl;
    if (v) {
        struct evl__overload *w = (struct evl__overload *)(uintptr_t)v; /* atomics: reads */
        out->refused_full = atomic_load_explicit(&w->refused_full, memory_order_relaxed);
        out->refused_rate = atomic_load_explicit(&w->refused_rate, memory_order_relaxed);
        out->refused_closed = atomic_load_explicit(&w->refused_closed, memory_order_relaxed);
        out->waits = atomic_load_explicit(&w->waits, memory_order_relaxed);
        out->wait_timeouts = atomic_load_explicit(&w->wait_timeouts, memory_order_relaxed);
        out->queued_slots = evl__submitq_queued(l);
        out->queue_limit_slots = v->limit;
    }
    return 0;
}

/* ---- producer groups ------------------------------------------------------------------------ */

struct evl_submit_group {
    struct evl_loop *loop;
    struct evl__bucket bucket;
    _Atomic uint64_t accepted;
    _Atomic uint64_t refused;
    _Atomic uint64_t warn_next_ns;
    _Atomic uint64_t warn_suppressed;
    char name[64];
};

int evl_submit_group_new(struct evl_loop *loop, const char *name, double rate, uint32_t burst,
                         struct evl_submit_group **out)
{
    if (!out) {
        return EVL_EINVAL;
    }
    *out = NULL;
    if (!loop || !name || rate <= 0.0 || !rate_valid(rate, burst) ||
        strlen(name) >= sizeof(((struct evl_submit_group *)0)->name)) {
        return EVL_EINVAL;
    }
    struct evl_submit_group *g = evl__loop_malloc(loop, sizeof(*g));
    if (!g) {
        return EVL_ENOMEM;
    }
    memset(g, 0, sizeof(*g));
    g->loop = loop;
    evl__bucket_init(&g->bucket, rate, burst_default(rate, burst), evl__loop_clock(loop));
    memcpy(g->name, name, strlen(name) + 1); /* length checked above */
    *out = g;
    return 0;
}

void evl_submit_group_free(struct evl_submit_group *g)
{
    if (g) {
        evl__loop_free(g->loop, g);
    }
}

const char *evl_submit_group_name(const struct evl_submit_group *g)
{
    return g ? g->name : NULL;
}

int evl_submit_group_submit(struct evl_submit_group *g, evl_task_cb fn, evl_task_cb discard,
                            void *arg)
{
    if (!g || !fn) {
        return EVL_EINVAL;
    }
    uint64_t retry;
    int rc = evl__bucket_take(&g->bucket, evl__loop_clock(g->loop), &retry);
    if (rc != 0) {
        retry_after_ns = retry ? retry : 1;
        uint64_t total = atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed) + 1;
        char what[128];
        snprintf(what, sizeof(what), "submit refused: rate limit of group \"%s\"", g->name);
        struct evl__overload_event ev = {"refused", "submit", "group_rate", 0, 0};
        evl__overload_warn(g->loop, &g->warn_next_ns, &g->warn_suppressed, &ev, what, total);
        return rc;
    }
    rc = evl_loop_submit_ex(g->loop, fn, discard, arg);
    if (rc != 0) {
        uint64_t keep = retry_after_ns;
        evl__bucket_refund(&g->bucket); /* the task was not taken: nor is its token */
        atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
        retry_after_ns = keep;
        return rc;
    }
    atomic_fetch_add_explicit(&g->accepted, 1, memory_order_relaxed);
    return 0;
}

int evl_submit_group_stats(const struct evl_submit_group *g, uint64_t *accepted, uint64_t *refused)
{
    if (!g) {
        return EVL_EINVAL;
    }
    struct evl_submit_group *w = (struct evl_submit_group *)(uintptr_t)g;
    if (accepted) {
        *accepted = atomic_load_explicit(&w->accepted, memory_order_relaxed);
    }
    if (refused) {
        *refused = atomic_load_explicit(&w->refused, memory_order_relaxed);
    }
    return 0;
}

/*
 * Loop metrics: the recorder behind the recording points of metrics_internal.h, the
 * publication to other threads, and the snapshot. Kept in one file because the three share
 * the live state's layout and the sequence lock; Prometheus text and the server are apart.
 *
 * The loop thread writes the live state with plain stores. Other threads never read it:
 * the loop copies it, word by word with relaxed atomic stores, into a published copy under
 * a sequence lock (the count is odd while a copy is being written), at most every
 * publish_ns while callbacks run and always before the poll phase may sleep. A reader
 * copies the published words and retries if the count changed or was odd. So the hot path
 * costs the loop no lock and no read-modify-write, a reader never stalls the loop, and a
 * reader always sees one whole publication, never a torn mix.
 */
#include "core/metrics/metrics_internal.h"
#include "core/pool/pool.h"

#include "evl/errno.h"
#include "evl/overload.h"
#include "evl/promise.h"
#include "evl/timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SAMPLE_EVERY 64u
#define DEFAULT_SLOW_NS      ((uint64_t)50 * 1000 * 1000)
#define DEFAULT_PUBLISH_NS   ((uint64_t)50 * 1000 * 1000)
#define QUEUE_EWMA_SHIFT     4 /* moving average weight 1/16 */

/* ---- histogram ----------------------------------------------------------------------------- */

uint64_t evl__hist_bucket_low(unsigned i)
{
    if (i < EVL__HIST_SUB) {
        return i;
    }
    unsigned e = i / EVL__HIST_SUB + EVL__HIST_SUB_BITS - 1;
    uint64_t sub = i % EVL__HIST_SUB;
    return (EVL__HIST_SUB + sub) << (e - EVL__HIST_SUB_BITS);
}

uint64_t evl__hist_bucket_width(unsigned i)
{
    if (i < EVL__HIST_SUB) {
        return 1;
    }
    unsigned e = i / EVL__HIST_SUB + EVL__HIST_SUB_BITS - 1;
    return (uint64_t)1 << (e - EVL__HIST_SUB_BITS);
}

unsigned evl__hist_add(struct evl__hist *h, uint64_t v)
{
    if (h->n < EVL__HIST_EXACT) {
        h->exact[h->n] = v;
    }
    if (h->n == 0 || v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
    h->n++;
    h->sum += v;
    h->sumsq += (double)v * (double)v;
    unsigned i = evl__hist_index(v);
    h->b[i]++;
    return i;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ceil(q * n) within [1, n], without libm. */
static uint64_t rank_of(uint64_t n, double q)
{
    double x = q * (double)n;
    if (x <= 1.0) {
        return 1;
    }
    if (x >= (double)n) {
        return n;
    }
    uint64_t r = (uint64_t)x;
    return (double)r < x ? r + 1 : r;
}

/* Square root by Newton's method (libm stays out of libevl's link line). */
static double square_root(double v)
{
    if (!(v > 0.0)) {
        return 0.0;
    }
    double x = v > 1.0 ? v / 2.0 : 1.0;
    for (int i = 0; i < 64; i++) {
        double next = 0.5 * (x + v / x);
        if (next == x) {
            break;
        }
        x = next;
    }
    return x;
}

uint64_t evl__hist_quantile(const struct evl__hist *h, double q)
{
    if (h->n == 0) {
        return 0;
    }
    uint64_t rank = rank_of(h->n, q);
    if (h->n <= EVL__HIST_EXACT) {
        uint64_t v[EVL__HIST_EXACT];
        memcpy(v, h->exact, (size_t)h->n * sizeof(v[0]));
        qsort(v, (size_t)h->n, sizeof(v[0]), cmp_u64);
        return v[rank - 1];
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < EVL__HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t mid = evl__hist_bucket_low(i) + evl__hist_bucket_width(i) / 2;
            if (mid < h->min) {
                mid = h->min;
            }
            if (mid > h->max || i == EVL__HIST_BUCKETS - 1) {
                mid = h->max;
            }
            return mid;
        }
    }
    return h->max;
}

/* ---- recording (loop thread) --------------------------------------------------------------- */

static void publish_at(struct evl_loop *loop, struct evl__metrics *m, int force, uint64_t now);

const uint64_t evl__delay_bounds_ns[EVL__DELAY_BOUNDS] = {
    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,   100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000};

/* Adds v to histogram `which` (EVL__TRACK_DELAY or a kind) and notes the bucket for the
 * next publication. */
static void tracked_add(struct evl__metrics *m, unsigned which, struct evl__hist *h, uint64_t v)
{
    uint32_t i = evl__hist_add(h, v);
    struct evl__hist_track *t = &m->track[which];
    if (i < t->lo) {
        t->lo = i;
    }
    if (i > t->hi) {
        t->hi = i;
    }
}

/* Nothing touched since the last publication. */
static void track_clear(struct evl__metrics *m)
{
    for (unsigned i = 0; i < EVL__TRACKS; i++) {
        const struct evl__hist *h = i == EVL__TRACK_DELAY ? &m->live.delay : &m->live.kind[i].h;
        m->track[i].pub_n = h->n;
        m->track[i].lo = UINT32_MAX;
        m->track[i].hi = 0;
    }
}

void evl__metrics_delay_add(struct evl__metrics *m, uint64_t ns)
{
    tracked_add(m, EVL__TRACK_DELAY, &m->live.delay, ns);
    for (unsigned i = EVL__DELAY_BOUNDS; i-- > 0 && ns <= evl__delay_bounds_ns[i];) {
        m->live.delay_le[i]++;
    }
    m->dirty = 1;
}

uint64_t evl_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* sample_every as a countdown's start value. */
static uint32_t every_of(const struct evl__metrics *m)
{
    uint32_t every = atomic_load_explicit(&m->sample_every, memory_order_relaxed);
    return every == 0 ? 1 : every;
}

/* live.kind[k].count += what kind k's countdown used since it was armed (modulo 2^32: a
 * countdown that was never armed wraps below zero, and it is folded far more often than
 * every 2^32 callbacks). */
static int fold_kind(struct evl_loop *loop, struct evl__metrics *m, unsigned k)
{
    uint32_t left = loop->mtick.left[k];
    if (left == m->armed[k]) {
        return 0;
    }
    m->live.kind[k].count += (uint32_t)(m->armed[k] - left);
    m->armed[k] = left;
    return 1;
}

int evl__metrics_fold(struct evl_loop *loop, struct evl__metrics *m)
{
    int moved = 0;
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        moved |= fold_kind(loop, m, k);
    }
    uint32_t left = loop->mtick.iter_left;
    if (left != m->iter_armed) {
        m->live.iterations += (uint32_t)(m->iter_armed - left);
        m->iter_armed = left;
        moved = 1;
    }
    return moved;
}

/* Token: start time << 1, bit 0 set when CPU time is measured too. */
static uint64_t sample_start(struct evl__metrics *m)
{
    int cpu = 0;
    uint32_t every = atomic_load_explicit(&m->cpu_sample_every, memory_order_relaxed);
    if (every != 0 && !m->in_cpu && --m->cpu_countdown == 0) {
        m->cpu_countdown = every;
        m->in_cpu = 1;
        m->cpu_start = evl_thread_cpu_ns();
        cpu = 1;
    } else if (every != 0 && m->cpu_countdown > every) {
        m->cpu_countdown = every; /* the setting shrank */
    }
    return (evl__monotonic_ns() << 1) | (uint64_t)cpu;
}

uint64_t evl__metrics_sample_end(struct evl__metrics *m, unsigned kind, uint64_t token)
{
    uint64_t now = evl__monotonic_ns();
    uint64_t start = token >> 1;
    uint64_t d = now > start ? now - start : 0;
    struct evl__kind_data *k = &m->live.kind[kind];
    k->sampled++;
    tracked_add(m, kind, &k->h, d);
    if (d >= atomic_load_explicit(&m->slow_ns, memory_order_relaxed)) {
        k->slow++;
    }
    if (token & 1) {
        uint64_t c = evl_thread_cpu_ns();
        k->cpu_sampled++;
        k->cpu_ns += c > m->cpu_start ? c - m->cpu_start : 0;
        m->in_cpu = 0;
    }
    m->dirty = 1;
    return d;
}

static const char *const kind_names[EVL_METRICS_KINDS] = {
    "task", "timer", "immediate", "io", "microtask", "nexttick", "pool"};

/* The kind's countdown reached zero: this callback is the Nth since it was armed. Counts
 * what the countdown covered, re-arms it with the current sample_every and times this one. */
uint64_t evl__metrics_cb_begin_slow(struct evl_loop *loop, unsigned kind)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m == NULL) {
        return 0;
    }
    (void)fold_kind(loop, m, kind);
    loop->mtick.left[kind] = m->armed[kind] = every_of(m);
    m->dirty = 1;
    return sample_start(m);
}

/* Arms the countdowns (the loop thread's part of the first enable): every kind's first timed
 * callback is its sample_every-th, the queues are sampled at the next iteration. */
static void arm_countdowns(struct evl_loop *loop, struct evl__metrics *m)
{
    (void)evl__metrics_fold(loop, m);
    uint32_t every = every_of(m);
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        loop->mtick.left[k] = m->armed[k] = every;
    }
    loop->mtick.iter_left = m->iter_armed = 1;
}

/* A smaller sample_every applies at once to countdowns armed with a larger one. */
static void clamp_countdowns(struct evl_loop *loop, struct evl__metrics *m)
{
    uint32_t every = every_of(m);
    for (unsigned k = 0; k < EVL_METRICS_KINDS; k++) {
        if (loop->mtick.left[k] > every) {
            (void)fold_kind(loop, m, k);
            loop->mtick.left[k] = m->armed[k] = every;
        }
    }
}

void evl__metrics_cb_end_slow(struct evl_loop *loop, unsigned kind, uint64_t token)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    struct evl__metrics *m = atomic_load_explicit(&obs->metrics, memory_order_relaxed);
    uint64_t d = evl__metrics_sample_end(m, kind, token);
    uint64_t slow = atomic_load_explicit(&m->slow_ns, memory_order_relaxed);
    if (d >= slow) {
        EVL_LOG_EVENT(loop, EVL_LOG_WARN, kind_names[kind], "slow_callback", NULL,
                      EVL_LF_STR("kind", kind_names[kind]), EVL_LF_DURATION("duration", d),
                      EVL_LF_DURATION("threshold", slow));
    }
}

void evl__metrics_timer_sampled(struct evl_loop *loop, uint64_t id, uint64_t late_ns)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    /* The lateness probe records its own lateness against its own schedule. */
    if (m != NULL && id != m->delay_timer) {
        evl__metrics_delay_add(m, late_ns);
    }
}

void evl__metrics_iteration_slow(struct evl_loop *loop)
{
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m == NULL) {
        return;
    }
    (void)evl__metrics_fold(loop, m);
    loop->mtick.iter_left = m->iter_armed = EVL__METRICS_ITER_SAMPLE;
    /* A sample_every made smaller from another thread applies within
     * EVL__METRICS_ITER_SAMPLE iterations, not only once the longer countdowns ran out. */
    clamp_countdowns(loop, m);
    evl__metrics_publish(loop, m, 0);
    evl__metrics_queue_slow(m, EVL_METRICS_Q_SUBMIT, evl__submitq_queued(loop));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_MICROTASK, evl__checkpoint_micro_count(&loop->cp));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_NEXTTICK, evl__checkpoint_tick_count(&loop->cp));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_TIMERS, evl__timers_live(&loop->timers));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_IMMEDIATES, evl__immediates_count(&loop->timers));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_FDS, evl__io_count(loop));
    evl__metrics_queue_slow(m, EVL_METRICS_Q_POOL, evl__pool_jobs_pending(loop));
}

void evl__metrics_poll_begin_slow(struct evl_loop *loop, struct evl__metrics *m, int may_block)
{
    uint64_t now = evl__monotonic_ns();
    if (m->busy_start_ns != 0 && now > m->busy_start_ns) {
        m->live.busy_ns += now - m->busy_start_ns;
    }
    m->busy_start_ns = 0;
    m->poll_start_ns = now;
    m->dirty = 1;
    publish_at(loop, m, may_block, now);
}

/* The wait that began at m->poll_start_ns returned at now: idle until now, busy from now. */
static void wait_over(struct evl__metrics *m, uint64_t now)
{
    if (now > m->poll_start_ns) {
        m->live.idle_ns += now - m->poll_start_ns;
    }
    m->poll_start_ns = 0;
    m->busy_start_ns = now;
    m->dirty = 1;
}

void evl__metrics_poll_end_slow(struct evl__metrics *m, unsigned cause)
{
    if (m->poll_start_ns != 0) {
        wait_over(m, evl__monotonic_ns()); /* not ended by the I/O wait already */
    }
    if (cause < EVL_METRICS_WAKES) {
        m->live.wakeups[cause]++;
    }
    m->dirty = 1;
}

void evl__metrics_queue_slow(struct evl__metrics *m, unsigned q, uint64_t depth)
{
    struct evl__queue_data *g = &m->live.queue[q];
    g->depth = depth;
    if (depth > g->max) {
        g->max = depth;
    }
    if (g->observed == 0) {
        g->avg = (double)depth;
    } else {
        g->avg += ((double)depth - g->avg) / (double)(1u << QUEUE_EWMA_SHIFT);
    }
    g->observed++;
    m->dirty = 1;
}

/* Counters owned by other modules, copied in at publication (loop thread). */
static void pull_foreign(struct evl_loop *loop, struct evl__metrics *m)
{
    struct evl_promise_stats ps;
    evl_loop_promise_stats(loop, &ps);
    m->live.promises_created = ps.created;
    m->live.promises_settled = ps.settled;
    m->live.promises_pending = ps.pending;
    struct evl_overload_stats os;
    if (evl_loop_overload_stats(loop, &os) == 0) {
        m->live.queue[EVL_METRICS_Q_SUBMIT].refusals = os.refused_full + os.refused_rate;
        m->live.queue[EVL_METRICS_Q_TIMERS].refusals = os.limit_timers;
        m->live.queue[EVL_METRICS_Q_IMMEDIATES].refusals = os.limit_immediates;
        m->live.queue[EVL_METRICS_Q_FDS].refusals = os.limit_fds;
        m->live.queue[EVL_METRICS_Q_POOL].refusals = os.limit_pool_jobs;
    }
}

/* The published copy's words [from, to) from live. */
static void publish_words(struct evl__metrics *m, size_t from, size_t to)
{
    const unsigned char *src = (const unsigned char *)&m->live;
    for (size_t i = from; i < to; i++) {
        uint64_t w;
        memcpy(&w, src + i * sizeof(uint64_t), sizeof(w));
        atomic_store_explicit(&m->pub[i], w, memory_order_relaxed);
    }
}

#define WORD_OF(off) ((off) / sizeof(uint64_t))

_Static_assert(sizeof(struct evl__mdata) % sizeof(uint64_t) == 0, "mdata is whole words");
_Static_assert(offsetof(struct evl__hist, exact) + sizeof(((struct evl__hist *)0)->exact) ==
                       offsetof(struct evl__hist, b) &&
                   offsetof(struct evl__hist, b) + sizeof(((struct evl__hist *)0)->b) ==
                       sizeof(struct evl__hist),
               "a histogram ends with its exact values, then its buckets");
_Static_assert(offsetof(struct evl__mdata, delay) < offsetof(struct evl__mdata, kind),
               "the delay histogram comes before the kinds'");
_Static_assert(offsetof(struct evl__kind_data, h) + sizeof(struct evl__hist) ==
                   sizeof(struct evl__kind_data),
               "a kind's histogram ends its record");

/* Word offset of histogram `which` (track order) in struct evl__mdata. */
static size_t hist_word(unsigned which)
{
    if (which == EVL__TRACK_DELAY) {
        return WORD_OF(offsetof(struct evl__mdata, delay));
    }
    return WORD_OF(offsetof(struct evl__mdata, kind) + which * sizeof(struct evl__kind_data) +
                   offsetof(struct evl__kind_data, h));
}

/*
 * Copies live into the published copy: every word but the histograms' exact values and
 * buckets, and of those only what changed since the last copy (the histograms are most of
 * the data and change only with a timed callback or a delay sample), so publishing before
 * each sleep stays cheap. The words not copied already hold their live values.
 */
static void publish_delta(struct evl__metrics *m)
{
    if (m->full) {
        publish_words(m, 0, EVL__MDATA_WORDS);
        m->full = 0;
        track_clear(m);
        return;
    }
    /* Histograms in address order: the delay's, then the kinds'. */
    static const unsigned order[EVL__TRACKS] = {EVL__TRACK_DELAY, 0, 1, 2, 3, 4, 5, 6};
    _Static_assert(EVL_METRICS_KINDS == 7, "order lists every kind");
    size_t at = 0;
    for (unsigned j = 0; j < EVL__TRACKS; j++) {
        unsigned which = order[j];
        const struct evl__hist *h =
            which == EVL__TRACK_DELAY ? &m->live.delay : &m->live.kind[which].h;
        struct evl__hist_track *t = &m->track[which];
        size_t exact = hist_word(which) + WORD_OF(offsetof(struct evl__hist, exact));
        size_t b = exact + EVL__HIST_EXACT;
        publish_words(m, at, exact); /* what precedes, and the histogram's counters */
        uint64_t n0 = t->pub_n < EVL__HIST_EXACT ? t->pub_n : EVL__HIST_EXACT;
        uint64_t n1 = h->n < EVL__HIST_EXACT ? h->n : EVL__HIST_EXACT;
        if (n1 > n0) {
            publish_words(m, exact + n0, exact + n1);
        }
        if (t->lo <= t->hi) {
            publish_words(m, b + t->lo, b + t->hi + 1);
        }
        t->pub_n = h->n;
        t->lo = UINT32_MAX;
        t->hi = 0;
        at = b + (size_t)EVL__HIST_BUCKETS;
    }
    publish_words(m, at, EVL__MDATA_WORDS);
}

/* evl__metrics_publish with the clock already read. */
static void publish_at(struct evl_loop *loop, struct evl__metrics *m, int force, uint64_t now)
{
    if (evl__metrics_fold(loop, m)) {
        m->dirty = 1;
    }
    if (!m->dirty) {
        return;
    }
    if (!force &&
        now - m->last_publish_ns < atomic_load_explicit(&m->publish_ns, memory_order_relaxed)) {
        return;
    }
    pull_foreign(loop, m);
    m->live.published_ns = now;
    m->live.sample_every = atomic_load_explicit(&m->sample_every, memory_order_relaxed);
    m->live.slow_ns = atomic_load_explicit(&m->slow_ns, memory_order_relaxed);
    uint32_t s = atomic_load_explicit(&m->seq, memory_order_relaxed);
    atomic_store_explicit(&m->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    publish_delta(m);
    atomic_store_explicit(&m->seq, s + 2, memory_order_release);
    m->last_publish_ns = now;
    m->dirty = 0;
}

void evl__metrics_publish(struct evl_loop *loop, struct evl__metrics *m, int force)
{
    publish_at(loop, m, force, evl__monotonic_ns());
}

/* ---- enable, the publish hook and the lateness probe ------------------------------------- */

static void on_delay_probe(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct evl__metrics *m = arg;
    if (m == NULL) {
        return;
    }
    uint64_t now = evl_loop_now_ns(loop);
    if (evl__metrics_on(loop) == m) {
        evl__metrics_delay_add(m, now > m->delay_expected ? now - m->delay_expected : 0);
    }
    m->delay_expected = now + (uint64_t)m->delay_res_ms * 1000000u;
}

static void stop_probe(struct evl_loop *loop, struct evl__metrics *m)
{
    if (m->delay_timer != 0) {
        (void)evl_timer_clear(loop, m->delay_timer);
        m->delay_timer = 0;
    }
}

/* Installs (or updates) the loop-thread parts: publish hook and lateness probe. */
static int install_loop_parts(struct evl_loop *loop, struct evl__metrics *m)
{
    if (!m->hooked) {
        /* Publication happens at the loop's own recording points (iterations and the poll
         * wait); a phase hook would put every iteration on the hooks' slower path. */
        m->hooked = 1;
        m->busy_start_ns = evl__monotonic_ns();
        arm_countdowns(loop, m);
    } else {
        clamp_countdowns(loop, m);
    }
    uint32_t res = atomic_load_explicit(&m->want_delay_res_ms, memory_order_relaxed);
    if (res != m->delay_res_ms || (res != 0 && m->delay_timer == 0)) {
        stop_probe(loop, m);
        m->delay_res_ms = res;
        if (res != 0) {
            uint64_t id = 0;
            int rc = evl_timer_set(loop, on_delay_probe, m, res, res, &id);
            if (rc != 0) {
                return rc;
            }
            (void)evl_timer_unref(loop, id);
            m->delay_timer = id;
            m->delay_expected = evl_loop_now_ns(loop) + (uint64_t)res * 1000000u;
        }
    }
    return 0;
}

static void install_task(struct evl_loop *loop, void *arg)
{
    struct evl__metrics *m = arg;
    if (m != NULL && evl__metrics_on(loop) == m) {
        if (install_loop_parts(loop, m) != 0) {
            evl_log(loop, EVL_LOG_WARN, "metrics", "cannot install the publish hook");
        }
    }
}

void evl_metrics_options_init(struct evl_metrics_options *options)
{
    if (options == NULL) {
        return;
    }
    memset(options, 0, sizeof(*options));
    options->size = sizeof(*options);
    options->sample_every = DEFAULT_SAMPLE_EVERY;
    options->slow_ns = DEFAULT_SLOW_NS;
    options->delay_resolution_ms = 0;
    options->publish_ns = DEFAULT_PUBLISH_NS;
}

/* name: also set the label (never while another thread may be reading it). */
static void apply_options(struct evl__metrics *m, const struct evl_metrics_options *o, int name)
{
    uint32_t every = o->sample_every ? o->sample_every : DEFAULT_SAMPLE_EVERY;
    atomic_store(&m->sample_every, every);
    atomic_store(&m->cpu_sample_every, o->cpu_sample_every);
    atomic_store(&m->slow_ns, o->slow_ns ? o->slow_ns : DEFAULT_SLOW_NS);
    atomic_store(&m->publish_ns, o->publish_ns ? o->publish_ns : DEFAULT_PUBLISH_NS);
    uint32_t res = o->delay_resolution_ms;
    atomic_store(&m->want_delay_res_ms, res == UINT32_MAX ? 0 : res);
    if (name && o->name != NULL) {
        size_t n = strlen(o->name);
        if (n >= sizeof(m->name)) {
            n = sizeof(m->name) - 1;
        }
        memcpy(m->name, o->name, n);
        m->name[n] = '\0';
    }
}

int evl_metrics_enable(struct evl_loop *loop, const struct evl_metrics_options *options)
{
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    if (loop == NULL) {
        return EVL_EINVAL;
    }
    if (options != NULL) {
        if (options->size < sizeof(o) - sizeof(o.name) || options->size > sizeof(o)) {
            return EVL_EINVAL;
        }
        memcpy(&o, options, options->size);
        o.size = sizeof(o);
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED) {
        return EVL_ECLOSED;
    }
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return EVL_ENOMEM;
    }
    struct evl__metrics *m = atomic_load(&obs->metrics);
    if (m == NULL) {
        struct evl__metrics *fresh = evl__loop_malloc(loop, sizeof(*fresh));
        if (fresh == NULL) {
            return EVL_ENOMEM;
        }
        memset(fresh, 0, sizeof(*fresh));
        memcpy(fresh->name, "default", sizeof("default"));
        apply_options(fresh, &o, 1);
        fresh->full = 1;
        fresh->cpu_countdown = o.cpu_sample_every ? o.cpu_sample_every : 1;
        fresh->live.enabled = 1;
        struct evl__metrics *none = NULL;
        if (!atomic_compare_exchange_strong(&obs->metrics, &none, fresh)) {
            evl__loop_free(loop, fresh); /* a concurrent enable won; apply ours to it */
            m = none;
            apply_options(m, &o, 0);
        } else {
            m = fresh;
        }
    } else {
        apply_options(m, &o, evl__loop_on_thread(loop));
    }
    atomic_fetch_or(&loop->obs, EVL__OBS_METRICS);
    if (evl__loop_on_thread(loop)) {
        m->live.enabled = 1;
        m->dirty = 1;
        return install_loop_parts(loop, m);
    }
    int rc = evl_loop_submit(loop, install_task, m);
    return rc == EVL_ECLOSED ? 0 : rc; /* a closing loop records what it still runs */
}

int evl_metrics_disable(struct evl_loop *loop)
{
    if (loop == NULL) {
        return EVL_EINVAL;
    }
    atomic_fetch_and(&loop->obs, ~EVL__OBS_METRICS);
    struct evl__obs *obs = evl__obs_peek(loop);
    struct evl__metrics *m = obs ? atomic_load(&obs->metrics) : NULL;
    if (m != NULL && evl__loop_on_thread(loop)) {
        stop_probe(loop, m);
        m->delay_res_ms = 0;
        m->live.enabled = 0;
        m->dirty = 1;
        evl__metrics_publish(loop, m, 1);
    }
    return 0;
}

int evl_metrics_enabled(const struct evl_loop *loop)
{
    return loop != NULL && (atomic_load(&loop->obs) & EVL__OBS_METRICS) != 0;
}

int evl_metrics_idle_enable(struct evl_loop *loop)
{
    if (loop == NULL) {
        return EVL_EINVAL;
    }
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return EVL_ENOMEM;
    }
    uintptr_t was = atomic_fetch_or(&loop->obs, EVL__OBS_IDLE);
    /* Enabled while a run is in progress: the accounting starts now. */
    if ((was & EVL__OBS_IDLE) == 0 && atomic_load(&loop->runner) != 0) {
        uint64_t none = 0;
        (void)atomic_compare_exchange_strong(&obs->idle_start_ns, &none, evl__monotonic_ns());
    }
    return 0;
}

int evl_metrics_idle_time(const struct evl_loop *loop, uint64_t *idle_ns, uint64_t *start_ns)
{
    if (loop == NULL || idle_ns == NULL) {
        return EVL_EINVAL;
    }
    uintptr_t v = atomic_load_explicit(&loop->obs, memory_order_acquire);
    if ((v & EVL__OBS_IDLE) == 0) {
        return EVL_ENOENT;
    }
    const struct evl__obs *obs = (const struct evl__obs *)(v & ~EVL__OBS_FLAGS);
    *idle_ns = atomic_load_explicit(&obs->idle_ns, memory_order_relaxed);
    if (start_ns != NULL) {
        *start_ns = atomic_load_explicit(&obs->idle_start_ns, memory_order_relaxed);
    }
    return 0;
}

void evl__idle_begin_slow(struct evl_loop *loop)
{
    evl__obs_peek(loop)->idle_since = evl__monotonic_ns();
}

void evl__obs_wait_returned_slow(struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    uint64_t now = evl__monotonic_ns();
    if (obs->idle_since != 0) {
        if (now > obs->idle_since) {
            /* Single writer: a load and a store, no read-modify-write. */
            uint64_t idle = atomic_load_explicit(&obs->idle_ns, memory_order_relaxed);
            atomic_store_explicit(&obs->idle_ns, idle + (now - obs->idle_since),
                                  memory_order_relaxed);
        }
        obs->idle_since = 0;
    }
    struct evl__metrics *m = evl__metrics_on(loop);
    if (m != NULL && m->poll_start_ns != 0) {
        wait_over(m, now);
    }
}

void evl__idle_run_begin_slow(struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    if (atomic_load_explicit(&obs->idle_start_ns, memory_order_relaxed) == 0) {
        atomic_store_explicit(&obs->idle_start_ns, evl__monotonic_ns(), memory_order_relaxed);
    }
}

int evl_metrics_reset(struct evl_loop *loop)
{
    if (loop == NULL) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__obs *obs = evl__obs_peek(loop);
    struct evl__metrics *m = obs ? atomic_load(&obs->metrics) : NULL;
    if (m == NULL) {
        return EVL_ENOENT;
    }
    (void)evl__metrics_fold(loop, m); /* the countdowns' balance belongs to what is dropped */
    struct evl__queue_data q[EVL_METRICS_QUEUES];
    memcpy(q, m->live.queue, sizeof(q));
    uint64_t enabled = m->live.enabled;
    memset(&m->live, 0, sizeof(m->live));
    m->live.enabled = enabled;
    for (unsigned i = 0; i < EVL_METRICS_QUEUES; i++) {
        m->live.queue[i].depth = q[i].depth;
        m->live.queue[i].max = q[i].depth;
        m->live.queue[i].avg = (double)q[i].depth;
    }
    if (m->busy_start_ns != 0) {
        m->busy_start_ns = evl__monotonic_ns();
    }
    if (m->poll_start_ns != 0) {
        m->poll_start_ns = evl__monotonic_ns();
    }
    m->dirty = 1;
    m->full = 1;
    evl__metrics_publish(loop, m, 1);
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------- */

int evl__metrics_read(struct evl_loop *loop, struct evl__mdata *out, char *name, size_t name_cap)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    struct evl__metrics *m = obs ? atomic_load(&obs->metrics) : NULL;
    if (m == NULL) {
        memset(out, 0, sizeof(*out));
        if (name != NULL && name_cap > 0) {
            snprintf(name, name_cap, "%s", "default");
        }
        return EVL_ENOENT;
    }
    if (name != NULL && name_cap > 0) {
        snprintf(name, name_cap, "%s", m->name);
    }
    if (evl__loop_on_thread(loop)) {
        (void)evl__metrics_fold(loop, m);
        *out = m->live;
        out->published_ns = evl__monotonic_ns();
        out->enabled = evl_metrics_enabled(loop);
        out->sample_every = atomic_load_explicit(&m->sample_every, memory_order_relaxed);
        out->slow_ns = atomic_load_explicit(&m->slow_ns, memory_order_relaxed);
        return 0;
    }
    uint64_t words[64];
    unsigned char *dst = (unsigned char *)out;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
        if (s1 & 1) {
            evl__cpu_relax();
            continue;
        }
        for (size_t i = 0; i < EVL__MDATA_WORDS; i += 64) {
            size_t n = EVL__MDATA_WORDS - i < 64 ? EVL__MDATA_WORDS - i : 64;
            for (size_t j = 0; j < n; j++) {
                words[j] = atomic_load_explicit(&m->pub[i + j], memory_order_relaxed);
            }
            memcpy(dst + i * sizeof(uint64_t), words, n * sizeof(uint64_t));
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&m->seq, memory_order_relaxed) == s1) {
            break;
        }
    }
    if (out->published_ns == 0) { /* never published yet: only the settings are known */
        out->sample_every = atomic_load_explicit(&m->sample_every, memory_order_relaxed);
        out->slow_ns = atomic_load_explicit(&m->slow_ns, memory_order_relaxed);
    }
    out->enabled = evl_metrics_enabled(loop);
    return 0;
}

static void fill_quantiles(const struct evl__hist *h, struct evl_metrics_quantiles *q)
{
    q->p50 = evl__hist_quantile(h, 0.5);
    q->p90 = evl__hist_quantile(h, 0.9);
    q->p99 = evl__hist_quantile(h, 0.99);
    q->p999 = evl__hist_quantile(h, 0.999);
}

void evl__metrics_fill(const struct evl__mdata *d, struct evl_metrics_snapshot *out)
{
    size_t size = out->size;
    memset(out, 0, size);
    out->size = size;
    out->enabled = d->enabled != 0;
    out->published_ns = d->published_ns;
    out->sample_every = d->sample_every;
    out->slow_ns = d->slow_ns;
    for (unsigned i = 0; i < EVL_METRICS_KINDS; i++) {
        const struct evl__kind_data *k = &d->kind[i];
        struct evl_metrics_kind_stats *o = &out->kind[i];
        o->count = k->count;
        o->sampled = k->sampled;
        o->slow = k->slow;
        o->sum_ns = k->h.sum;
        o->min_ns = k->h.min;
        o->max_ns = k->h.max;
        o->mean_ns = k->h.n ? (double)k->h.sum / (double)k->h.n : 0.0;
        fill_quantiles(&k->h, &o->q);
        o->cpu_sampled = k->cpu_sampled;
        o->cpu_ns = k->cpu_ns;
    }
    for (unsigned i = 0; i < EVL_METRICS_QUEUES; i++) {
        out->queue[i].depth = d->queue[i].depth;
        out->queue[i].max = d->queue[i].max;
        out->queue[i].avg = d->queue[i].avg;
        out->queue[i].refusals = d->queue[i].refusals;
        out->queue[i].observed = d->queue[i].observed;
    }
    out->iterations = d->iterations;
    out->idle_ns = d->idle_ns;
    out->busy_ns = d->busy_ns;
    uint64_t total = d->idle_ns + d->busy_ns;
    out->utilization = total ? (double)d->busy_ns / (double)total : 0.0;
    memcpy(out->wakeups, d->wakeups, sizeof(out->wakeups));
    out->fastpath_enter = d->fast_enter;
    out->fastpath_leave = d->fast_leave;
    const struct evl__hist *h = &d->delay;
    out->delay_count = h->n;
    out->delay_min_ns = h->min;
    out->delay_max_ns = h->max;
    if (h->n != 0) {
        double mean = (double)h->sum / (double)h->n;
        double var = h->sumsq / (double)h->n - mean * mean;
        out->delay_mean_ns = mean;
        out->delay_stddev_ns = square_root(var);
    }
    fill_quantiles(h, &out->delay_q);
    out->promises_created = d->promises_created;
    out->promises_settled = d->promises_settled;
    out->promises_pending = d->promises_pending;
    out->unhandled_rejections = d->unhandled;
    out->handled_late = d->handled_late;
}

int evl_metrics_snapshot(struct evl_loop *loop, struct evl_metrics_snapshot *out)
{
    if (loop == NULL || out == NULL || out->size < sizeof(*out)) {
        return EVL_EINVAL;
    }
    struct evl__mdata *d = evl__loop_malloc(loop, sizeof(*d));
    if (d == NULL) {
        return EVL_ENOMEM;
    }
    (void)evl__metrics_read(loop, d, NULL, 0);
    evl__metrics_fill(d, out);
    evl__loop_free(loop, d);
    return 0;
}

/*
 * Fuzzes the C promises against a reference model that follows the ECMAScript
 * specification's abstract operations (PerformPromiseThen, the promise resolve functions,
 * NewPromiseReactionJob, NewPromiseResolveThenableJob, Promise.prototype.finally's
 * thenFinally/catchFinally, and the combinators' element functions with their
 * remaining-elements counter starting at 1), with one FIFO job queue.
 *
 * The input is a program of (op, arg) byte pairs: new, resolve, reject, resolve with another
 * promise, then (with or without each handler; a handler returns undefined, forwards,
 * returns a value, throws, or returns another promise), finally (whose callback returns
 * undefined, a value, throws, or returns a promise), all / any / race / allSettled over
 * promises and plain values, settling through an evl_resolver from another thread, release,
 * a checkpoint and a loop iteration. After every checkpoint and iteration the order in which
 * handlers and finally callbacks ran must equal the model's, and every promise still held
 * must be in the model's state with the model's value (tokens, the value lists of all and
 * allSettled, the aggregate error of any). Values carry destructors that check they are
 * destroyed once; at the end the tracking allocator must be back to its starting count.
 *
 * A promise only ever waits for older ones (then, adoption and combinators point back in
 * creation order), so no reference cycle keeps pending promises alive past the end.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS   256
#define MAX_P     1024
#define MAX_R     4096
#define MAX_J     8192
#define MAX_V     8192
#define MAX_RF    4096
#define MAX_C     256
#define MAX_IN    3
#define MAX_LOG   4096
#define MAX_HELD  128
#define BOX_MAGIC 0x5eedbeefu

static void fail(int line)
{
    fprintf(stderr, "fuzz_promise_ops: invariant at line %d broken\n", line);
    abort();
}

#define check(ok) ((ok) ? (void)0 : fail(__LINE__))

/* ---- Model values ------------------------------------------------------------------------ */

enum mv_kind { MV_TOKEN, MV_LIST, MV_SETTLED, MV_AGG };

struct mval {
    enum mv_kind kind;
    int token; /* MV_TOKEN: 0 is undefined (NULL) */
    int n;
    int status[MAX_IN]; /* MV_SETTLED: EVL_PROMISE_FULFILLED / REJECTED */
    int items[MAX_IN];  /* model value indices */
};

/* ---- Model promises, resolving functions, reactions, jobs ------------------------------- */

enum h_kind {
    H_NONE, /* a missing handler: identity / thrower */
    H_USER,
    H_FIN_THEN,
    H_FIN_CATCH,
    H_VALUE_THUNK,
    H_THROWER,
    H_RF_RESOLVE,
    H_RF_REJECT,
    H_ALL_ELEM,
    H_SETTLED_F,
    H_SETTLED_R,
    H_ANY_REJ
};

struct handler {
    enum h_kind kind;
    int id;     /* H_USER, H_FIN_*: the log id */
    int action; /* 0 undefined, 1 forward, 2 value, 3 throw, 4 another promise */
    int token;
    int q;    /* action 4: the model promise returned */
    int mv;   /* H_VALUE_THUNK, H_THROWER */
    int rf;   /* H_RF_* */
    int comb; /* combinator elements */
    int index;
};

struct mpromise {
    int state;
    int value;
    int reactions[2048]; /* bounded by MAX_OPS: at most 3 pairs per op plus adoptions */
    int nreact;
    int rf;                   /* its own resolving functions (new promises), or its capability's */
    struct evl_promise *real; /* while held */
    int is_new;
};

struct rfn {
    int promise;
    int already;
};

struct reaction {
    int cap; /* resolving functions of the derived promise; -1 for a throwaway */
    struct handler h;
};

struct job {
    int thenable; /* 0: reaction job; 1: resolve-thenable job */
    int reaction;
    int arg;    /* reaction job: the value */
    int target; /* thenable job: the promise to resolve */
    int q;      /* thenable job: the thenable */
};

struct comb {
    int rf;
    int remaining;
    int values[MAX_IN];
    int status[MAX_IN];
    int called[MAX_IN];
    int n;
    enum mv_kind kind;
};

/* What a C handler does: read by the reaction callbacks. */
struct hctx {
    int id;
    int action;
    int token;
    struct evl_promise *q; /* borrowed: pinned until the end of the input */
};

struct remote {
    int p;
    int reject;
    int token;
    struct evl_resolver *r;
    void *box;
    int rc;
};

struct model {
    struct evl_loop *loop;
    struct mval v[MAX_V];
    int nv;
    struct mpromise p[MAX_P];
    int np;
    struct rfn rf[MAX_RF];
    int nrf;
    struct reaction r[MAX_R];
    int nr;
    struct job j[MAX_J];
    int jhead, jtail;
    struct comb c[MAX_C];
    int nc;
    int expect[MAX_LOG], nexpect;
    int actual[MAX_LOG], nactual;
    struct hctx hc[MAX_OPS * 2];
    int nhc;
    int held[MAX_HELD];
    int nheld;
    struct remote pending_remote[MAX_OPS];
    int nremote_head, nremote_tail;
    int next_token;
    int next_id;
    struct evl_promise *pins[MAX_OPS];
    int npins;
    int overflow; /* a model pool ran out: stop issuing operations */
};

static struct model m;

static int new_mv(enum mv_kind kind, int token)
{
    if (m.nv == MAX_V) {
        m.overflow = 1;
        return 0; /* index 0 is the permanent undefined */
    }
    struct mval *v = &m.v[m.nv];
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->token = token;
    return m.nv++;
}

static int new_rf(int promise)
{
    check(m.nrf < MAX_RF);
    m.rf[m.nrf].promise = promise;
    m.rf[m.nrf].already = 0;
    return m.nrf++;
}

static int new_mp(int is_new)
{
    check(m.np < MAX_P);
    struct mpromise *p = &m.p[m.np];
    memset(p, 0, sizeof(*p));
    p->is_new = is_new;
    p->rf = new_rf(m.np);
    return m.np++;
}

static void enqueue(struct job job)
{
    check(m.jtail < MAX_J);
    m.j[m.jtail++] = job;
}

static void settle(int pi, int state, int value)
{
    struct mpromise *p = &m.p[pi];
    check(p->state == EVL_PROMISE_PENDING);
    p->state = state;
    p->value = value;
    /* TriggerPromiseReactions: the reactions of the matching kind, in order. The list keeps
     * both kinds as pairs (fulfil at even, reject at odd positions). */
    for (int k = state == EVL_PROMISE_FULFILLED ? 0 : 1; k < p->nreact; k += 2) {
        enqueue((struct job){.reaction = p->reactions[k], .arg = value});
    }
    p->nreact = 0;
}

/* The promise resolve function; resolution is a value, or (q >= 0) a promise. */
static void rf_resolve(int rfi, int value, int q)
{
    if (rfi < 0 || m.rf[rfi].already) {
        return;
    }
    m.rf[rfi].already = 1;
    if (q >= 0) {
        enqueue((struct job){.thenable = 1, .target = m.rf[rfi].promise, .q = q});
        return;
    }
    settle(m.rf[rfi].promise, EVL_PROMISE_FULFILLED, value);
}

static void rf_reject(int rfi, int reason)
{
    if (rfi < 0 || m.rf[rfi].already) {
        return;
    }
    m.rf[rfi].already = 1;
    settle(m.rf[rfi].promise, EVL_PROMISE_REJECTED, reason);
}

static int new_reaction(int cap, struct handler h)
{
    check(m.nr < MAX_R);
    m.r[m.nr].cap = cap;
    m.r[m.nr].h = h;
    return m.nr++;
}

/* PerformPromiseThen(p, onFulfilled, onRejected, capability). */
static void perform_then(int pi, struct handler hf, struct handler hr, int cap)
{
    struct mpromise *p = &m.p[pi];
    int rf = new_reaction(cap, hf);
    int rr = new_reaction(cap, hr);
    if (p->state == EVL_PROMISE_PENDING) {
        check(p->nreact + 2 <= (int)(sizeof(p->reactions) / sizeof(p->reactions[0])));
        p->reactions[p->nreact++] = rf;
        p->reactions[p->nreact++] = rr;
    } else {
        enqueue(
            (struct job){.reaction = p->state == EVL_PROMISE_FULFILLED ? rf : rr, .arg = p->value});
    }
}

/* promise.then(hf, hr) with a new capability; returns the derived model promise. */
static int model_then(int pi, struct handler hf, struct handler hr)
{
    int d = new_mp(0);
    perform_then(pi, hf, hr, m.p[d].rf);
    return d;
}

static void comb_finish(struct comb *c)
{
    int list = new_mv(c->kind, 0);
    m.v[list].n = c->n;
    for (int i = 0; i < c->n; i++) {
        m.v[list].items[i] = c->values[i];
        m.v[list].status[i] = c->status[i];
    }
    if (c->kind == MV_AGG) {
        rf_reject(c->rf, list);
    } else {
        rf_resolve(c->rf, list, -1);
    }
}

/* A handler's completion, then the capability's resolve or reject (NewPromiseReactionJob). */
static void run_reaction(int ri, int arg, int fulfilled)
{
    struct reaction *r = &m.r[ri];
    struct handler *h = &r->h;
    int cap = r->cap;
    switch (h->kind) {
    case H_NONE:
        if (fulfilled) {
            rf_resolve(cap, arg, -1);
        } else {
            rf_reject(cap, arg);
        }
        return;
    case H_USER:
        m.expect[m.nexpect++] = h->id;
        switch (h->action) {
        case 0:
            rf_resolve(cap, 0, -1);
            return;
        case 1:
            if (fulfilled) {
                rf_resolve(cap, arg, -1);
            } else {
                rf_reject(cap, arg);
            }
            return;
        case 2:
            rf_resolve(cap, new_mv(MV_TOKEN, h->token), -1);
            return;
        case 3:
            rf_reject(cap, new_mv(MV_TOKEN, h->token));
            return;
        default:
            rf_resolve(cap, 0, h->q);
            return;
        }
    case H_FIN_THEN:
    case H_FIN_CATCH: {
        m.expect[m.nexpect++] = h->id;
        if (h->action == 3) { /* onFinally threw */
            rf_reject(cap, new_mv(MV_TOKEN, h->token));
            return;
        }
        /* PromiseResolve(C, result), then promise.then(valueThunk / thrower). */
        int promise = h->q;
        if (h->action != 4) {
            promise = new_mp(0);
            settle(promise, EVL_PROMISE_FULFILLED, h->action == 2 ? new_mv(MV_TOKEN, h->token) : 0);
        }
        struct handler thunk = {.kind = h->kind == H_FIN_THEN ? H_VALUE_THUNK : H_THROWER,
                                .mv = arg};
        int d = model_then(promise, thunk, (struct handler){.kind = H_NONE});
        rf_resolve(cap, 0, d);
        return;
    }
    case H_VALUE_THUNK:
        rf_resolve(cap, h->mv, -1);
        return;
    case H_THROWER:
        rf_reject(cap, h->mv);
        return;
    case H_RF_RESOLVE:
        rf_resolve(h->rf, arg, -1);
        return;
    case H_RF_REJECT:
        rf_reject(h->rf, arg);
        return;
    case H_ALL_ELEM:
    case H_SETTLED_F:
    case H_SETTLED_R:
    case H_ANY_REJ: {
        struct comb *c = &m.c[h->comb];
        if (c->called[h->index]) {
            return;
        }
        c->called[h->index] = 1;
        c->values[h->index] = arg;
        c->status[h->index] = h->kind == H_SETTLED_R ? EVL_PROMISE_REJECTED : EVL_PROMISE_FULFILLED;
        if (--c->remaining == 0) {
            comb_finish(c);
        }
        return;
    }
    }
}

static void model_drain(void)
{
    while (m.jhead < m.jtail) {
        struct job job = m.j[m.jhead++];
        if (job.thenable) {
            /* NewPromiseResolveThenableJob: fresh resolving functions, then(resolve, reject). */
            int rf = new_rf(job.target);
            perform_then(job.q, (struct handler){.kind = H_RF_RESOLVE, .rf = rf},
                         (struct handler){.kind = H_RF_REJECT, .rf = rf}, -1);
        } else {
            struct reaction *r = &m.r[job.reaction];
            /* Which of the pair it is: fulfil reactions were created first (even offset). */
            (void)r;
            run_reaction(job.reaction, job.arg, (job.reaction % 2) == 0);
        }
    }
}

/* ---- The C side ------------------------------------------------------------------------- */

struct box {
    uint32_t magic;
    int token;
};

static void box_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    struct box *b = ptr;
    check(b->magic == BOX_MAGIC);
    b->magic = 0;
    evl_free(b);
}

static void *new_box(int token)
{
    struct box *b = evl_malloc(sizeof(*b));
    check(b != NULL);
    b->magic = BOX_MAGIC;
    b->token = token;
    return b;
}

static void log_actual(int id)
{
    check(m.nactual < MAX_LOG);
    m.actual[m.nactual++] = id;
}

static void apply_action(struct hctx *h, struct evl_result *result, int fulfilled)
{
    switch (h->action) {
    case 0:
        break;
    case 1:
        check(evl_result_forward(result) == 0);
        (void)fulfilled;
        break;
    case 2: {
        void *b = new_box(h->token);
        check(evl_result_resolve(result, b, box_dtor) == 0);
        break;
    }
    case 3: {
        void *b = new_box(h->token);
        check(evl_result_reject(result, b, box_dtor) == 0);
        break;
    }
    default:
        check(evl_result_resolve_promise(result, h->q) == 0);
        break;
    }
}

static void on_fulfilled(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct hctx *h = arg;
    log_actual(h->id);
    apply_action(h, result, 1);
}

static void on_rejected(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    struct hctx *h = arg;
    log_actual(h->id);
    apply_action(h, result, 0);
}

static void on_finally(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    struct hctx *h = arg;
    log_actual(h->id);
    apply_action(h, result, 1);
}

static void hctx_dtor(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct hctx *h = arg;
    check(h->id > 0);
    h->id = -h->id; /* destroyed once, and never called afterwards */
}

static void noop_rejection(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)loop;
    (void)p;
    (void)ud;
}

/* ---- Comparing the two sides -------------------------------------------------------------- */

static void compare_value(int mvi, const void *real)
{
    const struct mval *v = &m.v[mvi];
    switch (v->kind) {
    case MV_TOKEN:
        if (v->token == 0) {
            check(real == NULL);
        } else {
            const struct box *b = real;
            if (!b || b->magic != BOX_MAGIC || b->token != v->token) {
                fprintf(stderr, "value: expected token %d, got %d\n", v->token,
                        b && b->magic == BOX_MAGIC ? b->token : -1);
            }
            check(b != NULL && b->magic == BOX_MAGIC && b->token == v->token);
        }
        return;
    case MV_LIST:
    case MV_SETTLED: {
        const struct evl_values *vals = real;
        check(vals != NULL && evl_values_count(vals) == (size_t)v->n);
        for (int i = 0; i < v->n; i++) {
            if (v->kind == MV_SETTLED) {
                check((int)evl_values_status(vals, (size_t)i) == v->status[i]);
            }
            compare_value(v->items[i], evl_values_get(vals, (size_t)i));
        }
        return;
    }
    case MV_AGG: {
        const struct evl_error *err = real;
        check(err != NULL && evl_error_code(err) == EVL_EAGGREGATE);
        const struct evl_values *vals = evl_error_errors(err);
        check(vals != NULL && evl_values_count(vals) == (size_t)v->n);
        for (int i = 0; i < v->n; i++) {
            compare_value(v->items[i], evl_values_get(vals, (size_t)i));
        }
        return;
    }
    }
}

static void dump_logs(void)
{
    fprintf(stderr, "expected:");
    for (int i = 0; i < m.nexpect; i++) {
        fprintf(stderr, " %d", m.expect[i]);
    }
    fprintf(stderr, "\nactual:  ");
    for (int i = 0; i < m.nactual; i++) {
        fprintf(stderr, " %d", m.actual[i]);
    }
    fprintf(stderr, "\n");
}

static void compare_all(void)
{
    if (m.nexpect != m.nactual ||
        memcmp(m.expect, m.actual, (size_t)m.nexpect * sizeof(int)) != 0) {
        dump_logs();
    }
    check(m.nexpect == m.nactual);
    check(memcmp(m.expect, m.actual, (size_t)m.nexpect * sizeof(int)) == 0);
    for (int k = 0; k < m.nheld; k++) {
        const struct mpromise *p = &m.p[m.held[k]];
        check(p->real != NULL);
        check((int)evl_promise_state(p->real) == p->state);
        if (p->state != EVL_PROMISE_PENDING) {
            compare_value(p->value, evl_promise_value(p->real));
        }
    }
}

static void checkpoint(void)
{
    check(evl_loop_checkpoint(m.loop) == 0);
    model_drain();
    compare_all();
}

/* ---- Operations ---------------------------------------------------------------------------- */

static void hold(int pi, struct evl_promise *real)
{
    m.p[pi].real = real;
    if (m.nheld < MAX_HELD) {
        m.held[m.nheld++] = pi;
    } else {
        evl_promise_release(real);
        m.p[pi].real = NULL;
    }
}

static int pick_held(uint8_t arg, int want_new, int older_than)
{
    int cand[MAX_HELD];
    int n = 0;
    for (int k = 0; k < m.nheld; k++) {
        int pi = m.held[k];
        if ((!want_new || m.p[pi].is_new) && pi < older_than) {
            cand[n++] = pi;
        }
    }
    return n ? cand[arg % n] : -1;
}

static void op_new(void)
{
    struct evl_promise *real;
    check(evl_promise_new(m.loop, &real) == 0);
    hold(new_mp(1), real);
}

static void op_settle(uint8_t arg, int reject)
{
    int pi = pick_held(arg, 1, MAX_P);
    if (pi < 0) {
        return;
    }
    int token = ++m.next_token;
    void *b = new_box(token);
    int already = m.rf[m.p[pi].rf].already;
    int rc = reject ? evl_promise_reject(m.p[pi].real, b, box_dtor)
                    : evl_promise_resolve(m.p[pi].real, b, box_dtor);
    check(rc == (already ? EVL_EALREADY : 0));
    if (rc != 0) {
        box_dtor(m.loop, b);
        return;
    }
    if (reject) {
        rf_reject(m.p[pi].rf, new_mv(MV_TOKEN, token));
    } else {
        rf_resolve(m.p[pi].rf, new_mv(MV_TOKEN, token), -1);
    }
}

static void op_resolve_promise(uint8_t arg)
{
    int pi = pick_held(arg, 1, MAX_P);
    if (pi < 0) {
        return;
    }
    int q = pick_held((uint8_t)(arg >> 3), 0, pi);
    if (q < 0) {
        return;
    }
    int already = m.rf[m.p[pi].rf].already;
    int rc = evl_promise_resolve_promise(m.p[pi].real, m.p[q].real);
    check(rc == (already ? EVL_EALREADY : 0));
    if (rc == 0) {
        rf_resolve(m.p[pi].rf, 0, q);
    }
}

/* A handler context from two bytes: action, token, and for action 4 an older promise. */
static struct hctx *new_hctx(uint8_t arg, int source, struct handler *h, enum h_kind kind)
{
    struct hctx *c = &m.hc[m.nhc++];
    memset(c, 0, sizeof(*c));
    c->id = ++m.next_id;
    c->action = (arg >> 2) % 5;
    c->token = ++m.next_token;
    int q = -1;
    if (c->action == 4) {
        q = pick_held((uint8_t)(arg >> 5), 0, source);
        if (q < 0) {
            c->action = 0;
        } else {
            /* Borrowed by the handler, kept alive by a pin: a reference held by the reaction
             * itself would close a cycle (q -> derived -> reaction -> q) that only a
             * garbage collector could break. */
            c->q = m.p[q].real;
            check(m.npins < MAX_OPS);
            m.pins[m.npins++] = evl_promise_retain(c->q);
        }
    }
    if (kind != H_USER && c->action == 1) {
        c->action = 0; /* finally callbacks have no source value to forward */
    }
    *h =
        (struct handler){.kind = kind, .id = c->id, .action = c->action, .token = c->token, .q = q};
    return c;
}

static void op_then(uint8_t arg)
{
    int pi = pick_held((uint8_t)(arg * 7 + 3), 0, MAX_P);
    if (pi < 0) {
        return;
    }
    struct handler h;
    struct hctx *c = new_hctx(arg, pi, &h, H_USER);
    int has_f = arg & 1;
    int has_r = (arg >> 1) & 1;
    struct evl_promise *out;
    check(evl_promise_then(m.p[pi].real, has_f ? on_fulfilled : NULL, has_r ? on_rejected : NULL, c,
                           hctx_dtor, &out) == 0);
    struct handler none = {.kind = H_NONE};
    hold(model_then(pi, has_f ? h : none, has_r ? h : none), out);
}

static void op_finally(uint8_t arg)
{
    int pi = pick_held((uint8_t)(arg * 5 + 1), 0, MAX_P);
    if (pi < 0) {
        return;
    }
    struct handler h;
    struct hctx *c = new_hctx(arg, pi, &h, H_FIN_THEN);
    struct evl_promise *out;
    check(evl_promise_finally(m.p[pi].real, on_finally, c, hctx_dtor, &out) == 0);
    struct handler hc = h;
    hc.kind = H_FIN_CATCH;
    hold(model_then(pi, h, hc), out);
}

/* kind: 0 all, 1 any, 2 race, 3 allSettled */
static void op_combinator(uint8_t arg, int kind)
{
    int n = arg % (MAX_IN + 1);
    struct evl_promise_input in[MAX_IN];
    int model_in[MAX_IN];
    int tokens[MAX_IN];
    for (int i = 0; i < n; i++) {
        int plain = (arg >> (2 + i)) & 1;
        int pi = plain ? -1 : pick_held((uint8_t)(arg + i * 7), 0, MAX_P);
        model_in[i] = pi;
        tokens[i] = 0;
        if (pi < 0) {
            tokens[i] = ++m.next_token;
            in[i] = (struct evl_promise_input){NULL, new_box(tokens[i]), box_dtor};
        } else {
            in[i] = (struct evl_promise_input){m.p[pi].real, NULL, NULL};
        }
    }
    struct evl_promise *out;
    int rc = kind == 0   ? evl_promise_all(m.loop, in, (size_t)n, &out)
             : kind == 1 ? evl_promise_any(m.loop, in, (size_t)n, &out)
             : kind == 2 ? evl_promise_race(m.loop, in, (size_t)n, &out)
                         : evl_promise_all_settled(m.loop, in, (size_t)n, &out);
    check(rc == 0);
    /* The model: a capability, then each input through PromiseResolve and then. */
    int result = new_mp(0);
    check(m.nc < MAX_C);
    int ci = m.nc++;
    struct comb *c = &m.c[ci];
    memset(c, 0, sizeof(*c));
    c->rf = m.p[result].rf;
    c->remaining = 1;
    c->n = n;
    c->kind = kind == 1 ? MV_AGG : kind == 3 ? MV_SETTLED : MV_LIST;
    for (int i = 0; i < n; i++) {
        int next = model_in[i];
        if (next < 0) {
            next = new_mp(0);
            settle(next, EVL_PROMISE_FULFILLED, new_mv(MV_TOKEN, tokens[i]));
        }
        struct handler hf;
        struct handler hr;
        switch (kind) {
        case 0:
            hf = (struct handler){.kind = H_ALL_ELEM, .comb = ci, .index = i};
            hr = (struct handler){.kind = H_RF_REJECT, .rf = c->rf};
            break;
        case 1:
            hf = (struct handler){.kind = H_RF_RESOLVE, .rf = c->rf};
            hr = (struct handler){.kind = H_ANY_REJ, .comb = ci, .index = i};
            break;
        case 2:
            hf = (struct handler){.kind = H_RF_RESOLVE, .rf = c->rf};
            hr = (struct handler){.kind = H_RF_REJECT, .rf = c->rf};
            break;
        default:
            hf = (struct handler){.kind = H_SETTLED_F, .comb = ci, .index = i};
            hr = (struct handler){.kind = H_SETTLED_R, .comb = ci, .index = i};
            break;
        }
        if (kind != 2) {
            c->remaining++;
        }
        perform_then(next, hf, hr, -1);
    }
    if (kind != 2 && --c->remaining == 0) {
        comb_finish(c);
    }
    hold(result, out);
}

/* The other thread: one per input, so its settlements are one producer's and keep their
 * order (submission is FIFO per producer). Requests are handed over one at a time. */
static struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct remote *req; /* set by the loop thread, cleared by the worker when done */
    int live;
    int quit;
} worker = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&worker.mu);
    for (;;) {
        while (!worker.req && !worker.quit) {
            pthread_cond_wait(&worker.cv, &worker.mu);
        }
        if (!worker.req) {
            break;
        }
        struct remote *rm = worker.req;
        pthread_mutex_unlock(&worker.mu);
        rm->rc = rm->reject ? evl_resolver_reject(rm->r, rm->box, box_dtor)
                            : evl_resolver_resolve(rm->r, rm->box, box_dtor);
        evl_resolver_release(rm->r);
        pthread_mutex_lock(&worker.mu);
        worker.req = NULL;
        pthread_cond_broadcast(&worker.cv);
    }
    pthread_mutex_unlock(&worker.mu);
    return NULL;
}

static int worker_call(struct remote *rm)
{
    if (!worker.live) {
        worker.quit = 0;
        if (pthread_create(&worker.thread, NULL, worker_main, NULL) != 0) {
            return -1;
        }
        worker.live = 1;
    }
    pthread_mutex_lock(&worker.mu);
    worker.req = rm;
    pthread_cond_broadcast(&worker.cv);
    while (worker.req) {
        pthread_cond_wait(&worker.cv, &worker.mu);
    }
    pthread_mutex_unlock(&worker.mu);
    return 0;
}

static void worker_stop(void)
{
    if (!worker.live) {
        return;
    }
    pthread_mutex_lock(&worker.mu);
    worker.quit = 1;
    pthread_cond_broadcast(&worker.cv);
    pthread_mutex_unlock(&worker.mu);
    pthread_join(worker.thread, NULL);
    worker.live = 0;
}

static void op_remote(uint8_t arg)
{
    int pi = pick_held(arg >> 1, 1, MAX_P);
    if (pi < 0 || m.nremote_tail == MAX_OPS) {
        return;
    }
    struct remote *rm = &m.pending_remote[m.nremote_tail];
    memset(rm, 0, sizeof(*rm));
    rm->p = pi;
    rm->reject = arg & 1;
    rm->token = ++m.next_token;
    rm->box = new_box(rm->token);
    check(evl_resolver_new(m.p[pi].real, &rm->r) == 0);
    if (worker_call(rm) != 0) {
        evl_resolver_release(rm->r);
        box_dtor(m.loop, rm->box);
        return;
    }
    check(rm->rc == 0);
    m.nremote_tail++;
}

static void op_release(uint8_t arg)
{
    if (m.nheld == 0) {
        return;
    }
    int k = arg % m.nheld;
    int pi = m.held[k];
    evl_promise_release(m.p[pi].real);
    m.p[pi].real = NULL;
    m.held[k] = m.held[--m.nheld];
}

/* One loop iteration: each settlement hopped from another thread is a task, and a checkpoint
 * follows each. */
static void op_run(void)
{
    checkpoint();
    check(evl_loop_run(m.loop, EVL_RUN_NOWAIT) >= 0);
    while (m.nremote_head < m.nremote_tail) {
        struct remote *rm = &m.pending_remote[m.nremote_head++];
        int rfi = m.p[rm->p].rf;
        int v = new_mv(MV_TOKEN, rm->token);
        if (rm->reject) {
            rf_reject(rfi, v);
        } else {
            rf_resolve(rfi, v, -1);
        }
        model_drain();
    }
    compare_all();
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
    m.nv = 1; /* m.v[0]: undefined */
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.spin_ns = EVL_SPIN_OFF;
    check(evl_loop_new(&m.loop, &o) == 0);
    check(evl_loop_set_rejection_hooks(m.loop, noop_rejection, noop_rejection, NULL) == 0);
    int ops = 0;
    for (size_t i = 0; i + 1 < size && ops < MAX_OPS && !m.overflow; i += 2, ops++) {
        uint8_t arg = data[i + 1];
        switch (data[i] % 15) {
        case 0:
        case 1:
            op_new();
            break;
        case 2:
            op_settle(arg, 0);
            break;
        case 3:
            op_settle(arg, 1);
            break;
        case 4:
            op_resolve_promise(arg);
            break;
        case 5:
        case 6:
            op_then(arg);
            break;
        case 7:
            op_finally(arg);
            break;
        case 8:
            op_combinator(arg, 0);
            break;
        case 9:
            op_combinator(arg, 1);
            break;
        case 10:
            op_combinator(arg, 2);
            break;
        case 11:
            op_combinator(arg, 3);
            break;
        case 12:
            op_remote(arg);
            break;
        case 13:
            op_release(arg);
            break;
        default:
            if (arg & 1) {
                op_run();
            } else {
                checkpoint();
            }
            break;
        }
    }
    op_run();
    worker_stop();
    while (m.nheld > 0) {
        op_release(0);
    }
    while (m.npins > 0) {
        evl_promise_release(m.pins[--m.npins]);
    }
    check(evl_loop_close(m.loop) == 0);
    evl_loop_run(m.loop, EVL_RUN_NOWAIT);
    check(evl_loop_free(m.loop) == 0);
    struct evl_alloc_stats after;
    evl_alloc_stats(&after);
    check(after.live_blocks == before.live_blocks);
    return 0;
}

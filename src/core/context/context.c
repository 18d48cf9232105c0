/*
 * Context hooks and correlation ids (include/evl/context.h), and the loop's side of
 * propagation: the bit of loop->obs that sends callbacks through the slow half of
 * evl__loop_cb_enter while a context is current, the scopes that half enters, and the
 * restore of an id set by a callback that entered no scope. The schedulers' wrappers are in
 * propagate.c.
 *
 * A frame holds one captured value per slot that existed at capture time and the
 * correlation id current then. Frames are reference-counted on the loop thread only (no
 * atomics): every scheduler that keeps one runs on the loop thread; a frame made on another
 * thread for an explicit id (evl__context_frame_for_id) is handed over once, through the
 * submit queue, before the loop touches it.
 *
 * The bit (EVL__OBS_CONTEXT) is set while a correlation id is current, an embedder slot
 * exists, or an id set by a scope-less callback waits to be undone; it is the one test a
 * scheduler and a callback site make, so a loop that never uses contexts pays a load and a
 * predictable branch. Only the loop thread changes it (atomic or/and: other threads flip
 * the metrics bit of the same word).
 *
 * An id set inside a callback that entered no scope (a task scheduled without context)
 * belongs to that callback only: the state before it is saved (implicit_*), and undone
 * when the next callback at the same or an outer depth begins, or when the id is read from
 * an outer depth. That keeps the hot path free of a test after every callback.
 */
#include "core/context/context_internal.h"

#include "core/error/error.h"
#include "core/metrics/metrics_internal.h"
#include "evl/errno.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

struct slot {
    struct evl_context_hooks h;
    void *ud;
    int live;
};

struct evl__context {
    struct slot slots[EVL_CONTEXT_MAX_SLOTS];
    unsigned nslots; /* highest slot in use + 1 */
    unsigned live;   /* slots in use */
    int has_id;
    unsigned char id[16];
    /* The frame the innermost scope entered while it still describes the current state
     * (no slot values, id unchanged since): capture then shares it instead of allocating. */
    struct evl_context_frame *cur;
    unsigned nscopes; /* scopes entered and not left */
    int flag_on;      /* EVL__OBS_CONTEXT is set in loop->obs */
    /* An id set by a callback that entered no scope: the callback depth it was set at (0:
     * none) and the state to restore when that callback is over. */
    uint32_t implicit_depth;
    int implicit_had_id;
    unsigned char implicit_id[16];
    /* Scopes of callbacks that carry no frame while a context is current (the empty
     * context), one per nesting level: evl__context_cb_begin_slow/end_slow. */
    struct evl_context_scope *stack;
    uint32_t depth;
    uint32_t cap;
};

/* What a frame keeps per slot: the value and how to release it (the slot may be gone by
 * then). */
struct frame_slot {
    void *value;
    void (*release)(void *ud, void *value);
    void *ud;
};

struct evl_context_frame {
    uint32_t refs;
    uint32_t nslots;
    int has_id;
    unsigned char id[16];
    struct frame_slot slots[]; /* nslots entries */
};

static struct evl__context *ctx_of(const struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    return obs ? obs->context : NULL;
}

static struct evl__context *ctx_get(struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return NULL;
    }
    if (obs->context == NULL) {
        struct evl__context *c = evl__loop_malloc(loop, sizeof(*c));
        if (c == NULL) {
            return NULL;
        }
        memset(c, 0, sizeof(*c));
        obs->context = c;
    }
    return obs->context;
}

/* Makes the loop's bit and the thread's ambient id (read by evl_error_new) agree with the
 * context. Loop thread. */
static void sync_state(struct evl_loop *loop, struct evl__context *c)
{
    int want = c->live != 0 || c->has_id || c->implicit_depth != 0;
    if (want != c->flag_on) {
        c->flag_on = want;
        if (want) {
            atomic_fetch_or_explicit(&loop->obs, EVL__OBS_CONTEXT, memory_order_relaxed);
        } else {
            atomic_fetch_and_explicit(&loop->obs, ~EVL__OBS_CONTEXT, memory_order_relaxed);
        }
    }
    evl__error_set_ambient(c->has_id ? c->id : NULL);
}

/* Undoes an id set by a callback that entered no scope. */
static void implicit_restore(struct evl_loop *loop, struct evl__context *c)
{
    c->has_id = c->implicit_had_id;
    memcpy(c->id, c->implicit_id, sizeof(c->id));
    c->implicit_depth = 0;
    c->cur = NULL;
    sync_state(loop, c);
}

/* The callback that set an implicit id returned (we are at an outer depth now). */
static inline int implicit_over(const struct evl_loop *loop, const struct evl__context *c)
{
    return c->implicit_depth != 0 && evl__loop_cb_depth(loop) < c->implicit_depth;
}

void evl__context_free(struct evl_loop *loop, struct evl__context *ctx)
{
    if (ctx != NULL) {
        if (evl__loop_on_thread(loop)) {
            evl__error_set_ambient(NULL);
        }
        evl__loop_free(loop, ctx->stack);
        evl__loop_free(loop, ctx);
    }
}

int evl_context_add_slot(struct evl_loop *loop, const struct evl_context_hooks *hooks, void *ud,
                         int *slot_out)
{
    if (loop == NULL || hooks == NULL || slot_out == NULL ||
        hooks->size != sizeof(struct evl_context_hooks) || hooks->capture == NULL ||
        hooks->enter == NULL || hooks->leave == NULL) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__context *c = ctx_get(loop);
    if (c == NULL) {
        return EVL_ENOMEM;
    }
    for (unsigned i = 0; i < EVL_CONTEXT_MAX_SLOTS; i++) {
        if (!c->slots[i].live) {
            c->slots[i].h = *hooks;
            c->slots[i].ud = ud;
            c->slots[i].live = 1;
            if (i + 1 > c->nslots) {
                c->nslots = i + 1;
            }
            c->live++;
            c->cur = NULL;
            sync_state(loop, c);
            *slot_out = (int)i;
            return 0;
        }
    }
    return EVL_ELIMIT;
}

int evl_context_remove_slot(struct evl_loop *loop, int slot)
{
    if (loop == NULL || slot < 0 || slot >= EVL_CONTEXT_MAX_SLOTS) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__context *c = ctx_of(loop);
    if (c == NULL || !c->slots[slot].live) {
        return EVL_ENOENT;
    }
    c->slots[slot].live = 0;
    c->live--;
    while (c->nslots > 0 && !c->slots[c->nslots - 1].live) {
        c->nslots--;
    }
    sync_state(loop, c);
    return 0;
}

static struct evl_context_frame *frame_alloc(struct evl_loop *loop, uint32_t nslots)
{
    size_t size = sizeof(struct evl_context_frame) + (size_t)nslots * sizeof(struct frame_slot);
    struct evl_context_frame *f = evl__loop_malloc(loop, size);
    if (f != NULL) {
        memset(f, 0, size);
        f->refs = 1;
        f->nslots = nslots;
    }
    return f;
}

/* The capture itself (the loop thread, a context current or slots present). */
static int capture(struct evl_loop *loop, struct evl__context *c, struct evl_context_frame **out)
{
    if (implicit_over(loop, c)) {
        implicit_restore(loop, c);
    }
    if (c->live == 0 && !c->has_id) {
        return 0;
    }
    if (c->cur != NULL) {
        *out = evl_context_retain(c->cur); /* nothing changed since it was entered */
        return 0;
    }
    struct evl_context_frame *f = frame_alloc(loop, c->nslots);
    if (f == NULL) {
        return EVL_ENOMEM;
    }
    f->has_id = c->has_id;
    memcpy(f->id, c->id, sizeof(f->id));
    for (unsigned i = 0; i < c->nslots; i++) {
        if (c->slots[i].live) {
            f->slots[i].release = c->slots[i].h.release;
            f->slots[i].ud = c->slots[i].ud;
            f->slots[i].value = c->slots[i].h.capture(c->slots[i].ud);
        }
    }
    *out = f;
    return 0;
}

int evl_context_capture(struct evl_loop *loop, struct evl_context_frame **out)
{
    if (loop == NULL || out == NULL) {
        return EVL_EINVAL;
    }
    *out = NULL;
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__context *c = ctx_of(loop);
    if (c == NULL) {
        return 0;
    }
    return capture(loop, c, out);
}

int evl__context_capture_slow(struct evl_loop *loop, struct evl_context_frame **out)
{
    struct evl__context *c = ctx_of(loop);
    return c != NULL ? capture(loop, c, out) : 0;
}

void evl__context_run_end_slow(struct evl_loop *loop)
{
    struct evl__context *c = ctx_of(loop);
    if (c != NULL && implicit_over(loop, c)) {
        implicit_restore(loop, c);
    }
}

int evl__context_capture_with_id(struct evl_loop *loop, const unsigned char id[16],
                                 struct evl_context_frame **out)
{
    *out = NULL;
    struct evl_context_frame *f = NULL;
    if (evl__loop_on_thread(loop)) {
        int rc = evl__context_capture_slow(loop, &f);
        if (rc != 0) {
            return rc;
        }
        /* Slot values are kept with the id replaced. A frame without slots is dropped for
         * a fresh one below: it may be shared (the current scope's), so it is not edited. */
        if (f != NULL && f->nslots != 0 && f->refs == 1) {
            f->has_id = 1;
            memcpy(f->id, id, 16);
            *out = f;
            return 0;
        }
        evl_context_release(loop, f);
    }
    /* Another thread has no context of the loop's to capture: the frame holds the id. */
    f = frame_alloc(loop, 0);
    if (f == NULL) {
        return EVL_ENOMEM;
    }
    f->has_id = 1;
    memcpy(f->id, id, 16);
    *out = f;
    return 0;
}

int evl_context_frame_correlation(const struct evl_context_frame *frame, unsigned char id[16])
{
    if (frame == NULL || !frame->has_id) {
        return 0;
    }
    if (id != NULL) {
        memcpy(id, frame->id, 16);
    }
    return 1;
}

struct evl_context_frame *evl_context_retain(struct evl_context_frame *frame)
{
    if (frame != NULL) {
        frame->refs++;
    }
    return frame;
}

void evl_context_release(struct evl_loop *loop, struct evl_context_frame *frame)
{
    if (loop == NULL || frame == NULL || --frame->refs != 0) {
        return;
    }
    for (unsigned i = 0; i < frame->nslots; i++) {
        if (frame->slots[i].value != NULL && frame->slots[i].release != NULL) {
            frame->slots[i].release(frame->slots[i].ud, frame->slots[i].value);
        }
    }
    evl__loop_free(loop, frame);
}

static void enter(struct evl_loop *loop, struct evl__context *c, struct evl_context_frame *frame,
                  struct evl_context_scope *scope)
{
    scope->active = 1;
    scope->frame = frame;
    scope->previous_frame = c->cur;
    scope->had_id = (unsigned char)c->has_id;
    memcpy(scope->previous_id, c->id, sizeof(c->id));
    if (frame != NULL && frame->has_id) {
        c->has_id = 1;
        memcpy(c->id, frame->id, sizeof(c->id));
    } else {
        c->has_id = 0;
    }
    c->cur = frame != NULL && frame->nslots == 0 ? frame : NULL;
    for (unsigned i = 0; i < c->nslots; i++) {
        if (c->slots[i].live) {
            void *v = frame != NULL && i < frame->nslots ? frame->slots[i].value : NULL;
            scope->previous[i] = c->slots[i].h.enter(c->slots[i].ud, v);
        }
    }
    c->nscopes++;
    sync_state(loop, c);
}

static void leave(struct evl_loop *loop, struct evl__context *c, struct evl_context_scope *scope)
{
    for (unsigned i = c->nslots; i-- > 0;) {
        if (c->slots[i].live) {
            c->slots[i].h.leave(c->slots[i].ud, scope->previous[i]);
        }
    }
    c->has_id = scope->had_id;
    memcpy(c->id, scope->previous_id, sizeof(c->id));
    c->cur = scope->previous_frame;
    c->nscopes--;
    scope->active = 0;
    sync_state(loop, c);
}

void evl_context_enter(struct evl_loop *loop, struct evl_context_frame *frame,
                       struct evl_context_scope *scope)
{
    if (scope == NULL) {
        return; /* nowhere to keep what would be replaced: switch nothing */
    }
    memset(scope, 0, sizeof(*scope));
    struct evl__context *c = loop ? ctx_of(loop) : NULL;
    if (c == NULL) {
        if (frame == NULL || !frame->has_id || loop == NULL) {
            return; /* no slot was ever added and no id was ever set: nothing to switch */
        }
        c = ctx_get(loop);
        if (c == NULL) {
            return;
        }
    }
    enter(loop, c, frame, scope);
}

void evl_context_leave(struct evl_loop *loop, struct evl_context_scope *scope)
{
    if (loop == NULL || scope == NULL || !scope->active) {
        return;
    }
    leave(loop, ctx_of(loop), scope);
}

/* ---- the callback bracket's slow half ---------------------------------------------------- */

/* A callback begins while metrics record or a context is current: metrics first, then the
 * empty context (a callback with a frame enters it inside). */
uint64_t evl__context_cb_begin_slow(struct evl_loop *loop, unsigned kind)
{
    uintptr_t bits = atomic_load_explicit(&loop->obs, memory_order_relaxed);
    uint64_t token = 0;
    if (bits & EVL__OBS_METRICS) {
        token = evl__loop_metrics_tick(loop, kind);
    }
    if (!(bits & EVL__OBS_CONTEXT)) {
        return token;
    }
    struct evl__context *c = ctx_of(loop);
    if (c == NULL) {
        return token;
    }
    /* A new callback at the depth of the one that set an implicit id: that one is over. */
    if (c->implicit_depth != 0 && evl__loop_cb_depth(loop) <= c->implicit_depth) {
        implicit_restore(loop, c);
    }
    if (c->live == 0 && !c->has_id) {
        return token; /* the restore emptied it */
    }
    if (c->depth == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 4;
        struct evl_context_scope *st = evl__loop_realloc(loop, c->stack, (size_t)cap * sizeof(*st));
        if (st == NULL) {
            return token; /* runs in the context around it: better than not at all */
        }
        c->stack = st;
        c->cap = cap;
    }
    /* Entered into a local and stored by index: the slots' enter hooks may start callbacks
     * whose own begin grows (moves) the stack. */
    uint32_t d = c->depth++;
    struct evl_context_scope sc;
    enter(loop, c, NULL, &sc);
    c->stack[d] = sc;
    return token | EVL__CB_TOKEN_CONTEXT;
}

void evl__context_cb_end_slow(struct evl_loop *loop, unsigned kind, uint64_t token)
{
    if (token & EVL__CB_TOKEN_CONTEXT) {
        struct evl__context *c = ctx_of(loop);
        /* Copied out: leave may run hooks that start callbacks and grow the stack. */
        struct evl_context_scope sc = c->stack[--c->depth];
        leave(loop, c, &sc);
    }
    if (evl__loop_cb_sampled(token)) {
        evl__metrics_cb_end_slow(loop, kind, token & ~EVL__CB_TOKEN_CONTEXT);
    }
}

/* ---- correlation ids ----------------------------------------------------------------------- */

int evl_correlation_new(struct evl_loop *loop, unsigned char id[16])
{
    if (loop == NULL || id == NULL) {
        return EVL_EINVAL;
    }
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return EVL_ENOMEM;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    unsigned char rnd[10];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uintptr_t)id;
        for (size_t i = 0; i < sizeof(rnd); i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rnd[i] = (unsigned char)x;
        }
    }
    /* ms << 12 | counter: the counter starts from random bits each new millisecond (so ids
     * do not reveal how many were made), and a value that is not above the last one is
     * replaced by last + 1, carrying into the timestamp if the counter overflows. */
    uint64_t seq = (ms << 12) | (((uint64_t)rnd[0] << 4 | (rnd[1] >> 4)) & 0x3ff);
    uint64_t last = atomic_load(&obs->uuid_last);
    uint64_t next;
    do {
        next = seq > last ? seq : last + 1;
    } while (!atomic_compare_exchange_weak(&obs->uuid_last, &last, next));
    uint64_t t = next >> 12;
    unsigned counter = (unsigned)(next & 0xfff);
    for (int i = 0; i < 6; i++) {
        id[i] = (unsigned char)(t >> (40 - 8 * i));
    }
    id[6] = (unsigned char)(0x70 | (counter >> 8));
    id[7] = (unsigned char)(counter & 0xff);
    id[8] = (unsigned char)(0x80 | (rnd[2] & 0x3f));
    memcpy(id + 9, rnd + 3, 7);
    return 0;
}

int evl_correlation_set(struct evl_loop *loop, const unsigned char id[16])
{
    if (loop == NULL) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__context *c = id ? ctx_get(loop) : ctx_of(loop);
    if (c == NULL) {
        return id ? EVL_ENOMEM : 0;
    }
    uint32_t depth = evl__loop_cb_depth(loop);
    if (implicit_over(loop, c)) {
        implicit_restore(loop, c);
    }
    if (depth > 0 && c->nscopes == 0 && c->implicit_depth == 0) {
        /* A callback that entered no scope: the id is its own, undone when it is over. */
        c->implicit_depth = depth;
        c->implicit_had_id = c->has_id;
        memcpy(c->implicit_id, c->id, sizeof(c->id));
    }
    c->has_id = id != NULL;
    if (id != NULL) {
        memcpy(c->id, id, sizeof(c->id));
    }
    c->cur = NULL;
    sync_state(loop, c);
    return 0;
}

int evl_correlation_get(const struct evl_loop *loop, unsigned char id[16])
{
    if (loop == NULL || !evl__loop_on_thread(loop)) {
        return 0;
    }
    struct evl__context *c = ctx_of(loop);
    if (c == NULL) {
        return 0;
    }
    int has = c->has_id;
    const unsigned char *cur = c->id;
    if (implicit_over(loop, c)) {
        /* The callback that set it is over (undone for real at the next capture). */
        has = c->implicit_had_id;
        cur = c->implicit_id;
    }
    if (!has) {
        return 0;
    }
    if (id != NULL) {
        memcpy(id, cur, 16);
    }
    return 1;
}

int evl__context_correlation_text(const struct evl_loop *loop, char out[37])
{
    unsigned char id[16];
    if (!evl_correlation_get(loop, id)) {
        return 0;
    }
    evl_uuid_format(id, out);
    return 1;
}

void evl_uuid_format(const unsigned char id[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    if (out == NULL) {
        return;
    }
    if (id == NULL) {
        out[0] = '\0';
        return;
    }
    size_t j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[j++] = '-';
        }
        out[j++] = hex[id[i] >> 4];
        out[j++] = hex[id[i] & 15];
    }
    out[j] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int evl_uuid_parse(const char *text, unsigned char id[16])
{
    if (text == NULL || id == NULL || strlen(text) != 36) {
        return EVL_EINVAL;
    }
    unsigned char tmp[16];
    size_t j = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return EVL_EINVAL;
            }
            i++;
            continue;
        }
        int hi = hexval(text[i]);
        int lo = hexval(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return EVL_EINVAL;
        }
        tmp[j++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    memcpy(id, tmp, sizeof(tmp));
    return 0;
}

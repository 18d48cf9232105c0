/*
 * Context hooks and correlation ids (include/evl/context.h).
 *
 * A frame holds one captured value per slot that existed at capture time and the
 * correlation id current then. Frames are reference-counted on the loop thread only (no
 * atomics): every scheduler that keeps one runs on the loop thread.
 */
#include "core/context/context.h"

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
};

struct evl_context_frame {
    uint32_t refs;
    uint32_t nslots;
    int has_id;
    unsigned char id[16];
    /* A value per slot; the hooks are looked up again at release through the slot, so a
     * frame is only valid on the loop that made it. */
    void *values[EVL_CONTEXT_MAX_SLOTS];
    struct evl_context_hooks hooks[EVL_CONTEXT_MAX_SLOTS];
    void *uds[EVL_CONTEXT_MAX_SLOTS];
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

void evl__context_free(struct evl_loop *loop, struct evl__context *ctx)
{
    if (ctx != NULL) {
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
    if (c == NULL || (c->live == 0 && !c->has_id)) {
        return 0;
    }
    struct evl_context_frame *f = evl__loop_malloc(loop, sizeof(*f));
    if (f == NULL) {
        return EVL_ENOMEM;
    }
    memset(f, 0, sizeof(*f));
    f->refs = 1;
    f->has_id = c->has_id;
    memcpy(f->id, c->id, sizeof(f->id));
    f->nslots = c->nslots;
    for (unsigned i = 0; i < c->nslots; i++) {
        if (c->slots[i].live) {
            f->hooks[i] = c->slots[i].h;
            f->uds[i] = c->slots[i].ud;
            f->values[i] = c->slots[i].h.capture(c->slots[i].ud);
        }
    }
    *out = f;
    return 0;
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
        if (frame->values[i] != NULL && frame->hooks[i].release != NULL) {
            frame->hooks[i].release(frame->uds[i], frame->values[i]);
        }
    }
    evl__loop_free(loop, frame);
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
        return; /* no slot was ever added and no id was ever set: nothing to switch */
    }
    scope->active = 1;
    scope->frame = frame;
    scope->had_id = (unsigned char)c->has_id;
    memcpy(scope->previous_id, c->id, sizeof(c->id));
    if (frame != NULL && frame->has_id) {
        c->has_id = 1;
        memcpy(c->id, frame->id, sizeof(c->id));
    } else {
        c->has_id = 0;
    }
    for (unsigned i = 0; i < c->nslots; i++) {
        if (c->slots[i].live) {
            void *v = frame != NULL && i < frame->nslots ? frame->values[i] : NULL;
            scope->previous[i] = c->slots[i].h.enter(c->slots[i].ud, v);
        }
    }
}

void evl_context_leave(struct evl_loop *loop, struct evl_context_scope *scope)
{
    if (loop == NULL || scope == NULL || !scope->active) {
        return;
    }
    struct evl__context *c = ctx_of(loop);
    for (unsigned i = c->nslots; i-- > 0;) {
        if (c->slots[i].live) {
            c->slots[i].h.leave(c->slots[i].ud, scope->previous[i]);
        }
    }
    c->has_id = scope->had_id;
    memcpy(c->id, scope->previous_id, sizeof(c->id));
    scope->active = 0;
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
    c->has_id = id != NULL;
    if (id != NULL) {
        memcpy(c->id, id, sizeof(c->id));
    }
    return 0;
}

int evl_correlation_get(const struct evl_loop *loop, unsigned char id[16])
{
    if (loop == NULL || !evl__loop_on_thread(loop)) {
        return 0;
    }
    struct evl__context *c = ctx_of(loop);
    if (c == NULL || !c->has_id) {
        return 0;
    }
    if (id != NULL) {
        memcpy(id, c->id, sizeof(c->id));
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

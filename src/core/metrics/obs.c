/*
 * The observability block hanging off a loop (loop->obs): metrics, the metrics server and
 * the context hooks. Created by the first feature that needs it, from any thread (one
 * compare-and-swap decides), and freed only by evl_loop_free, so a pointer read from
 * loop->obs stays valid for as long as the loop itself.
 */
#include "core/metrics/metrics_internal.h"

#include "core/context/context.h"

#include <string.h>

struct evl__obs *evl__obs_get(struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    if (obs != NULL) {
        return obs;
    }
    /* Aligned by hand: the flags in the pointer's low bits need more alignment than a
     * replaceable allocator promises. */
    void *raw = evl__loop_malloc(loop, sizeof(*obs) + EVL__OBS_ALIGN - 1);
    if (raw == NULL) {
        return NULL;
    }
    obs = (struct evl__obs *)(((uintptr_t)raw + EVL__OBS_ALIGN - 1) & ~(EVL__OBS_ALIGN - 1));
    memset(obs, 0, sizeof(*obs));
    obs->raw = raw;
    obs->loop = loop;
    obs->audit_level = EVL_LOG_OFF;
    uintptr_t expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&loop->obs, &expected, (uintptr_t)obs,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        evl__loop_free(loop, raw); /* another thread won */
        return (struct evl__obs *)(expected & ~(uintptr_t)EVL__OBS_FLAGS);
    }
    return obs;
}

int evl__obs_set_flag(struct evl_loop *loop, uintptr_t flag, int on)
{
    if (!on) {
        atomic_fetch_and(&loop->obs, ~flag);
        return 0;
    }
    if (evl__obs_get(loop) == NULL) {
        return EVL_ENOMEM;
    }
    atomic_fetch_or(&loop->obs, flag);
    return 0;
}

void evl__obs_free(struct evl_loop *loop)
{
    uintptr_t v = atomic_exchange(&loop->obs, 0);
    struct evl__obs *obs = (struct evl__obs *)(v & ~(uintptr_t)EVL__OBS_FLAGS);
    if (obs == NULL) {
        return;
    }
    evl__context_free(loop, obs->context);
    evl__logger_free(loop, atomic_load(&obs->logger));
    struct evl__metrics *m = atomic_load(&obs->metrics);
    if (m != NULL) {
        evl__loop_free(loop, m);
    }
    evl__loop_free(loop, obs->raw);
}

/*
 * Phase hooks: embedders' callbacks run once per iteration before the poll phase (idle,
 * prepare) and after it (check), as libuv's idle/prepare/check handles. The loop calls
 * evl__phase_hooks_run at those points only while loop->phase_hooks exists, so a loop
 * without hooks pays one pointer test per iteration.
 *
 * Hooks live in one array in the order they were added. Removal during a run only clears
 * the entry's kinds (the run skips it); the array is compacted when no run is in progress,
 * so a run never sees entries move under it.
 */
#include "core/hook/hook.h"

#include "core/loop_state.h"
#include "core/metrics/metrics_internal.h"

#include "evl/errno.h"

#include <stdbool.h>
#include <string.h>

#define ALL_KINDS (EVL_HOOK_PREPARE | EVL_HOOK_CHECK | EVL_HOOK_IDLE | EVL_HOOKS_LIFECYCLE)

struct phase_hook {
    evl_hook_cb cb;
    void *arg;
    unsigned kinds;   /* 0: removed, compacted away after the current run */
    unsigned pending; /* kinds added during a run: they start with the next iteration */
};

struct evl__phase_hooks {
    struct phase_hook *v;
    uint32_t n;
    uint32_t cap;
    uint32_t running; /* nested runs in progress (a hook may run the loop's checkpoint) */
    uint32_t idle;    /* entries with EVL_HOOK_IDLE */
    uint32_t observe; /* lifecycle kinds installed, over all entries (EVL__OBS_HOOKS) */
    bool dirty;       /* removed entries wait for compaction */
    bool iter_open;   /* ITERATION_START ran, ITERATION_END not yet */
};

static uint32_t lifecycle_kinds(unsigned kinds)
{
    return (uint32_t)__builtin_popcount(kinds & (unsigned)EVL_HOOKS_LIFECYCLE);
}

/* The loop tests EVL__OBS_HOOKS instead of the hooks: keep it set while any is installed. */
static int observe_add(struct evl_loop *loop, struct evl__phase_hooks *h, unsigned kinds)
{
    uint32_t n = lifecycle_kinds(kinds);
    if (n == 0) {
        return 0;
    }
    if (h->observe == 0) {
        int rc = evl__obs_set_flag(loop, EVL__OBS_HOOKS, 1);
        if (rc != 0) {
            return rc;
        }
    }
    h->observe += n;
    return 0;
}

static void observe_remove(struct evl_loop *loop, struct evl__phase_hooks *h, unsigned kinds)
{
    uint32_t n = lifecycle_kinds(kinds);
    if (n == 0) {
        return;
    }
    h->observe -= n;
    if (h->observe == 0) {
        (void)evl__obs_set_flag(loop, EVL__OBS_HOOKS, 0);
    }
}

/* After the last run in progress: kinds added meanwhile take effect, removed entries go. */
static void compact(struct evl__phase_hooks *h)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        h->v[i].kinds |= h->v[i].pending;
        h->v[i].pending = 0;
        if (h->v[i].kinds != 0) {
            h->v[j++] = h->v[i];
        }
    }
    h->n = j;
    h->dirty = false;
}

static void hooks_teardown(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl__phase_hooks *h = loop->phase_hooks;
    loop->phase_hooks = NULL;
    (void)evl__obs_set_flag(loop, EVL__OBS_HOOKS, 0);
    evl__loop_free(loop, h->v);
    evl__loop_free(loop, h);
}

static int check_caller(const struct evl_loop *loop, unsigned kinds, evl_hook_cb cb)
{
    if (!loop || !cb || kinds == 0 || (kinds & ~(unsigned)ALL_KINDS) != 0) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    return 0;
}

static struct phase_hook *find(struct evl__phase_hooks *h, evl_hook_cb cb, void *arg)
{
    for (uint32_t i = 0; h && i < h->n; i++) {
        if ((h->v[i].kinds | h->v[i].pending) != 0 && h->v[i].cb == cb && h->v[i].arg == arg) {
            return &h->v[i];
        }
    }
    return NULL;
}

int evl_loop_add_hook(struct evl_loop *loop, unsigned kinds, evl_hook_cb cb, void *arg)
{
    int rc = check_caller(loop, kinds, cb);
    if (rc != 0) {
        return rc;
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop) ||
        evl__loop_tearing_down(loop)) {
        return EVL_ECLOSED;
    }
    struct evl__phase_hooks *h = loop->phase_hooks;
    struct phase_hook *old = find(h, cb, arg);
    if (old && (old->kinds & kinds) != 0) {
        return EVL_EEXIST;
    }
    if (old) {
        /* Same callback, new kinds: one entry, so its order among the others is kept. */
        if ((old->pending & kinds) != 0) {
            return EVL_EEXIST;
        }
        rc = observe_add(loop, h, kinds);
        if (rc != 0) {
            return rc;
        }
        if (h->running > 0) {
            old->pending |= kinds;
            h->dirty = true;
        } else {
            old->kinds |= kinds;
        }
        if (kinds & EVL_HOOK_IDLE) {
            h->idle++;
        }
        return 0;
    }
    if (!h) {
        h = evl__loop_malloc(loop, sizeof(*h));
        if (!h) {
            return EVL_ENOMEM;
        }
        memset(h, 0, sizeof(*h));
        rc = evl__loop_at_teardown(loop, hooks_teardown, NULL);
        if (rc != 0) {
            evl__loop_free(loop, h);
            return rc;
        }
        loop->phase_hooks = h;
    }
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 4;
        struct phase_hook *v = evl__loop_realloc(loop, h->v, cap * sizeof(*v));
        if (!v) {
            return EVL_ENOMEM;
        }
        h->v = v;
        h->cap = cap;
    }
    rc = observe_add(loop, h, kinds);
    if (rc != 0) {
        return rc;
    }
    h->v[h->n++] = (struct phase_hook){cb, arg, kinds, 0};
    if (kinds & EVL_HOOK_IDLE) {
        h->idle++;
    }
    return 0;
}

int evl_loop_remove_hook(struct evl_loop *loop, unsigned kinds, evl_hook_cb cb, void *arg)
{
    int rc = check_caller(loop, kinds, cb);
    if (rc != 0) {
        return rc;
    }
    struct evl__phase_hooks *h = loop->phase_hooks;
    struct phase_hook *e = find(h, cb, arg);
    if (!e || ((e->kinds | e->pending) & kinds) == 0) {
        return EVL_ENOENT;
    }
    if (((e->kinds | e->pending) & kinds & EVL_HOOK_IDLE) != 0) {
        h->idle--;
    }
    observe_remove(loop, h, (e->kinds | e->pending) & kinds);
    e->kinds &= ~kinds;
    e->pending &= ~kinds;
    if ((e->kinds | e->pending) == 0) {
        h->dirty = true;
        if (h->running == 0) {
            compact(h);
        }
    }
    return 0;
}

/* Runs the hooks of kind, in order. A phase hook is followed by a checkpoint and a stop ends
 * the run; an observer (lifecycle) hook has neither. Hooks added by this run's callbacks
 * wait for the next; removed ones are skipped. */
static void run_kind(struct evl_loop *loop, struct evl__phase_hooks *h, enum evl_hook_kind kind,
                     int observer)
{
    uint32_t n = h->n;
    h->running++;
    for (uint32_t i = 0; i < n; i++) {
        struct phase_hook e = h->v[i]; /* a callback may grow (move) the array */
        if ((e.kinds & (unsigned)kind) == 0) {
            continue;
        }
        evl__loop_enter_callback(loop);
        e.cb(loop, kind, e.arg);
        evl__loop_leave_callback(loop);
        if (!observer) {
            evl__loop_after_callback(loop);
        }
        if (loop->phase_hooks != h) {
            return; /* torn down by the callback: nothing of h is left to touch */
        }
        if (!observer && evl__loop_interrupted(loop)) {
            break;
        }
    }
    h->running--;
    if (h->running == 0 && h->dirty) {
        compact(h);
    }
}

void evl__phase_hooks_run(struct evl_loop *loop, enum evl_hook_kind kind)
{
    run_kind(loop, loop->phase_hooks, kind, 0);
}

int evl__phase_hooks_idle(const struct evl_loop *loop)
{
    return loop->phase_hooks && loop->phase_hooks->idle > 0;
}

void evl__phase_hooks_observe(struct evl_loop *loop, enum evl_hook_kind kind)
{
    if (loop->phase_hooks != NULL) {
        run_kind(loop, loop->phase_hooks, kind, 1);
    }
}

void evl__phase_hooks_iteration_start(struct evl_loop *loop)
{
    struct evl__phase_hooks *h = loop->phase_hooks;
    if (h == NULL) {
        return;
    }
    if (h->iter_open) {
        evl__phase_hooks_observe(loop, EVL_HOOK_ITERATION_END);
    }
    h->iter_open = true;
    evl__phase_hooks_observe(loop, EVL_HOOK_ITERATION_START);
}

void evl__phase_hooks_iteration_close(struct evl_loop *loop)
{
    struct evl__phase_hooks *h = loop->phase_hooks;
    if (h == NULL || !h->iter_open) {
        return;
    }
    h->iter_open = false;
    evl__phase_hooks_observe(loop, EVL_HOOK_ITERATION_END);
}

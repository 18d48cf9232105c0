/*
 * A fuzz harness whose checks are written in JavaScript: the fuzz_js_* parser targets each
 * embed a driver, a function expression `function (bytes) {...}` that builds its inputs from
 * the fuzzer's bytes (a Uint8Array), calls the parser under test and checks invariants. The
 * driver catches the errors the API may throw; anything that escapes it (a failed check calls
 * fail(msg), which throws) aborts the process with the message, so libFuzzer records the
 * input.
 *
 * One heap (the adapter installed with the web APIs, a 64 MB cap) serves many inputs for
 * speed; every JS_DRIVER_ROUNDS inputs it is freed with its loop, and every block it
 * allocated through the evl allocator must then be free (the leak check), before a new one
 * is made.
 */
#ifndef EVL_FUZZ_JS_DRIVER_H
#define EVL_FUZZ_JS_DRIVER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evl_duktape.h"

#define JS_DRIVER_ROUNDS 500
#define JS_DRIVER_HEAP   ((uint64_t)64 << 20)

struct js_driver {
    const char *name;   /* the target, for messages */
    const char *source; /* the driver function expression */
    /* Called once per heap before the driver is compiled (require() and its globals). */
    void (*prepare)(duk_context *ctx);
    /* Called before each run of the driver (files and globals the input describes). */
    void (*input)(duk_context *ctx, const uint8_t *data, size_t size);
    struct evl_loop *loop;
    duk_context *ctx;
    unsigned rounds;
    struct evl_alloc_stats baseline;
};

static const char js_driver_prelude[] =
    "(function (g) {\n"
    "  g.fail = function (msg) {\n"
    "    var e = new Error('invariant: ' + msg);\n"
    "    e.name = 'FuzzInvariant';\n"
    "    throw e;\n"
    "  };\n"
    "  g.check = function (cond, msg) { if (!cond) { g.fail(msg); } };\n"
    "  /* Calls that reach outside the fuzzer's process, or abort it on purpose. */\n"
    "  ['kill', 'abort', 'umask'].forEach(function (name) {\n"
    "    Object.defineProperty(process, name, { value: function () {\n"
    "      throw new Error('process.' + name + ' is disabled here');\n"
    "    }, writable: false, configurable: false });\n"
    "  });\n"
    "})(this);\n";

static void js_driver_die(struct js_driver *d, const char *what)
{
    fprintf(stderr, "%s: %s\n", d->name, what);
    abort();
}

static void js_driver_close(struct js_driver *d)
{
    if (d->ctx == NULL) {
        return;
    }
    if (evl_duk_heap_free(d->ctx) != 0 || evl_loop_free(d->loop) != 0) {
        js_driver_die(d, "cannot free the heap or the loop");
    }
    d->ctx = NULL;
    d->loop = NULL;
    struct evl_alloc_stats now;
    evl_alloc_stats(&now);
    if (now.live_blocks != d->baseline.live_blocks) {
        fprintf(stderr, "%s: %lld blocks (%lld bytes) leaked by the last %u inputs\n", d->name,
                (long long)(now.live_blocks - d->baseline.live_blocks),
                (long long)(now.live_bytes - d->baseline.live_bytes), d->rounds);
        abort();
    }
}

static void js_driver_open(struct js_driver *d)
{
    static int tracking;
    if (!tracking) {
        evl_alloc_tracking_enable();
        tracking = 1;
    }
    evl_alloc_stats(&d->baseline);
    struct evl_duk_heap_options ho;
    evl_duk_heap_options_init(&ho);
    ho.max_heap_bytes = JS_DRIVER_HEAP;
    if (evl_loop_new(&d->loop, NULL) != 0 || evl_duk_heap_new(&d->ctx, &ho) != 0 ||
        evl_duk_install(d->ctx, d->loop, EVL_DUK_NODE_GLOBALS | EVL_DUK_WEB) != 0) {
        js_driver_die(d, "runtime set-up");
    }
    duk_context *ctx = d->ctx;
    if (duk_peval_string(ctx, js_driver_prelude) != 0) {
        js_driver_die(d, duk_safe_to_string(ctx, -1));
    }
    duk_pop(ctx);
    if (d->prepare) {
        d->prepare(ctx);
    }
    duk_push_string(ctx, d->source);
    duk_push_string(ctx, d->name);
    if (duk_pcompile(ctx, DUK_COMPILE_EVAL) != 0 || duk_pcall(ctx, 0) != 0) {
        js_driver_die(d, duk_safe_to_string(ctx, -1));
    }
    duk_put_global_string(ctx, "__fuzz_driver");
    d->rounds = 0;
}

/* The last heap is checked for leaks too, when the process ends (libFuzzer's time budget,
 * the end of a replay). */
static struct js_driver *js_driver_current;
static void js_driver_at_exit(void)
{
    if (js_driver_current != NULL) {
        js_driver_close(js_driver_current);
    }
}

/* Runs the driver on one input: __fuzz_driver(new Uint8Array(bytes)). */
static void js_driver_run(struct js_driver *d, const uint8_t *data, size_t size)
{
    if (js_driver_current == NULL) {
        js_driver_current = d;
        atexit(js_driver_at_exit);
    }
    if (d->ctx != NULL && d->rounds >= JS_DRIVER_ROUNDS) {
        js_driver_close(d);
    }
    if (d->ctx == NULL) {
        js_driver_open(d);
    }
    d->rounds++;
    duk_context *ctx = d->ctx;
    if (d->input) {
        d->input(ctx, data, size);
    }
    duk_get_global_string(ctx, "__fuzz_driver");
    void *buf = duk_push_fixed_buffer(ctx, size);
    if (size > 0) {
        memcpy(buf, data, size);
    }
    duk_push_buffer_object(ctx, -1, 0, size, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
    if (duk_pcall(ctx, 1) != 0) {
        const char *msg = NULL;
        if (duk_is_error(ctx, -1)) {
            duk_get_prop_string(ctx, -1, "stack");
            msg = duk_safe_to_string(ctx, -1);
        } else {
            msg = duk_safe_to_string(ctx, -1);
        }
        js_driver_die(d, msg);
    }
    duk_pop(ctx);
    /* Jobs the driver queued (a promise reaction) run now, as after any callback. */
    if (evl_loop_run(d->loop, EVL_RUN_NOWAIT) < 0) {
        js_driver_die(d, "evl_loop_run");
    }
}

#endif

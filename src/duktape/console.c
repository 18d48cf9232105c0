/*
 * console: the formatting (util.inspect-style rendering, printf-style directives) is in
 * js/console.js; the C side only provides the byte sink (native.write in process.c).
 */
#include "duktape/console.h"

#include "duktape/bootstrap.h"
#include "duktape/engine/duk_engine.h"

#include "evl_js_console.h"

/* native.extraKeys(value, all) -> array of non-index keys, or undefined (see duk_engine.h). */
static duk_ret_t native_extra_keys(duk_context *ctx)
{
    return evl__duk_push_extra_keys(ctx, 0, duk_to_boolean(ctx, 1)) ? 1 : 0;
}

/* native.proxyTarget(value) -> the target of a Proxy, or undefined. */
static duk_ret_t native_proxy_target(duk_context *ctx)
{
    return evl__duk_push_proxy_target(ctx, 0) ? 1 : 0;
}

int evl__duk_console_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_global_object(ctx);
    evl__duk_push_natives(d);
    evl__duk_put_native(ctx, "extraKeys", native_extra_keys, 2);
    evl__duk_put_native(ctx, "proxyTarget", native_proxy_target, 1);
    evl__duk_push_ref(d, d->internals_ref);
    duk_push_boolean(ctx, !(d->flags & EVL_DUK_NO_CONSOLE));
    evl__duk_run_bootstrap(ctx, evl_js_console, evl_js_console_len, 4);
    return 0;
}

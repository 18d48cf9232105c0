/*
 * console: the formatting (util.inspect-style rendering, printf-style directives) is in
 * js/console.js; the C side only provides the byte sink (native.write in process.c).
 */
#include "duktape/console.h"

#include "duktape/bootstrap.h"

#include "evl_js_console.h"

int evl__duk_console_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_global_object(ctx);
    evl__duk_push_natives(d);
    evl__duk_push_ref(d, d->internals_ref);
    duk_push_boolean(ctx, !(d->flags & EVL_DUK_NO_CONSOLE));
    evl__duk_run_bootstrap(ctx, evl_js_console, evl_js_console_len, 4);
    return 0;
}

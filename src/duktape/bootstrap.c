/* Loading the bytecode bootstraps and the internals/native objects (bootstrap.h). */
#include "duktape/bootstrap.h"

int evl__duk_internals_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_object(ctx); /* internals */
    d->internals_ref = evl__duk_ref(d, -1);
    if (!d->internals_ref) {
        duk_pop(ctx);
        return EVL_ENOMEM;
    }
    duk_push_object(ctx);
    duk_put_prop_string(ctx, -2, "native");
    duk_pop(ctx);
    return 0;
}

void evl__duk_push_natives(struct evl_duk *d)
{
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(d->ctx, -1, "native");
    duk_remove(d->ctx, -2);
}

void evl__duk_push_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len)
{
    /* The bytecode is read in place (an external buffer), never copied: duk_load_function
     * replaces the buffer with the function it describes. */
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *)(uintptr_t)bytecode, len);
    duk_load_function(ctx);
}

void evl__duk_run_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len,
                            duk_idx_t nargs)
{
    evl__duk_push_bootstrap(ctx, bytecode, len);
    duk_insert(ctx, -1 - nargs);
    duk_call(ctx, nargs);
    duk_pop(ctx);
}

void evl__duk_run_feature_bootstrap(struct evl_duk *d, const unsigned char *bytecode, size_t len)
{
    duk_push_global_object(d->ctx);
    evl__duk_push_natives(d);
    evl__duk_push_ref(d, d->internals_ref);
    evl__duk_run_bootstrap(d->ctx, bytecode, len, 3);
}

/* evljs: run a JavaScript file or expression on an evl loop inside Duktape. */
#include "evl_duktape.h"

#include <stdio.h>
#include <string.h>

static duk_ret_t print_fn(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    for (duk_idx_t i = 0; i < n; i++) {
        fputs(duk_safe_to_string(ctx, i), stdout);
        fputc(i + 1 < n ? ' ' : '\n', stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-e") != 0) {
        fprintf(stderr, "usage: evljs -e CODE\n");
        return 2;
    }
    duk_context *ctx = NULL;
    if (evl_duk_heap_new(&ctx, NULL) != 0) {
        fprintf(stderr, "evljs: cannot create a JavaScript heap\n");
        return 1;
    }
    duk_push_c_function(ctx, print_fn, DUK_VARARGS);
    duk_put_global_string(ctx, "print");
    int status = 0;
    if (duk_peval_string(ctx, argv[2]) != 0) {
        fprintf(stderr, "Uncaught %s\n", duk_safe_to_string(ctx, -1));
        status = 1;
    }
    duk_pop(ctx);
    evl_duk_heap_free(ctx);
    return status;
}

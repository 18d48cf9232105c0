/*
 * The smallest Duktape host against an installed evl: a loop, a heap bound to it, a script
 * with a timer, a promise reaction and a runaway callback. The runaway callback is stopped by
 * the execution limit, which works only when the adapter is linked with a Duktape built with
 * the interrupt options (docs/duktape.md); with any other Duktape this program never ends.
 * Prints "duk consumer: then,timeout,spin".
 */
#include <evl_duktape.h>

#include <stdio.h>

static const char script[] = "var out = [];\n"
                             "setTimeout(function () { out.push('timeout'); }, 1);\n"
                             "Promise.resolve('then').then(function (v) { out.push(v); });\n"
                             "setTimeout(function () { out.push('spin'); for (;;) {} }, 5);\n";

/* Prints the global array out, read through the value stack so that nothing runs in the
 * heap after the run (an uncaught error may have ended it). */
static void print_out(duk_context *ctx)
{
    duk_get_global_string(ctx, "out");
    duk_size_t n = duk_get_length(ctx, -1);
    printf("duk consumer: ");
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, -1, (duk_uarridx_t)i);
        printf("%s%s", i ? "," : "", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
    }
    printf("\n");
    duk_pop(ctx);
}

int main(void)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    int rc = 1;
    if (evl_loop_new(&loop, NULL) != 0) {
        return 1;
    }
    if (evl_duk_heap_new(&ctx, NULL) != 0) {
        goto free_loop;
    }
    if (evl_duk_install(ctx, loop, 0) != 0 || evl_duk_set_exec_limit(ctx, 50) != 0) {
        goto free_heap;
    }
    if (duk_peval_string(ctx, script) != 0) {
        fprintf(stderr, "script: %s\n", duk_safe_to_string(ctx, -1));
        goto free_heap;
    }
    duk_pop(ctx);
    /* The main script ran outside any loop callback: run its checkpoint, then the loop. */
    if (evl_loop_checkpoint(loop) != 0 || evl_loop_run(loop, EVL_RUN_DEFAULT) != 0) {
        goto free_heap;
    }
    print_out(ctx);
    rc = 0;
free_heap:
    evl_duk_heap_free(ctx);
free_loop:
    evl_loop_free(loop);
    return rc;
}

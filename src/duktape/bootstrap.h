/*
 * The JS halves of the adapter (the js folder, compiled to bytecode at build time) and the two
 * objects they share with C (bootstrap.c): `internals`, what the bootstraps export to C
 * (emit, the process object, ...), and `internals.native`, the natives every feature adds
 * to before the bootstraps run. Bottom floor. Loop thread only.
 */
#ifndef EVL_DUK_BOOTSTRAP_H
#define EVL_DUK_BOOTSTRAP_H

#include "duktape/registry.h"

/* Creates internals and internals.native (held by d->internals_ref). Returns 0 or
 * EVL_ENOMEM; may throw (out of memory). Value stack unchanged. */
int evl__duk_internals_install(struct evl_duk *d);

/* Pushes internals.native, the object of natives handed to the bootstraps (+1). */
void evl__duk_push_natives(struct evl_duk *d);

/* Pushes the bootstrap function that build-time bytecode describes (+1; the bytecode is
 * borrowed for the call only: loading copies it into the heap). Throws on bad bytecode. */
void evl__duk_push_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len);

/* Loads a bootstrap function from its build-time bytecode (src/duktape/gen/js_bytecode.c: the
 * function a js/NAME.js script evaluates to) and calls it with the nargs values on top:
 * [... args] -> [...]. The bytecode is borrowed and must outlive the call. Throws on error. */
void evl__duk_run_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len,
                            duk_idx_t nargs);

/* evl__duk_run_bootstrap with the arguments most features take: (global, internals.native,
 * internals). Throws on error. */
void evl__duk_run_feature_bootstrap(struct evl_duk *d, const unsigned char *bytecode, size_t len);

#endif

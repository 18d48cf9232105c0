/* Sandbox limits (limits.c): the errors they raise and their teardown. Middle floor. */
#ifndef EVL_DUK_LIMITS_H
#define EVL_DUK_LIMITS_H

#include "duktape/binding.h"

/* Throws a RangeError with .code (does not return). */
void evl__duk_throw_limit(duk_context *ctx, const char *code, const char *msg);
void evl__duk_limits_release(struct evl_duk *d);

#endif

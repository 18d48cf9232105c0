/*
 * JS errors made from evl error codes. Every place where the adapter turns a C failure into a
 * JS Error goes through here, so scripts see one shape, Node's:
 *
 *   evl code     err.code = 'EVL_ECLOSED' (the evl name; Node has no such errors)
 *   system code  err.errno = -111, err.code = 'ECONNREFUSED', err.syscall = 'connect' when
 *                the failing call is known: what Node's system errors carry (errno negative,
 *                as libuv numbers it), set in Node's property order.
 *
 * Loop thread only, like the rest of the adapter.
 */
#include "duktape/error.h"

#include <string.h>

void evl__duk_error_shape(duk_context *ctx, duk_idx_t idx, int code, const char *syscall)
{
    idx = duk_normalize_index(ctx, idx);
    if (evl_err_is_sys(code)) {
        duk_push_int(ctx, -evl_err_errno(code));
        duk_put_prop_literal(ctx, idx, "errno");
    }
    duk_push_string(ctx, evl_err_name(code));
    duk_put_prop_literal(ctx, idx, "code");
    if (evl_err_is_sys(code) && syscall && syscall[0] != '\0') {
        duk_push_string(ctx, syscall);
        duk_put_prop_literal(ctx, idx, "syscall");
    }
}

void evl__duk_push_error_code(duk_context *ctx, int code, const char *syscall, const char *msg)
{
    if (code == EVL_ENOMEM) {
        /* As the engine reports its own allocation failures. */
        duk_push_error_object(ctx, DUK_ERR_RANGE_ERROR, "%s", msg ? msg : "out of memory");
    } else if (code == EVL_ETYPE) {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", msg ? msg : evl_strerror(code));
    } else {
        duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg ? msg : evl_strerror(code));
    }
    evl__duk_error_shape(ctx, -1, code, syscall);
}

size_t evl__duk_sys_message(int code, char *buf, size_t size)
{
    const char *m = evl_strerror(code);
    size_t n = strlen(m);
    if (evl_err_is_sys(code)) {
        /* evl_strerror ends a system message with " (NAME)"; Node puts the name first. */
        const char *name = evl_err_name(code);
        size_t k = strlen(name) + 3;
        if (n > k && m[n - k] == ' ' && m[n - k + 1] == '(' &&
            strncmp(m + n - k + 2, name, k - 3) == 0) {
            n -= k;
        }
    }
    if (size == 0) {
        return n;
    }
    size_t c = n < size - 1 ? n : size - 1;
    memcpy(buf, m, c);
    buf[c] = '\0';
    return n;
}

/*
 * JS errors in Node's shape from evl error codes (error.c). A leaf: it needs no binding.
 * Loop thread only.
 */
#ifndef EVL_DUK_ERROR_H
#define EVL_DUK_ERROR_H

#include "evl_duktape.h"

/*
 * Gives the error object at idx Node's shape for code (value stack unchanged): for a system
 * code (errno.h) errno = -errno, code = the errno name ('ECONNREFUSED') and, if syscall is not
 * NULL or "", syscall; for an evl code, code = its EVL_E* name.
 */
void evl__duk_error_shape(duk_context *ctx, duk_idx_t idx, int code, const char *syscall);

/* Pushes a new error for code (+1): RangeError for EVL_ENOMEM, TypeError for EVL_ETYPE, else
 * Error; message msg, or the code's message when msg is NULL; shaped as above. */
void evl__duk_push_error_code(duk_context *ctx, int code, const char *syscall, const char *msg);

/* Copies code's message into buf (size bytes, NUL-terminated, cut to fit) without the
 * " (NAME)" that evl_strerror appends to a system message, as Node writes it after the name
 * ("ENOENT: no such file or directory, open 'x'"). Returns the full length. */
size_t evl__duk_sys_message(int code, char *buf, size_t size);

#endif

/*
 * Error codes. Every fallible evl function returns 0 on success or one of these negative
 * codes. The list below is the single source of truth: the enum, evl_strerror() and
 * evl_err_name() are all generated from it, so a code can never lack a message.
 */
#ifndef EVL_ERRNO_H
#define EVL_ERRNO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define EVL_ERRNO_MAP(X)                                          \
    X(EINVAL, -1, "invalid argument")                             \
    X(ENOMEM, -2, "out of memory")                                \
    X(ECLOSED, -3, "loop is closed or closing")                   \
    X(EBUSY, -4, "resource busy: live work or running loop")      \
    X(ENOENT, -5, "no such id or entry")                          \
    X(ERANGE, -6, "value out of range")                           \
    X(EEXIST, -7, "already registered")                           \
    X(EBADF, -8, "bad file descriptor")                           \
    X(ETIMEDOUT, -9, "timed out")                                 \
    X(ECANCELED, -10, "operation canceled")                       \
    X(EAGAIN, -11, "resource temporarily unavailable: try again") \
    X(EPERM, -12, "not permitted from this thread")               \
    X(ERECURSE, -13, "not permitted from inside a callback")      \
    X(EALREADY, -14, "already running or already done")           \
    X(EIO, -15, "system call failed")                             \
    X(ENOSYS, -16, "not supported on this platform or build")     \
    X(ETYPE, -17, "type error")                                   \
    X(EAGGREGATE, -18, "all promises were rejected")              \
    X(ELIMIT, -19, "limit exceeded")                              \
    X(EOVERFLOW, -20, "queue or counter overflow")                \
    X(EEXCEPTION, -21, "uncaught exception in a callback")

enum evl_errno {
#define EVL__ERRNO_ENUM(name, value, msg) EVL_##name = (value),
    EVL_ERRNO_MAP(EVL__ERRNO_ENUM)
#undef EVL__ERRNO_ENUM
};

/* A human-readable message for an evl error code; "unknown error" for anything else.
 * The returned string is static. Thread-safe. */
EVL_API const char *evl_strerror(int err);

/* The symbolic name of an error code ("EVL_EINVAL"), or "EVL_UNKNOWN". Thread-safe. */
EVL_API const char *evl_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif

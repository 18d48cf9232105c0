/*
 * Error codes. Every fallible evl function returns 0 on success or a negative code of one of
 * two kinds:
 *
 *   evl codes     EVL_EINVAL ... EVL_EEXCEPTION: the list below is their single source of
 *                 truth; the enum, evl_strerror() and evl_err_name() are all generated from
 *                 it, so a code can never lack a message.
 *   system codes  a failing system call's errno, kept: EVL_ESYS(errno), that is
 *                 EVL_ESYS_BASE - errno (ECONNREFUSED, 111 on Linux, is -1111). Test with
 *                 evl_err_is_sys(), recover the errno with evl_err_errno(), make one with
 *                 evl_err_from_errno() or, for a constant, EVL_ESYS(ECONNREFUSED).
 *
 * Why an offset family and not libuv's plain -errno: the evl codes -1..-21 predate it and
 * overlap errno numbers (-1 is EVL_EINVAL here, -EPERM there), several have no errno
 * equivalent (EVL_ECLOSED, EVL_ERECURSE, EVL_EAGGREGATE), and renumbering them would break
 * every caller compiled against them. An offset keeps the one-int convention intact: a
 * system code travels unchanged wherever an evl code does (return values, evl_error codes,
 * pool work results, promise rejections, across threads), which a separate errno
 * out-parameter or thread-local would not. The offset is in decimal so a printed code can be
 * read back (-1111 is errno 111); the evl codes stay above EVL_ESYS_BASE by construction.
 * Errno numbers differ between platforms, so compare against EVL_ESYS(ENAME), never against
 * a literal.
 *
 * Which functions return system codes: those whose documented errors say "a system code";
 * today evl_loop_new (the wake-up channel), evl_fd_start/_start_timeout/_modify (the I/O
 * backend: e.g. EVL_ESYS(EPERM) for a regular file under epoll) and evl_pool_new (thread
 * creation); a failing wait inside evl_loop_run is logged with its system message. Pool
 * work functions may return system codes of their own, and an evl_error may carry one
 * together with the name of the failing call (evl_error_new_sys). System errors that evl can
 * name precisely keep their evl code instead: EVL_EBADF (fd not open), EVL_ENOENT,
 * EVL_EEXIST, EVL_ENOMEM and EVL_ELIMIT (epoll's max_user_watches). EVL_EIO remains the code
 * for a failure with no errno to keep (evl_err_from_errno of 0 or of a value out of range).
 * docs/errors.md lists every code and the JS shape of system errors.
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

/* System codes: EVL_ESYS(e) for errno e in 1..EVL_ESYS_ERRNO_MAX lies in
 * [EVL_ESYS_BASE - EVL_ESYS_ERRNO_MAX, EVL_ESYS_BASE - 1]. A constant expression, usable in
 * case labels; e must be in range (evl_err_from_errno checks it). */
#define EVL_ESYS_BASE      (-1000)
#define EVL_ESYS_ERRNO_MAX 4095
#define EVL_ESYS(e)        (EVL_ESYS_BASE - (e))

/* The code for errno value e (as read from errno, or returned by pthread_* functions):
 * EVL_ESYS(e) for e in 1..EVL_ESYS_ERRNO_MAX, EVL_EIO for anything else (0 means the caller
 * lost the errno; a negative value is not an errno). Thread-safe. */
EVL_API int evl_err_from_errno(int e);

/* 1 if code is a system code (made by EVL_ESYS/evl_err_from_errno), else 0. Thread-safe. */
EVL_API int evl_err_is_sys(int code);

/* The errno value a system code carries, or 0 for any other code. Thread-safe. */
EVL_API int evl_err_errno(int code);

/* A human-readable message: the table's message for an evl code; for a system code the
 * operating system's message (C locale, first letter lowercased as evl's own messages are)
 * followed by the errno name, as "connection refused (ECONNREFUSED)"; "success" for 0;
 * "unknown error" for anything else. The returned string is static. Thread-safe. */
EVL_API const char *evl_strerror(int err);

/* The symbolic name of an error code: "EVL_EINVAL" for an evl code, the errno name
 * ("ECONNREFUSED", as Node.js reports it in err.code) for a system code, "EVL_OK" for 0,
 * "EVL_UNKNOWN" for anything else. A system code whose errno this platform does not name
 * gets "ESYS<n>" (n its errno) below 256, "ESYS" above (no platform numbers errors that
 * high). The returned string is static. Thread-safe. */
EVL_API const char *evl_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif

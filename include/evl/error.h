/*
 * Structured errors: the rejection reason libevl itself produces (type errors, cancellation,
 * aggregate errors), and a type applications may use for their own reasons. An error has a
 * code, a message, an optional cause (a chain that can be walked), an optional correlation
 * id and an optional captured context. Errors are plain heap objects with one owner; as a
 * promise value their destructor is evl_error_dtor.
 */
#ifndef EVL_ERROR_H
#define EVL_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evl_error;
struct evl_values;

/*
 * A destructor for a value, a reason or a callback argument handed to libevl. It is called
 * exactly once, on the loop thread (or on the thread that tears the loop down), with the
 * loop the object belongs to. loop may be NULL for objects destroyed without a loop.
 */
typedef void (*evl_dtor_cb)(struct evl_loop *loop, void *ptr);

/*
 * Creates an error (+1, freed with evl_error_free or, as a promise value, by evl_error_dtor).
 * code is any nonzero int, usually an EVL_E* code; fmt is printf-style and may be NULL (the
 * message is then evl_strerror(code)). Thread-safe.
 * Errors: EVL_EINVAL (NULL out or code 0), EVL_ENOMEM.
 */
EVL_API int evl_error_new(struct evl_error **out, int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The longest syscall name an error keeps, terminating NUL included (longer ones are cut). */
#define EVL_ERROR_SYSCALL_MAX 32

/*
 * Creates an error for a failed system call (+1, as evl_error_new): its code is
 * evl_err_from_errno(errnum) (a system code, see errno.h; EVL_EIO if errnum is not a valid
 * errno), syscall (may be NULL) names the call that failed ("connect", "open"; copied, cut at
 * EVL_ERROR_SYSCALL_MAX - 1 bytes) and is what evl_error_syscall returns and what the Duktape
 * adapter exposes as err.syscall. fmt may be NULL: the message is then
 * "<syscall>: <evl_strerror(code)>", e.g. "connect: connection refused (ECONNREFUSED)".
 * Pass errno itself, read right after the failing call. Thread-safe.
 * Errors: EVL_EINVAL (NULL out), EVL_ENOMEM.
 */
EVL_API int evl_error_new_sys(struct evl_error **out, int errnum, const char *syscall,
                              const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Frees an error, its cause chain, its context (through its destructor) and its aggregated
 * reasons. NULL is a no-op. Thread-safe (on an error no other thread uses). */
EVL_API void evl_error_free(struct evl_error *err);

/* evl_error_free in the evl_dtor_cb shape: the destructor to pass with an evl_error value. */
EVL_API void evl_error_dtor(struct evl_loop *loop, void *err);

/* Accessors; the error is borrowed and so is every result. Thread-safe on an error no thread
 * mutates. */
EVL_API int evl_error_code(const struct evl_error *err);
EVL_API const char *evl_error_message(const struct evl_error *err);
EVL_API const struct evl_error *evl_error_cause(const struct evl_error *err);
EVL_API void *evl_error_context(const struct evl_error *err);

/* The correlation id (UUIDv7, include/evl/context.h) current on the thread that made err,
 * when one was: copied into id (may be NULL) and 1 returned; 0 when the error carries none.
 * An error made by libevl or the application inside a callback that runs with an id (a task
 * submitted with one, a timer or promise reaction it caused) carries it. Thread-safe on an
 * error no thread mutates. */
EVL_API int evl_error_correlation(const struct evl_error *err, unsigned char id[16]);

/* Sets (id NULL: clears) the correlation id err carries. Thread-safe on an error no other
 * thread uses. Errors: EVL_EINVAL (NULL err). */
EVL_API int evl_error_set_correlation(struct evl_error *err, const unsigned char id[16]);

/* The name of the system call that failed ("connect"), or NULL when not known. Borrowed,
 * valid while err lives. Thread-safe on an error no thread mutates. */
EVL_API const char *evl_error_syscall(const struct evl_error *err);

/* Sets (or, with NULL or "", clears) the failed call's name; copied, cut at
 * EVL_ERROR_SYSCALL_MAX - 1 bytes. Works on any error, e.g. one whose code came back from an
 * evl function as a system code. Thread-safe on an error no other thread uses.
 * Errors: EVL_EINVAL (NULL err). */
EVL_API int evl_error_set_syscall(struct evl_error *err, const char *syscall);

/* For an EVL_EAGGREGATE error (from evl_promise_any): the reasons in input order, borrowed;
 * NULL for other errors. Walk them with evl_values_count/evl_values_get (promise.h). */
EVL_API const struct evl_values *evl_error_errors(const struct evl_error *err);

/* Sets the cause; err takes ownership of cause (a previous cause is freed). Thread-safe on an
 * error no other thread uses. Errors: EVL_EINVAL (NULL err, or err in cause's own chain: a
 * cycle; cause then stays the caller's). */
EVL_API int evl_error_set_cause(struct evl_error *err, struct evl_error *cause);

/* Attaches captured context (ownership moves to err; dtor runs with a NULL loop when err is
 * freed; a previous context is destroyed). Thread-safe on an error no other thread uses. */
EVL_API void evl_error_set_context(struct evl_error *err, void *context, evl_dtor_cb dtor);

/* Structured unwrapping: the first error in the chain err, cause, cause's cause, ... whose
 * code is code, or NULL. Borrowed. Thread-safe. */
EVL_API const struct evl_error *evl_error_find(const struct evl_error *err, int code);

/* The innermost error of the cause chain (err itself if it has no cause). Borrowed. */
EVL_API const struct evl_error *evl_error_root(const struct evl_error *err);

#ifdef __cplusplus
}
#endif

#endif

/*
 * struct evl_error: codes, messages, cause chains, context, and the list of an aggregate
 * error (a struct evl_values that the promise module builds and this module only owns).
 */
#include "core/error/error.h"

#include "evl/alloc.h"
#include "evl/errno.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct evl_error {
    int code;
    char *message;
    struct evl_error *cause;
    int has_correlation;
    unsigned char correlation[16]; /* the UUIDv7 current when the error was made */
    void *context;
    evl_dtor_cb context_dtor;
    struct evl_values *errors;
    evl_dtor_cb errors_dtor;
    char syscall[EVL_ERROR_SYSCALL_MAX]; /* "" when unknown */
};

/* The calling thread's current correlation id (evl__error_set_ambient). Thread-local so the
 * loop thread's id never reaches errors made by other threads. */
static _Thread_local int ambient_set __attribute__((tls_model("initial-exec")));
static _Thread_local unsigned char ambient_id[16] __attribute__((tls_model("initial-exec")));

void evl__error_set_ambient(const unsigned char *id)
{
    ambient_set = id != NULL;
    if (id != NULL) {
        memcpy(ambient_id, id, sizeof(ambient_id));
    }
}

/* Returned when even the error cannot be allocated: a static object with no destructor. */
static struct evl_error nomem_error = {.code = EVL_ENOMEM};

/* The attribute lets the compiler check every caller's format string against its arguments. */
static char *copy_string(const char *s)
{
    size_t n = strlen(s);
    char *c = evl_malloc(n + 1);
    if (c) {
        memcpy(c, s, n + 1);
    }
    return c;
}

/* evl_error_new's body; ap is consumed only when fmt is not NULL. */
static int error_vnew(struct evl_error **out, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int error_vnew(struct evl_error **out, int code, const char *fmt, va_list ap)
{
    if (!out || code == 0) {
        return EVL_EINVAL;
    }
    struct evl_error *err = evl_calloc(1, sizeof(*err));
    if (!err) {
        return EVL_ENOMEM;
    }
    err->code = code;
    if (ambient_set) {
        err->has_correlation = 1;
        memcpy(err->correlation, ambient_id, sizeof(err->correlation));
    }
    if (fmt) {
        /* Measure, then format into a buffer of exactly that size. (The NOLINTs:
         * clang-analyzer reports a false "uninitialized va_list" on the x86-64 va_list array
         * type.) */
        va_list measure;
        va_copy(measure, ap);
        // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
        int n = vsnprintf(NULL, 0, fmt, measure);
        va_end(measure);
        if (n >= 0) {
            err->message = evl_malloc((size_t)n + 1);
            if (err->message) {
                // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
                vsnprintf(err->message, (size_t)n + 1, fmt, ap);
            }
        }
    } else {
        err->message = copy_string(evl_strerror(code));
    }
    if (!err->message) {
        evl_free(err);
        return EVL_ENOMEM;
    }
    *out = err;
    return 0;
}

int evl_error_new(struct evl_error **out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = error_vnew(out, code, fmt, ap);
    va_end(ap);
    return rc;
}

static void set_syscall(struct evl_error *err, const char *syscall)
{
    size_t n = syscall ? strlen(syscall) : 0;
    if (n >= sizeof(err->syscall)) {
        n = sizeof(err->syscall) - 1;
    }
    if (n > 0) {
        memcpy(err->syscall, syscall, n);
    }
    err->syscall[n] = '\0';
}

int evl_error_new_sys(struct evl_error **out, int errnum, const char *syscall, const char *fmt, ...)
{
    int code = evl_err_from_errno(errnum);
    int rc;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        rc = error_vnew(out, code, fmt, ap);
        va_end(ap);
    } else if (syscall && syscall[0] != '\0') {
        rc = evl_error_new(out, code, "%s: %s", syscall, evl_strerror(code));
    } else {
        rc = evl_error_new(out, code, NULL);
    }
    if (rc == 0) {
        set_syscall(*out, syscall);
    }
    return rc;
}

void evl_error_free(struct evl_error *err)
{
    /* The cause chain is freed iteratively: a long chain must not recurse deeply. */
    while (err && err != &nomem_error) {
        struct evl_error *cause = err->cause;
        if (err->context_dtor) {
            err->context_dtor(NULL, err->context);
        }
        if (err->errors) {
            err->errors_dtor(NULL, err->errors);
        }
        evl_free(err->message);
        evl_free(err);
        err = cause;
    }
}

void evl_error_dtor(struct evl_loop *loop, void *err)
{
    (void)loop;
    evl_error_free(err);
}

int evl_error_code(const struct evl_error *err)
{
    return err ? err->code : 0;
}

const char *evl_error_message(const struct evl_error *err)
{
    if (!err) {
        return NULL;
    }
    return err->message ? err->message : evl_strerror(err->code);
}

const char *evl_error_syscall(const struct evl_error *err)
{
    return err && err->syscall[0] != '\0' ? err->syscall : NULL;
}

int evl_error_set_syscall(struct evl_error *err, const char *syscall)
{
    if (!err || err == &nomem_error) {
        return EVL_EINVAL;
    }
    set_syscall(err, syscall);
    return 0;
}

const struct evl_error *evl_error_cause(const struct evl_error *err)
{
    return err ? err->cause : NULL;
}

int evl_error_correlation(const struct evl_error *err, unsigned char id[16])
{
    if (!err || !err->has_correlation) {
        return 0;
    }
    if (id) {
        memcpy(id, err->correlation, sizeof(err->correlation));
    }
    return 1;
}

int evl_error_set_correlation(struct evl_error *err, const unsigned char id[16])
{
    if (!err || err == &nomem_error) {
        return EVL_EINVAL;
    }
    err->has_correlation = id != NULL;
    if (id) {
        memcpy(err->correlation, id, sizeof(err->correlation));
    }
    return 0;
}

void *evl_error_context(const struct evl_error *err)
{
    return err ? err->context : NULL;
}

const struct evl_values *evl_error_errors(const struct evl_error *err)
{
    return err ? err->errors : NULL;
}

int evl_error_set_cause(struct evl_error *err, struct evl_error *cause)
{
    if (!err || err == &nomem_error) {
        return EVL_EINVAL;
    }
    /* A chain that leads back to err would be a cycle: walking it (find, root, free) would
     * never end. */
    for (const struct evl_error *c = cause; c; c = c->cause) {
        if (c == err) {
            return EVL_EINVAL;
        }
    }
    evl_error_free(err->cause);
    err->cause = cause;
    return 0;
}

void evl_error_set_context(struct evl_error *err, void *context, evl_dtor_cb dtor)
{
    if (!err || err == &nomem_error) {
        return;
    }
    if (err->context_dtor) {
        err->context_dtor(NULL, err->context);
    }
    err->context = context;
    err->context_dtor = dtor;
}

const struct evl_error *evl_error_find(const struct evl_error *err, int code)
{
    for (; err; err = err->cause) {
        if (err->code == code) {
            return err;
        }
    }
    return NULL;
}

const struct evl_error *evl_error_root(const struct evl_error *err)
{
    while (err && err->cause) {
        err = err->cause;
    }
    return err;
}

/* ---- Internal helpers ------------------------------------------------------------------- */

int evl__error_is(const void *value, evl_dtor_cb dtor)
{
    return value && (dtor == evl_error_dtor || value == &nomem_error);
}

struct evl_error *evl__error_make(int code, const char *msg, evl_dtor_cb *dtor)
{
    struct evl_error *err = NULL;
    int rc = msg ? evl_error_new(&err, code, "%s", msg) : evl_error_new(&err, code, NULL);
    if (rc != 0) {
        *dtor = NULL;
        return &nomem_error;
    }
    *dtor = evl_error_dtor;
    return err;
}

void evl__error_set_errors(struct evl_error *err, struct evl_values *list, evl_dtor_cb dtor)
{
    assert(err != &nomem_error && !err->errors);
    err->errors = list;
    err->errors_dtor = dtor;
}

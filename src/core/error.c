/*
 * struct evl_error (codes, messages, cause chains, context) and struct evl_values (the
 * record lists of all, allSettled and aggregate errors).
 */
#include "core/promise_internal.h"

#include "evl/alloc.h"
#include "evl/errno.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct evl_error {
    int code;
    char *message;
    struct evl_error *cause;
    uint64_t correlation_id;
    void *context;
    evl_dtor_cb context_dtor;
    struct evl_values *errors;
    char syscall[EVL_ERROR_SYSCALL_MAX]; /* "" when unknown */
};

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
    if (fmt) {
        /* Measure, then format into a buffer of exactly that size. clang-analyzer 14
         * misreads the x86-64 va_list array type. */
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
            evl__values_free(err->errors);
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

uint64_t evl_error_correlation_id(const struct evl_error *err)
{
    return err ? err->correlation_id : 0;
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

void evl_error_set_correlation_id(struct evl_error *err, uint64_t id)
{
    if (err && err != &nomem_error) {
        err->correlation_id = id;
    }
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

struct evl__val evl__error_val(int code, const char *msg)
{
    struct evl_error *err = NULL;
    struct evl__val v = {&nomem_error, NULL, NULL};
    int rc = msg ? evl_error_new(&err, code, "%s", msg) : evl_error_new(&err, code, NULL);
    if (rc == 0) {
        v.ptr = err;
        v.dtor = evl_error_dtor;
    }
    return v;
}

struct evl__val evl__error_aggregate(struct evl_values *list)
{
    struct evl_error *err = NULL;
    struct evl__val v = {&nomem_error, NULL, NULL};
    if (evl_error_new(&err, EVL_EAGGREGATE, "All promises were rejected") != 0) {
        evl__values_free(list);
        return v;
    }
    err->errors = list;
    v.ptr = err;
    v.dtor = evl_error_dtor;
    return v;
}

/* ---- Value lists ----------------------------------------------------------------------- */

struct evl_values *evl__values_new(size_t n)
{
    struct evl_values *v = evl_malloc(sizeof(*v) + (n ? n : 1) * sizeof(v->items[0]));
    if (v) {
        v->n = n;
        memset(v->items, 0, (n ? n : 1) * sizeof(v->items[0]));
    }
    return v;
}

void evl__values_set(struct evl_values *v, size_t i, struct evl_promise *settled)
{
    struct evl__val sv = evl__promise_share(settled);
    v->items[i].value = sv.ptr;
    v->items[i].owner = sv.owner;
    v->items[i].status = (uint8_t)evl_promise_state(settled);
}

void evl__values_free(struct evl_values *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i].owner) {
            evl__promise_release(v->items[i].owner);
        }
    }
    evl_free(v);
}

void evl__values_dtor(struct evl_loop *loop, void *v)
{
    (void)loop;
    evl__values_free(v);
}

size_t evl_values_count(const struct evl_values *v)
{
    return v ? v->n : 0;
}

void *evl_values_get(const struct evl_values *v, size_t i)
{
    return (v && i < v->n) ? v->items[i].value : NULL;
}

enum evl_promise_state evl_values_status(const struct evl_values *v, size_t i)
{
    return (v && i < v->n) ? (enum evl_promise_state)v->items[i].status : EVL_PROMISE_PENDING;
}

const struct evl_error *evl_values_error(const struct evl_values *v, size_t i)
{
    if (!v || i >= v->n || !v->items[i].owner) {
        return NULL;
    }
    const struct evl_promise *owner = v->items[i].owner;
    if (evl__error_is(owner->value, owner->u.dtor)) {
        return owner->value;
    }
    return NULL;
}

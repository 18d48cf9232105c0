/*
 * Promises that C settles from any thread (evl_duk_push_new_promise). Built only on public
 * interfaces: a C promise settled through the thread-safe evl_resolver carries a box (the
 * C value and how to make its JS value); one C reaction, on the loop thread, makes the JS
 * value and settles the promise JS holds (the reaction's derived promise). The reaction's
 * argument is a token in the binding's list, so a settlement that arrives after the heap
 * was uninstalled or destroyed only destroys the C value.
 */
#include "duktape/settle.h"

#include "duktape/process.h"

#include "evl/errno.h"

#include <string.h>

struct evl_duk_resolver {
    struct evl_resolver *r;
};

/* The reaction's argument: alive until the reaction ran or was dropped. */
struct evl_duk_settle_token {
    struct evl_duk_settle_token *prev;
    struct evl_duk_settle_token *next;
    struct evl_duk *d; /* NULL once the binding is gone */
};

struct box {
    evl_duk_push_cb push;
    void *value;
    evl_dtor_cb dtor;
};

static void box_free(struct evl_loop *loop, void *arg)
{
    struct box *b = arg;
    if (b->dtor) {
        b->dtor(loop, b->value);
    }
    evl_free(b);
}

static void token_free(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct evl_duk_settle_token *t = arg;
    if (t->d) {
        if (t->prev) {
            t->prev->next = t->next;
        } else {
            t->d->settle_tokens = t->next;
        }
        if (t->next) {
            t->next->prev = t->prev;
        }
    }
    evl_free(t);
}

void evl__duk_settle_release(struct evl_duk *d)
{
    for (struct evl_duk_settle_token *t = d->settle_tokens; t; t = t->next) {
        t->d = NULL;
    }
    d->settle_tokens = NULL;
}

struct convert_args {
    struct box *b;
    void *value;
    evl_dtor_cb dtor;
    int rc;
};

/* [] -> [js value] made by the box's push. */
static duk_ret_t convert_body(duk_context *ctx, void *udata)
{
    struct convert_args *a = udata;
    duk_idx_t top = duk_get_top(ctx);
    int rc = a->b->push(ctx, a->b->value);
    if (rc != 0 || duk_get_top(ctx) != top + 1) {
        duk_set_top(ctx, top);
        return duk_error(ctx, DUK_ERR_ERROR, "evl_duk: a push callback failed: %s",
                         evl_strerror(rc != 0 ? rc : EVL_EINVAL));
    }
    a->rc = evl_duk_value_new(ctx, -1, &a->value, &a->dtor);
    return 1;
}

/* Both handlers: the JS value (or the error making it threw) settles the derived promise. */
static void settle(struct evl_loop *loop, void *value, void *arg, struct evl_result *result,
                   int reject)
{
    struct evl_duk_settle_token *t = arg;
    if (!t->d || evl__duk_terminated(t->d)) {
        return; /* the box is destroyed with the promise's value */
    }
    struct box *b = value;
    if (!b->push) {
        /* The C value itself settles the JS promise: the adapter maps it when JS reads it
         * (an evl_error becomes an Error, NULL undefined). It moves out of the box. */
        int rc = reject ? evl_result_reject(result, b->value, b->dtor)
                        : evl_result_resolve(result, b->value, b->dtor);
        if (rc == 0) {
            b->dtor = NULL;
        }
        return;
    }
    duk_context *ctx = t->d->ctx;
    struct convert_args a = {b, NULL, NULL, 0};
    int threw = duk_safe_call(ctx, convert_body, &a, 0, 1) != DUK_EXEC_SUCCESS;
    if (threw) {
        a.rc = evl_duk_value_new(ctx, -1, &a.value, &a.dtor);
        reject = 1;
    }
    duk_pop(ctx);
    if (a.rc != 0) {
        /* The JS value could not be kept (out of memory): a failure, never a success. */
        struct evl_error *err = NULL;
        if (evl_error_new(&err, a.rc, "evl_duk: cannot keep the settlement value") == 0 &&
            evl_result_reject(result, err, evl_error_dtor) != 0) {
            evl_error_free(err);
        }
        return;
    }
    int rc = reject ? evl_result_reject(result, a.value, a.dtor)
                    : evl_result_resolve(result, a.value, a.dtor);
    if (rc != 0 && a.dtor) {
        a.dtor(loop, a.value);
    }
}

static void on_fulfilled(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    settle(loop, value, arg, result, 0);
}

static void on_rejected(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    settle(loop, value, arg, result, 1);
}

int evl_duk_push_new_promise(duk_context *ctx, struct evl_duk_resolver **out)
{
    if (!ctx || !out) {
        return EVL_EINVAL;
    }
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        return EVL_ENOENT;
    }
    struct evl_duk_resolver *h = evl_calloc(1, sizeof(*h));
    struct evl_duk_settle_token *t = evl_calloc(1, sizeof(*t));
    struct evl_promise *c = NULL;
    struct evl_promise *js = NULL;
    int rc = EVL_ENOMEM;
    if (!h || !t) {
        goto fail;
    }
    rc = evl_promise_new(d->loop, &c);
    if (rc != 0) {
        goto fail;
    }
    rc = evl_resolver_new(c, &h->r);
    if (rc != 0) {
        goto fail;
    }
    rc = evl_promise_then(c, on_fulfilled, on_rejected, t, token_free, &js);
    if (rc != 0) {
        goto fail;
    }
    t->d = d; /* from here on the token belongs to the reaction */
    t->next = d->settle_tokens;
    if (t->next) {
        t->next->prev = t;
    }
    d->settle_tokens = t;
    t = NULL;
    rc = evl_duk_push_promise(ctx, js);
    evl_promise_release(js);
    evl_promise_release(c);
    c = NULL;
    if (rc != 0) {
        goto fail; /* the reaction stays, never settled; the handle goes */
    }
    *out = h;
    return 0;

fail:
    if (h && h->r) {
        evl_resolver_release(h->r);
    }
    if (c) {
        evl_promise_release(c);
    }
    evl_free(t);
    evl_free(h);
    return rc;
}

static int settle_from_c(struct evl_duk_resolver *h, evl_duk_push_cb push, void *value,
                         evl_dtor_cb dtor, int reject)
{
    if (!h) {
        return EVL_EINVAL;
    }
    struct box *b = evl_malloc(sizeof(*b));
    if (!b) {
        return EVL_ENOMEM;
    }
    b->push = push;
    b->value = value;
    b->dtor = dtor;
    int rc =
        reject ? evl_resolver_reject(h->r, b, box_free) : evl_resolver_resolve(h->r, b, box_free);
    if (rc != 0) {
        evl_free(b); /* refused: the value stays the caller's */
    }
    return rc;
}

int evl_duk_resolver_resolve(struct evl_duk_resolver *r, evl_duk_push_cb push, void *value,
                             evl_dtor_cb dtor)
{
    return settle_from_c(r, push, value, dtor, 0);
}

int evl_duk_resolver_reject(struct evl_duk_resolver *r, evl_duk_push_cb push, void *value,
                            evl_dtor_cb dtor)
{
    return settle_from_c(r, push, value, dtor, 1);
}

void evl_duk_resolver_release(struct evl_duk_resolver *r)
{
    if (!r) {
        return;
    }
    evl_resolver_release(r->r);
    evl_free(r);
}

struct evl_loop *evl_duk_loop(duk_context *ctx)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    return d ? d->loop : NULL;
}

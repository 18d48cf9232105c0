/*
 * Value lists (struct evl_values): the results of all and allSettled and the errors of an
 * aggregate error. Each entry shares the value of a settled promise (+1 on its owner), so
 * a list never copies or destroys a value itself.
 */
#include "core/promise/promise_internal.h"

#include "core/error/error.h"
#include "evl/alloc.h"
#include "evl/errno.h"

#include <string.h>

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

struct evl__val evl__values_aggregate_error(struct evl_values *list)
{
    struct evl__val v = evl__promise_error_val(EVL_EAGGREGATE, "All promises were rejected");
    if (!v.dtor) {
        evl__values_free(list); /* the static fallback error carries no list */
        return v;
    }
    evl__error_set_errors(v.ptr, list, evl__values_dtor);
    return v;
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

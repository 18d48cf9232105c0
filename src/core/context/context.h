/*
 * Private side of the context hooks (context.c): the per-loop slot table and the current
 * correlation id, hung off the loop's observability block.
 */
#ifndef EVL_CORE_CONTEXT_INTERNAL_H
#define EVL_CORE_CONTEXT_INTERNAL_H

#include "evl/context.h"

struct evl_loop;
struct evl__context;

/* Frees the context state (evl_loop_free). */
void evl__context_free(struct evl_loop *loop, struct evl__context *ctx);

/* The current correlation id formatted (37 bytes), or 0 if none is current. Any thread:
 * from another thread there is never a current id. */
int evl__context_correlation_text(const struct evl_loop *loop, char out[37]);

#endif

/*
 * The overload controls' inline queries over struct evl_loop's layout, for the submit path:
 * a loop without a bound or a rate pays one pointer test and no call.
 */
#ifndef EVL_CORE_OVERLOAD_OVERLOAD_INTERNAL_H
#define EVL_CORE_OVERLOAD_OVERLOAD_INTERNAL_H

#include "core/loop_state.h"
#include "core/overload/overload.h"

/* Nonzero if the loop has overload controls (a bound or a rate): producers charge and the
 * loop releases what it runs. */
static inline int evl__overload_active(const struct evl_loop *loop)
{
    return loop->ovl != NULL;
}

/* Nonzero if submissions are bounded in slots. */
static inline int evl__overload_bounded(const struct evl_loop *loop)
{
    return loop->ovl && loop->ovl->limit;
}

/* Nonzero if submissions are rate limited. */
static inline int evl__overload_rated(const struct evl_loop *loop)
{
    return loop->ovl && loop->ovl->has_rate;
}

/* Gives back the rate token a refused submission took (only after a rate admit). */
static inline void evl__overload_rate_refund(struct evl_loop *loop)
{
    evl__bucket_refund(&loop->ovl->rate);
}

#endif

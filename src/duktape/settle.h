/* Promises settled from C, from any thread (settle.c). Middle floor. */
#ifndef EVL_DUK_SETTLE_H
#define EVL_DUK_SETTLE_H

#include "duktape/binding.h"

/* Detaches the pending C settlements from a binding that is going away. */
void evl__duk_settle_release(struct evl_duk *d);

#endif

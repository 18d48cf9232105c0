/*
 * The error module's private interface (src/core/error/): what the rest of libevl needs
 * beyond the public evl/error.h. A leaf: it knows no other subsystem, so an aggregate
 * error's list is handed in with its own destructor.
 */
#ifndef EVL_CORE_ERROR_ERROR_H
#define EVL_CORE_ERROR_ERROR_H

#include "evl/error.h"

/*
 * A fresh error for code with msg (NULL: the code's text), and in *dtor its destructor. On
 * allocation failure it is a static error and *dtor is NULL, so the result is always usable
 * as a rejection reason.
 */
struct evl_error *evl__error_make(int code, const char *msg, evl_dtor_cb *dtor);

/* Nonzero if (value, dtor) is an evl_error (the static fallback included). */
int evl__error_is(const void *value, evl_dtor_cb dtor);

/* Gives err the list of errors of an aggregate error; err frees it with dtor. err must be a
 * fresh error from evl__error_make with a destructor. */
void evl__error_set_errors(struct evl_error *err, struct evl_values *list, evl_dtor_cb dtor);

/*
 * The correlation id current on the calling thread (16 bytes), or NULL for none: set by the
 * context module whenever the loop thread's id changes, read by evl_error_new so an error
 * made while an id is current carries it. The id is copied (a loop freed elsewhere leaves
 * nothing dangling). Thread-local: another thread never sees the loop thread's id.
 */
void evl__error_set_ambient(const unsigned char *id);

#endif

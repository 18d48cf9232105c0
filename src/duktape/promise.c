/*
 * TEMPORARY SEAM, owned by dukb (the promise half of issue 6): duka landed this stub only so
 * that install.c links. dukb replaces this whole file with the JS Promise built on the C
 * evl_promise (plus AggregateError and the unhandled-rejection events). Nothing else in the
 * adapter depends on its contents beyond evl__duk_promise_install (see internal.h).
 */
#include "duktape/internal.h"

int evl__duk_promise_install(struct evl_duk *d)
{
    (void)d;
    return 0;
}

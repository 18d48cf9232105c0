/*
 * require() and the CommonJS loader (module.c over js/module.js and js/stdlib.js): opt-in,
 * installed by evl_duk_install_require (the evljs command line calls it), never by
 * evl_duk_install. Middle floor.
 */
#ifndef EVL_DUK_MODULE_H
#define EVL_DUK_MODULE_H

#include "duktape/binding.h"

int evl__duk_module_install(struct evl_duk *d);

#endif

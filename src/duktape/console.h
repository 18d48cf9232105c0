/* console (console.c over js/console.js). Middle floor. */
#ifndef EVL_DUK_CONSOLE_H
#define EVL_DUK_CONSOLE_H

#include "duktape/binding.h"

int evl__duk_console_install(struct evl_duk *d);

#endif

/* The web platform APIs (EVL_DUK_WEB): preludes in js/web/ and their natives (web.c).
 * Middle floor. */
#ifndef EVL_DUK_WEB_H
#define EVL_DUK_WEB_H

#include "duktape/binding.h"

int evl__duk_web_install(struct evl_duk *d);

#endif

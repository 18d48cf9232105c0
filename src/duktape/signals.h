/* Signal watchers behind process.on('SIG...') and process.kill (signals.c). Middle floor. */
#ifndef EVL_DUK_SIGNALS_H
#define EVL_DUK_SIGNALS_H

#include "duktape/binding.h"

/* Adds native.signals, signalWatch, signalUnwatch and kill: runs before the process
 * bootstrap, which builds process.on('SIG...') on them. */
int evl__duk_signals_install(struct evl_duk *d);
/* Stops the binding's watchers. */
void evl__duk_signals_release(struct evl_duk *d);

#endif

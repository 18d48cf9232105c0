/* Loop observability for scripts (perf_hooks.c, js/perf_hooks.js): performance.
 * eventLoopUtilization, require('perf_hooks') with monitorEventLoopDelay, process.metrics.
 * Middle floor. Loop thread only. */
#ifndef EVL_DUK_PERF_HOOKS_H
#define EVL_DUK_PERF_HOOKS_H

#include "duktape/binding.h"

/* Turns on the loop's idle-time accounting (evl_metrics_idle_enable: cheap, what
 * eventLoopUtilization reads), adds the natives and runs js/perf_hooks.js. Installs after
 * the web layer, so the final performance object gets eventLoopUtilization. Returns 0 or
 * EVL_ENOMEM; may throw (out of memory). Value stack unchanged. */
int evl__duk_perf_hooks_install(struct evl_duk *d);

#endif

/*
 * Phase hooks' private interface (src/core/hook/): what the loop calls at its idle, prepare
 * and check points. loop->phase_hooks is NULL until the first hook is added, so the loop
 * tests that pointer before calling in.
 */
#ifndef EVL_CORE_HOOK_HOOK_H
#define EVL_CORE_HOOK_HOOK_H

#include "evl/loop.h"

struct evl_loop;
struct evl__phase_hooks;

/* Runs the hooks of one kind (loop thread). */
void evl__phase_hooks_run(struct evl_loop *loop, enum evl_hook_kind kind);
/* Nonzero when any idle hook is installed (the poll phase must not block). */
int evl__phase_hooks_idle(const struct evl_loop *loop);

#endif

/*
 * Phase hooks (phase_hook.c): the public idle, prepare and check hooks. struct evl_loop's
 * phase_hooks is NULL until the first hook is added, so a loop without hooks pays one
 * pointer test per phase. Loop thread only.
 */
#ifndef EVL_CORE_HOOK_HOOK_H
#define EVL_CORE_HOOK_HOOK_H

#include "evl/loop.h"

struct evl_loop;
struct evl__phase_hooks;

/* Runs the hooks of one kind. */
void evl__phase_hooks_run(struct evl_loop *loop, enum evl_hook_kind kind);
/* Nonzero if an idle hook is installed (the poll phase must not block). */
int evl__phase_hooks_idle(const struct evl_loop *loop);

#endif

/*
 * Phase hooks (phase_hook.c): the public idle, prepare and check hooks, and the lifecycle
 * (observer) hooks, which the loop reaches through bit EVL__OBS_HOOKS of loop->obs. struct
 * evl_loop's phase_hooks is NULL until the first hook is added, so a loop without hooks pays one
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
/* Runs the lifecycle hooks of one kind: no checkpoint after each, and a stop does not cut the
 * run short. Call only while EVL__OBS_HOOKS is set in loop->obs. */
void evl__phase_hooks_observe(struct evl_loop *loop, enum evl_hook_kind kind);
/* An iteration starts (ends the open one first), or the open one ends (if any). */
void evl__phase_hooks_iteration_start(struct evl_loop *loop);
void evl__phase_hooks_iteration_close(struct evl_loop *loop);

#endif

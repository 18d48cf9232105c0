/*
 * The phase hooks' inline query over struct evl_loop's layout, for the loop's phases: a loop
 * without hooks pays one pointer test per phase and no call.
 */
#ifndef EVL_CORE_HOOK_HOOK_INTERNAL_H
#define EVL_CORE_HOOK_HOOK_INTERNAL_H

#include "core/hook/hook.h"
#include "core/loop_state.h"

/* Nonzero once any phase hook was added (the hooks' state exists). */
static inline int evl__phase_hooks_any(const struct evl_loop *loop)
{
    return loop->phase_hooks != NULL;
}

#endif

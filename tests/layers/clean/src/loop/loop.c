#include "core/loop_state.h"
static const char *doc = "loop->timers.heap in a string is not a use";
int loop_check(struct evl_loop *loop)
{
    timers_run(loop);
    return timers_count(&loop->timers) + !doc; /* passed by address to its owner */
}

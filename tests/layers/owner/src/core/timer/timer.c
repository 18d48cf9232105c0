#include "core/loop_state.h"
int timers_count(const struct timers *t)
{
    return t->count;
}
int timers_run(struct evl_loop *loop)
{
    loop->depth++;
    return loop_in_callback(loop);
}

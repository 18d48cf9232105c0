#include "core/timer/timer.h"
#include "core/loop_state.h"
#include "gen_table.h" /* generated at build time */
void timers_run(struct evl_loop *loop)
{
    loop->timers.heap.n = 0;
}
int timers_count(const struct timers *t)
{
    return t->heap.n;
}

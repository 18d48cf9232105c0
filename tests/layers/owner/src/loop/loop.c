#include "core/loop_state.h"
struct req {
    struct evl_loop *loop;
};
int f(struct evl_loop *loop, struct req *r)
{
    int ok = timers_count(&loop->timers); /* allowed: the address, to the owner */
    r->loop->timers.count = 1;
    loop->depth = 0; /* allowed: an owning folder */
    return ok + loop->timers.heap[0];
}

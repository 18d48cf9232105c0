#include "core/timer/timer.h"
struct evl_loop {
    struct timers timers;
};
struct req {
    struct evl_loop *loop;
};
int f(struct evl_loop *loop, struct req *r)
{
    int ok = timers_count(&loop->timers); /* allowed: the address, to the owner */
    r->loop->timers.count = 1;
    return ok + loop->timers.heap[0];
}

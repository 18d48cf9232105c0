#include "core/timer/timer.h"
struct evl_loop {
    struct timers timers;
    int depth;
};
static inline int loop_in_callback(const struct evl_loop *loop)
{
    return loop->depth > 0; /* allowed: a file named as an owner */
}

#include "core/timer/timer.h"
struct evl_loop {
    struct timers timers;
};
int timers_count(const struct timers *t)
{
    return t->count;
}

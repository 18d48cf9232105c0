#ifndef TIMER_H
#define TIMER_H
#include "container/heap.h"
struct timers {
    struct heap heap;
};
struct evl_loop;
void timers_run(struct evl_loop *loop);
int timers_count(const struct timers *t);
#endif

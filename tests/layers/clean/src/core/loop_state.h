#ifndef LOOP_STATE_H
#define LOOP_STATE_H
#include "core/timer/timer.h"
struct evl_loop {
    struct timers timers;
};
#endif

/*
 * The CPU the caller runs on (clock.h); the clock itself is inline in clock.h.
 */
#include "base/clock.h"

#include <sched.h>

int evl__current_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/*
 * evl: a JavaScript-compatible event loop for C. This umbrella header includes every public
 * topic header; include the topic headers directly to keep compile units small.
 */
#ifndef EVL_H
#define EVL_H

#include "evl/common.h"
#include "evl/errno.h"
#include "evl/alloc.h"
#include "evl/log.h"
#include "evl/loop.h"
#include "evl/task.h"
#include "evl/timer.h"
#include "evl/error.h"
#include "evl/promise.h"
#include "evl/pool.h"
#include "evl/io.h"
#include "evl/signal.h"
#include "evl/process.h"
#include "evl/overload.h"
#include "evl/metrics.h"
#include "evl/context.h"

#endif

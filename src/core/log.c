/*
 * Structured logging through each loop's own hook (options.log). Without a hook, messages
 * at or above the loop's threshold go to stderr; nothing ever goes to a global logger.
 */
#include "core/loop_state.h"

#include <stdarg.h>
#include <stdio.h>

const char *evl_log_level_name(int level)
{
    if (level >= EVL_LOG_OFF) {
        return "off";
    }
    if (level >= EVL_LOG_ERROR) {
        return "error";
    }
    if (level >= EVL_LOG_WARN) {
        return "warn";
    }
    if (level >= EVL_LOG_INFO) {
        return "info";
    }
    return "debug";
}

void evl_log(const struct evl_loop *loop, int level, const char *component, const char *fmt, ...)
{
    int threshold = loop ? loop->log_level : EVL_LOG_WARN;
    if (level < threshold || level >= EVL_LOG_OFF) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    /* va_start is just above; clang-analyzer 14 misreads the x86-64 va_list array type. */
    vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    if (!component) {
        component = "evl";
    }
    if (loop && loop->log) {
        loop->log(loop->log_ud, level, component, msg);
        return;
    }
    fprintf(stderr, "evl [%s] %s: %s\n", evl_log_level_name(level), component, msg);
}

/*
 * Structured logging. Diagnostics never go to a global logger: each loop has its own hook
 * (evl_loop_options.log), called on the thread that produced the message.
 */
#ifndef EVL_LOG_H
#define EVL_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum evl_log_level {
    EVL_LOG_DEBUG = 10,
    EVL_LOG_INFO = 20,
    EVL_LOG_WARN = 30,
    EVL_LOG_ERROR = 40,
    EVL_LOG_OFF = 100
};

/* "debug", "info", "warn", "error" or "off". Thread-safe. */
EVL_API const char *evl_log_level_name(int level);

/* Logs through the loop's hook if level passes the loop's threshold; printf-style. Loop
 * may be NULL (stderr, warn and above). Thread-safe if the hook is. */
EVL_API void evl_log(const struct evl_loop *loop, int level, const char *component, const char *fmt,
                     ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif

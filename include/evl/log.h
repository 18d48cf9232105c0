/*
 * Structured logging, per loop. Diagnostics never go to a global logger: each loop has its
 * own logger, configured on the loop and called on the thread that produced the record.
 *
 * A record has a level, a component ("loop", "timer", your own), an event name
 * ("slow_callback"), an optional message and typed fields. The level filter is checked
 * before anything is formatted (EVL_LOG_EVENT does not even build its fields when the level
 * is filtered out). Sinks: JSON lines or logfmt written to an fd, and user callbacks.
 * Registered redaction patterns (POSIX extended regular expressions, compiled once) replace
 * matching text in string fields, error messages and the message before any sink sees the
 * record. While a correlation id is current (context.h) every record carries it.
 *
 * Without sinks a loop logs as it always did: through options.log when set, else one line
 * per record on stderr ("evl [warn] loop: ..."), both filtered by options.log_level
 * (default warn). Adding a sink makes the logger structured: options.log then becomes one
 * more sink (it gets the message with the fields appended in logfmt), and stderr is no
 * longer written unless an fd sink names it.
 */
#ifndef EVL_LOG_H
#define EVL_LOG_H

#include "common.h"

#include <stddef.h>

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

/* Parses "debug", "info", "warn"/"warning", "error", "off" (any case) into *out.
 * Errors: EVL_EINVAL. Thread-safe. */
EVL_API int evl_log_level_parse(const char *name, int *out);

/* Logs a plain message through the loop's logger; printf-style. A NULL loop logs nothing
 * (there is no global logger). Thread-safe if the sinks are. */
EVL_API void evl_log(const struct evl_loop *loop, int level, const char *component, const char *fmt,
                     ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- Typed fields ------------------------------------------------------------------------ */
enum evl_log_type {
    EVL_LOG_T_STR = 1,      /* v.s, may be NULL (logged as null) */
    EVL_LOG_T_INT = 2,      /* v.i */
    EVL_LOG_T_UINT = 3,     /* v.u */
    EVL_LOG_T_DOUBLE = 4,   /* v.d (non-finite values are logged as null / NaN) */
    EVL_LOG_T_BOOL = 5,     /* v.b */
    EVL_LOG_T_DURATION = 6, /* v.u in ns: JSON seconds, logfmt "12.5ms" */
    EVL_LOG_T_ERROR = 7     /* v.i an evl error code: its name and message */
};

struct evl_log_field {
    const char *key; /* borrowed; [A-Za-z0-9_.-] recommended */
    enum evl_log_type type;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        int b;
    } v;
};

#define EVL_LF_STR(k, x)    ((struct evl_log_field){(k), EVL_LOG_T_STR, {.s = (x)}})
#define EVL_LF_INT(k, x)    ((struct evl_log_field){(k), EVL_LOG_T_INT, {.i = (int64_t)(x)}})
#define EVL_LF_UINT(k, x)   ((struct evl_log_field){(k), EVL_LOG_T_UINT, {.u = (uint64_t)(x)}})
#define EVL_LF_DOUBLE(k, x) ((struct evl_log_field){(k), EVL_LOG_T_DOUBLE, {.d = (double)(x)}})
#define EVL_LF_BOOL(k, x)   ((struct evl_log_field){(k), EVL_LOG_T_BOOL, {.b = !!(x)}})
#define EVL_LF_DURATION(k, ns) \
    ((struct evl_log_field){(k), EVL_LOG_T_DURATION, {.u = (uint64_t)(ns)}})
#define EVL_LF_ERROR(k, code) ((struct evl_log_field){(k), EVL_LOG_T_ERROR, {.i = (code)}})

/* A record as sinks see it (everything borrowed for the duration of the call; string
 * values are already redacted). */
struct evl_log_record {
    uint64_t time_ns; /* CLOCK_REALTIME */
    int level;
    const char *component;
    const char *event; /* may be NULL (a plain evl_log message) */
    const char *msg;   /* may be NULL */
    const struct evl_log_field *fields;
    size_t nfields;
    const char *correlation_id; /* UUID text, or NULL */
    const char *line;           /* the record as one JSON object (no newline) */
};

/* A callback sink. Called on the thread that logged, possibly several threads at once. */
typedef void (*evl_log_sink_cb)(void *ud, const struct evl_log_record *record);

enum evl_log_format { EVL_LOG_FORMAT_JSON = 1, EVL_LOG_FORMAT_LOGFMT = 2 };

/* Nonzero when a record at level would reach some sink. Cheap; thread-safe. */
EVL_API int evl_log_enabled(const struct evl_loop *loop, int level);

/*
 * Logs a structured record (see above). fields may be NULL when nfields is 0. A record is
 * written to an fd with one write(2), so lines from several threads never interleave
 * (records longer than 8 KiB are cut, the JSON form then ending with "truncated":true).
 * Thread-safe.
 */
EVL_API void evl_log_event(const struct evl_loop *loop, int level, const char *component,
                           const char *event, const char *msg, const struct evl_log_field *fields,
                           size_t nfields);

/* evl_log_event with fields listed inline; nothing is evaluated when level is filtered:
 *   EVL_LOG_EVENT(loop, EVL_LOG_WARN, "timer", "slow_callback", NULL,
 *                 EVL_LF_DURATION("duration", ns), EVL_LF_STR("kind", "timer")); */
#define EVL_LOG_EVENT(loop, level, component, event, msg, ...)                   \
    do {                                                                         \
        if (evl_log_enabled((loop), (level))) {                                  \
            const struct evl_log_field evl__lf[] = {__VA_ARGS__};                \
            evl_log_event((loop), (level), (component), (event), (msg), evl__lf, \
                          sizeof(evl__lf) / sizeof(evl__lf[0]));                 \
        }                                                                        \
    } while (0)

/* ---- Configuration (loop thread only; before other threads log, or while they may) ---------
 * Sinks and patterns are appended to fixed tables (EVL_LOG_MAX_SINKS, EVL_LOG_MAX_REDACTIONS)
 * that threads logging at the same time read without a lock; there is no removal. */
#define EVL_LOG_MAX_SINKS      8
#define EVL_LOG_MAX_REDACTIONS 16

/* The loop's threshold: records below level go nowhere. Thread-safe. Errors: EVL_EINVAL. */
EVL_API int evl_logger_set_level(struct evl_loop *loop, int level);
EVL_API int evl_logger_level(const struct evl_loop *loop);

/* Writes records at or above min_level to fd (borrowed: the caller keeps it open) in the
 * given format, one line each. Errors: EVL_EINVAL, EVL_EPERM, EVL_ELIMIT, EVL_ENOMEM. */
EVL_API int evl_logger_add_fd(struct evl_loop *loop, int fd, enum evl_log_format format,
                              int min_level);

/* Calls cb for records at or above min_level. Errors as evl_logger_add_fd. */
EVL_API int evl_logger_add_callback(struct evl_loop *loop, evl_log_sink_cb cb, void *ud,
                                    int min_level);

/* Replaces every match of pattern (POSIX ERE) in string values, error messages and the
 * message with replacement (NULL: "[REDACTED]"). Compiled once here.
 * Errors: EVL_EINVAL (NULL, or a pattern regcomp rejects), EVL_EPERM, EVL_ELIMIT, EVL_ENOMEM. */
EVL_API int evl_logger_add_redaction(struct evl_loop *loop, const char *pattern,
                                     const char *replacement);

/* ---- Timer audit --------------------------------------------------------------------------
 * While on, every timer (timeout or interval, not immediate) created on the loop is audited
 * for its whole life: component "timer", events "create", "fire" (each run of an interval)
 * and "clear", with fields id (the id evl_timer_set returned; in evl-duktape the number
 * setTimeout returned), delay and repeat (durations; repeat 0 for a timeout) and nesting (the
 * HTML timer nesting level: 1 for a timer set outside timer callbacks, one more than the
 * running timer's inside one). Records are written at `level` through the loop's logger, so
 * its threshold and sinks apply. Timers created while the audit was off are not audited, and
 * nothing is written while it is off. Off by default; while off the timer paths pay no more
 * than without this feature (the test sits on words those paths already read).
 */

/* Turns the audit on with records at level (EVL_LOG_DEBUG ... EVL_LOG_ERROR), or off
 * (EVL_LOG_OFF). Loop thread only. Errors: EVL_EINVAL (NULL, negative level), EVL_EPERM
 * (wrong thread), EVL_ENOMEM. */
EVL_API int evl_log_timer_audit(struct evl_loop *loop, int level);

/* The audit's level, or EVL_LOG_OFF when it is off. Loop thread. */
EVL_API int evl_log_timer_audit_level(const struct evl_loop *loop);

#ifdef __cplusplus
}
#endif

#endif

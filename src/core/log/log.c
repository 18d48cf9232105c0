/*
 * The per-loop structured logger (include/evl/log.h).
 *
 * State hangs off the loop's observability block (loop->obs->logger). Sinks and redaction
 * patterns live in fixed tables appended to on the loop thread and published by an atomic
 * count, so threads logging meanwhile read them without a lock. A record is formatted into
 * a stack buffer and handed to each fd sink with a single write(2).
 *
 * Kept in one file because the sink tables, redaction and the three renderers (JSON, logfmt,
 * plain) are the stages of one record's path through evl_log_event, and share its private
 * buffer and prepared-record types; none has a user outside that path.
 */
#include "core/context/context.h"
#include "core/loop_state.h"
#include "core/metrics/metrics_internal.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define MAX_FIELDS     32
#define REDACTED       "[REDACTED]"

enum sink_kind { SINK_FD = 1, SINK_CB = 2, SINK_HOOK = 3 };

struct sink {
    enum sink_kind kind;
    int fd;
    enum evl_log_format format;
    int min_level;
    evl_log_sink_cb cb;
    evl_log_cb hook;
    void *ud;
};

struct redaction {
    regex_t re;
    char *replacement;
};

struct evl__logger {
    _Atomic int level;
    _Atomic int min_sink_level; /* lowest min_level of any sink */
    _Atomic unsigned nsinks;
    _Atomic unsigned nred;
    struct sink sinks[EVL_LOG_MAX_SINKS];
    struct redaction red[EVL_LOG_MAX_REDACTIONS];
};

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

int evl_log_level_parse(const char *name, int *out)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"debug", EVL_LOG_DEBUG},  {"info", EVL_LOG_INFO},   {"warn", EVL_LOG_WARN},
                 {"warning", EVL_LOG_WARN}, {"error", EVL_LOG_ERROR}, {"off", EVL_LOG_OFF}};
    if (name == NULL || out == NULL) {
        return EVL_EINVAL;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return EVL_EINVAL;
}

static struct evl__logger *logger_of(const struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    return obs ? atomic_load_explicit(&obs->logger, memory_order_acquire) : NULL;
}

static struct evl__logger *logger_get(struct evl_loop *loop)
{
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return NULL;
    }
    struct evl__logger *cur = atomic_load(&obs->logger);
    if (cur != NULL) {
        return cur;
    }
    struct evl__logger *lg = evl__loop_malloc(loop, sizeof(*lg));
    if (lg == NULL) {
        return NULL;
    }
    memset(lg, 0, sizeof(*lg));
    atomic_init(&lg->level, loop->log_level);
    atomic_init(&lg->min_sink_level, EVL_LOG_OFF);
    if (!atomic_compare_exchange_strong(&obs->logger, &cur, lg)) {
        evl__loop_free(loop, lg); /* evl_logger_set_level on another thread won */
        return cur;
    }
    return lg;
}

void evl__logger_free(struct evl_loop *loop, struct evl__logger *lg)
{
    if (lg == NULL) {
        return;
    }
    unsigned n = atomic_load(&lg->nred);
    for (unsigned i = 0; i < n; i++) {
        regfree(&lg->red[i].re);
        evl__loop_free(loop, lg->red[i].replacement);
    }
    evl__loop_free(loop, lg);
}

static int threshold(const struct evl_loop *loop, const struct evl__logger *lg)
{
    if (lg == NULL) {
        return loop->log_level;
    }
    int level = atomic_load_explicit(&lg->level, memory_order_relaxed);
    if (atomic_load_explicit(&lg->nsinks, memory_order_acquire) != 0) {
        int s = atomic_load_explicit(&lg->min_sink_level, memory_order_relaxed);
        if (s > level) {
            level = s;
        }
    }
    return level;
}

int evl_log_enabled(const struct evl_loop *loop, int level)
{
    if (loop == NULL || level >= EVL_LOG_OFF) {
        return 0;
    }
    return level >= threshold(loop, logger_of(loop));
}

int evl_logger_set_level(struct evl_loop *loop, int level)
{
    if (loop == NULL || level < 0) {
        return EVL_EINVAL;
    }
    struct evl__logger *lg = logger_get(loop);
    if (lg == NULL) {
        return EVL_ENOMEM;
    }
    atomic_store(&lg->level, level);
    return 0;
}

int evl_logger_level(const struct evl_loop *loop)
{
    if (loop == NULL) {
        return EVL_LOG_OFF;
    }
    struct evl__logger *lg = logger_of(loop);
    return lg ? atomic_load(&lg->level) : loop->log_level;
}

static int add_sink(struct evl_loop *loop, const struct sink *s)
{
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__logger *lg = logger_get(loop);
    if (lg == NULL) {
        return EVL_ENOMEM;
    }
    unsigned n = atomic_load(&lg->nsinks);
    /* The first sink makes the logger structured: the loop's hook becomes a sink too. */
    unsigned need = (n == 0 && loop->log != NULL) ? 2 : 1;
    if (n + need > EVL_LOG_MAX_SINKS) {
        return EVL_ELIMIT;
    }
    if (need == 2) {
        struct sink hook = {
            .kind = SINK_HOOK, .hook = loop->log, .ud = loop->log_ud, .min_level = EVL_LOG_DEBUG};
        lg->sinks[n++] = hook;
    }
    lg->sinks[n] = *s;
    int lowest = n + 1 == need ? EVL_LOG_OFF : atomic_load(&lg->min_sink_level);
    for (unsigned i = 0; i <= n; i++) {
        if (lg->sinks[i].min_level < lowest) {
            lowest = lg->sinks[i].min_level;
        }
    }
    atomic_store(&lg->min_sink_level, lowest);
    atomic_store_explicit(&lg->nsinks, n + 1, memory_order_release);
    return 0;
}

int evl_logger_add_fd(struct evl_loop *loop, int fd, enum evl_log_format format, int min_level)
{
    if (loop == NULL || fd < 0 ||
        (format != EVL_LOG_FORMAT_JSON && format != EVL_LOG_FORMAT_LOGFMT)) {
        return EVL_EINVAL;
    }
    struct sink s = {.kind = SINK_FD, .fd = fd, .format = format, .min_level = min_level};
    return add_sink(loop, &s);
}

int evl_logger_add_callback(struct evl_loop *loop, evl_log_sink_cb cb, void *ud, int min_level)
{
    if (loop == NULL || cb == NULL) {
        return EVL_EINVAL;
    }
    struct sink s = {.kind = SINK_CB, .cb = cb, .ud = ud, .min_level = min_level};
    return add_sink(loop, &s);
}

int evl_logger_add_redaction(struct evl_loop *loop, const char *pattern, const char *replacement)
{
    if (loop == NULL || pattern == NULL) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__logger *lg = logger_get(loop);
    if (lg == NULL) {
        return EVL_ENOMEM;
    }
    unsigned n = atomic_load(&lg->nred);
    if (n >= EVL_LOG_MAX_REDACTIONS) {
        return EVL_ELIMIT;
    }
    const char *r = replacement ? replacement : REDACTED;
    size_t rl = strlen(r);
    char *copy = evl__loop_malloc(loop, rl + 1);
    if (copy == NULL) {
        return EVL_ENOMEM;
    }
    memcpy(copy, r, rl + 1);
    if (regcomp(&lg->red[n].re, pattern, REG_EXTENDED) != 0) {
        evl__loop_free(loop, copy);
        return EVL_EINVAL;
    }
    lg->red[n].replacement = copy;
    atomic_store_explicit(&lg->nred, n + 1, memory_order_release);
    return 0;
}

/* ---- redaction ----------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t cap;
    size_t len;
    int over; /* something did not fit */
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n >= b->cap) {
        n = b->len + 1 < b->cap ? b->cap - b->len - 1 : 0;
        b->over = 1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static size_t redacted_bound(const struct evl__logger *lg, unsigned nred, size_t len)
{
    size_t longest = 1;
    for (unsigned i = 0; i < nred; i++) {
        size_t r = strlen(lg->red[i].replacement);
        if (r > longest) {
            longest = r;
        }
    }
    /* Every input byte can become at most one replacement (or stay itself). */
    return (len + 1) * longest + 1;
}

/* Applies every pattern in turn. Returns a string allocated with the loop's allocator, or
 * NULL for no memory (the caller then drops the value rather than risk leaking it). */
static char *redact(const struct evl_loop *loop, const struct evl__logger *lg, unsigned nred,
                    const char *in)
{
    size_t cap = redacted_bound(lg, nred, strlen(in));
    char *a = evl__loop_malloc(loop, cap);
    char *b = evl__loop_malloc(loop, cap);
    if (a == NULL || b == NULL) {
        evl__loop_free(loop, a);
        evl__loop_free(loop, b);
        return NULL;
    }
    memcpy(a, in, strlen(in) + 1);
    for (unsigned i = 0; i < nred; i++) {
        struct buf out = {b, cap, 0, 0};
        b[0] = '\0';
        const char *s = a;
        int eflags = 0;
        regmatch_t m;
        while (*s != '\0' && regexec(&lg->red[i].re, s, 1, &m, eflags) == 0) {
            buf_put(&out, s, (size_t)m.rm_so);
            if (m.rm_eo > m.rm_so) {
                buf_put(&out, lg->red[i].replacement, strlen(lg->red[i].replacement));
                s += m.rm_eo;
            } else {
                buf_put(&out, s + m.rm_so, 1); /* empty match: keep one byte, move on */
                s += m.rm_so + 1;
            }
            eflags = REG_NOTBOL;
        }
        buf_put(&out, s, strlen(s));
        char *t = a;
        a = b;
        b = t;
    }
    evl__loop_free(loop, b);
    return a;
}

/* ---- formatting ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...)
{
    if (b->over) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->len;
    /* va_start is just above; clang-analyzer reports a false "uninitialized va_list" on the
     * x86-64 va_list array type. */
    int n =
        vsnprintf(b->p + b->len, room, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        b->p[b->len] = '\0';
        b->over = 1;
        return;
    }
    b->len += (size_t)n;
}

/* A JSON string of at most limit input bytes (cut on a UTF-8 character boundary). */
static void json_str_n(struct buf *b, const char *s, size_t limit)
{
    if (s == NULL) {
        buf_put(b, "null", 4);
        return;
    }
    size_t n = strlen(s);
    if (n > limit) {
        n = limit;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    const char *end = s + n;
    buf_put(b, "\"", 1);
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_put(b, e, 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c == '\r') {
            buf_put(b, "\\r", 2);
        } else if (c == '\t') {
            buf_put(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", c);
            buf_put(b, e, 6);
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
    buf_put(b, "\"", 1);
}

static void json_str(struct buf *b, const char *s)
{
    json_str_n(b, s, SIZE_MAX);
}

static void logfmt_str(struct buf *b, const char *s)
{
    if (s == NULL) {
        buf_put(b, "null", 4);
        return;
    }
    int quote = *s == '\0';
    for (const char *p = s; *p && !quote; p++) {
        unsigned char c = (unsigned char)*p;
        quote = c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f;
    }
    if (!quote) {
        buf_put(b, s, strlen(s));
        return;
    }
    buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_put(b, e, 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof(e), "\\x%02x", c);
            buf_put(b, e, 4);
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
    buf_put(b, "\"", 1);
}

/* "1.5s", "12.5ms", "250us", "40ns" (Go's time.Duration style, 3 significant decimals). */
static void duration_text(uint64_t ns, char *out, size_t cap)
{
    if (ns >= 1000000000u) {
        snprintf(out, cap, "%.4gs", (double)ns / 1e9);
    } else if (ns >= 1000000u) {
        snprintf(out, cap, "%.4gms", (double)ns / 1e6);
    } else if (ns >= 1000u) {
        snprintf(out, cap, "%.4gus", (double)ns / 1e3);
    } else {
        snprintf(out, cap, "%lluns", (unsigned long long)ns);
    }
}

static void time_text(uint64_t ns, char *out, size_t cap)
{
    time_t sec = (time_t)(ns / 1000000000u);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000u / 1000u));
}

static void json_field(struct buf *b, const struct evl_log_field *f)
{
    buf_put(b, ",", 1);
    json_str(b, f->key ? f->key : "");
    buf_put(b, ":", 1);
    switch (f->type) {
    case EVL_LOG_T_STR:
        json_str(b, f->v.s);
        break;
    case EVL_LOG_T_INT:
        buf_printf(b, "%lld", (long long)f->v.i);
        break;
    case EVL_LOG_T_UINT:
        buf_printf(b, "%llu", (unsigned long long)f->v.u);
        break;
    case EVL_LOG_T_DOUBLE:
        if (isfinite(f->v.d)) {
            buf_printf(b, "%.17g", f->v.d);
        } else {
            buf_put(b, "null", 4);
        }
        break;
    case EVL_LOG_T_BOOL:
        buf_put(b, f->v.b ? "true" : "false", f->v.b ? 4 : 5);
        break;
    case EVL_LOG_T_DURATION:
        buf_printf(b, "%.9g", (double)f->v.u / 1e9);
        break;
    case EVL_LOG_T_ERROR:
        buf_printf(b, "{\"code\":\"%s\",\"errno\":%d,\"message\":", evl_err_name((int)f->v.i),
                   (int)f->v.i);
        json_str(b, evl_strerror((int)f->v.i));
        buf_put(b, "}", 1);
        break;
    default:
        buf_put(b, "null", 4);
        break;
    }
}

static void logfmt_field(struct buf *b, const struct evl_log_field *f)
{
    char tmp[64];
    buf_put(b, " ", 1);
    logfmt_str(b, f->key ? f->key : "");
    buf_put(b, "=", 1);
    switch (f->type) {
    case EVL_LOG_T_STR:
        logfmt_str(b, f->v.s);
        break;
    case EVL_LOG_T_INT:
        buf_printf(b, "%lld", (long long)f->v.i);
        break;
    case EVL_LOG_T_UINT:
        buf_printf(b, "%llu", (unsigned long long)f->v.u);
        break;
    case EVL_LOG_T_DOUBLE:
        buf_printf(b, "%.17g", f->v.d);
        break;
    case EVL_LOG_T_BOOL:
        buf_put(b, f->v.b ? "true" : "false", f->v.b ? 4 : 5);
        break;
    case EVL_LOG_T_DURATION:
        duration_text(f->v.u, tmp, sizeof(tmp));
        buf_put(b, tmp, strlen(tmp));
        break;
    case EVL_LOG_T_ERROR:
        logfmt_str(b, evl_strerror((int)f->v.i));
        buf_put(b, " ", 1);
        logfmt_str(b, f->key ? f->key : "");
        buf_printf(b, "_code=%s", evl_err_name((int)f->v.i));
        break;
    default:
        buf_put(b, "null", 4);
        break;
    }
}

/* The record once redacted; strings it points to are owned by it. */
struct prepared {
    struct evl_log_record rec;
    struct evl_log_field fields[MAX_FIELDS];
    char *owned[MAX_FIELDS + 2];
    unsigned nowned;
    char corr[37];
};

static const char *redacted(const struct evl_loop *loop, const struct evl__logger *lg,
                            unsigned nred, struct prepared *p, const char *s)
{
    if (s == NULL || nred == 0) {
        return s;
    }
    char *r = redact(loop, lg, nred, s);
    if (r == NULL) {
        return "[REDACTION FAILED]";
    }
    p->owned[p->nowned++] = r;
    return r;
}

static void render_json(const struct prepared *p, struct buf *b)
{
    char t[96];
    const struct evl_log_record *r = &p->rec;
    time_text(r->time_ns, t, sizeof(t));
    buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":", t,
               evl_log_level_name(r->level));
    json_str_n(b, r->component, 128);
    if (r->event != NULL) {
        buf_put(b, ",\"event\":", 9);
        json_str_n(b, r->event, 128);
    }
    if (r->correlation_id != NULL) {
        buf_printf(b, ",\"correlation_id\":\"%s\"", r->correlation_id);
    }
    int truncated = 0;
    if (r->msg != NULL) {
        size_t keep = b->len;
        buf_put(b, ",\"msg\":", 7);
        json_str(b, r->msg);
        if (b->over) { /* a message too long for the line: keep its start */
            b->len = keep;
            b->over = 0;
            buf_put(b, ",\"msg\":", 7);
            json_str_n(b, r->msg, 1024);
            truncated = 1;
        }
    }
    for (size_t i = 0; i < r->nfields && !truncated; i++) {
        size_t keep = b->len;
        json_field(b, &r->fields[i]);
        if (b->over) {
            b->len = keep; /* drop the field that did not fit, whole */
            b->over = 0;
            truncated = 1;
        }
    }
    b->p[b->len] = '\0';
    if (truncated) {
        buf_put(b, ",\"truncated\":true", 17);
    }
    buf_put(b, "}", 1);
}

static void render_logfmt(const struct prepared *p, struct buf *b)
{
    char t[96];
    const struct evl_log_record *r = &p->rec;
    time_text(r->time_ns, t, sizeof(t));
    buf_printf(b, "time=%s level=%s component=", t, evl_log_level_name(r->level));
    logfmt_str(b, r->component);
    if (r->event != NULL) {
        buf_put(b, " event=", 7);
        logfmt_str(b, r->event);
    }
    if (r->msg != NULL) {
        buf_put(b, " msg=", 5);
        logfmt_str(b, r->msg);
    }
    if (r->correlation_id != NULL) {
        buf_printf(b, " correlation_id=%s", r->correlation_id);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        logfmt_field(b, &r->fields[i]);
    }
    if (b->over) {
        b->over = 0;
        if (b->len + 16 > b->cap) {
            b->len = b->cap - 16;
        }
        buf_put(b, " truncated=true", 15);
    }
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* a log sink never blocks or fails the caller */
        }
        s += w;
        n -= (size_t)w;
    }
}

/* The record for a hook or stderr: message then the fields in logfmt. */
static void render_plain(const struct prepared *p, struct buf *b)
{
    const struct evl_log_record *r = &p->rec;
    if (r->msg != NULL) {
        buf_put(b, r->msg, strlen(r->msg));
    }
    if (r->event != NULL) {
        buf_put(b, r->msg ? " event=" : "event=", r->msg ? 7 : 6);
        logfmt_str(b, r->event);
    }
    if (r->correlation_id != NULL) {
        buf_printf(b, " correlation_id=%s", r->correlation_id);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        logfmt_field(b, &r->fields[i]);
    }
}

void evl_log_event(const struct evl_loop *loop, int level, const char *component, const char *event,
                   const char *msg, const struct evl_log_field *fields, size_t nfields)
{
    if (loop == NULL || level >= EVL_LOG_OFF) {
        return;
    }
    struct evl__logger *lg = logger_of(loop);
    if (level < threshold(loop, lg)) {
        return;
    }
    unsigned nred = lg ? atomic_load_explicit(&lg->nred, memory_order_acquire) : 0;
    unsigned nsinks = lg ? atomic_load_explicit(&lg->nsinks, memory_order_acquire) : 0;

    struct prepared p;
    p.nowned = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    p.rec.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    p.rec.level = level;
    p.rec.component = component ? component : "evl";
    p.rec.event = event;
    p.rec.msg = redacted(loop, lg, nred, &p, msg);
    if (nfields > MAX_FIELDS) {
        nfields = MAX_FIELDS;
    }
    for (size_t i = 0; i < nfields; i++) {
        p.fields[i] = fields[i];
        if (fields[i].type == EVL_LOG_T_STR) {
            p.fields[i].v.s = redacted(loop, lg, nred, &p, fields[i].v.s);
        }
    }
    p.rec.fields = p.fields;
    p.rec.nfields = nfields;
    p.rec.correlation_id = evl__context_correlation_text(loop, p.corr) ? p.corr : NULL;
    p.rec.line = NULL;

    char line[LINE_MAX_BYTES];
    struct buf b = {line, sizeof(line), 0, 0};
    line[0] = '\0';
    if (nsinks == 0) {
        /* The loop's own hook, else stderr: the behaviour of a loop without sinks. */
        render_plain(&p, &b);
        if (loop->log != NULL) {
            loop->log(loop->log_ud, level, p.rec.component, line);
        } else {
            /* One write per record; a line cut to the buffer still ends with a newline. */
            char head[160];
            int hn = snprintf(head, sizeof(head), "evl [%s] %.100s: ", evl_log_level_name(level),
                              p.rec.component);
            size_t ln = b.len < sizeof(line) - 1 ? b.len : sizeof(line) - 1;
            if (hn > 0 && (size_t)hn + ln + 1 <= sizeof(line)) {
                memmove(line + hn, line, ln);
                memcpy(line, head, (size_t)hn);
                line[(size_t)hn + ln] = '\n';
                write_all(2, line, (size_t)hn + ln + 1);
            } else if (hn > 0) {
                memmove(line + hn, line, sizeof(line) - (size_t)hn - 1);
                memcpy(line, head, (size_t)hn);
                line[sizeof(line) - 1] = '\n';
                write_all(2, line, sizeof(line));
            }
        }
        goto free_owned;
    }
    render_json(&p, &b);
    p.rec.line = line;
    char alt[LINE_MAX_BYTES];
    int have_alt = 0;
    for (unsigned i = 0; i < nsinks; i++) {
        const struct sink *s = &lg->sinks[i];
        if (level < s->min_level) {
            continue;
        }
        if (s->kind == SINK_CB) {
            s->cb(s->ud, &p.rec);
        } else if (s->kind == SINK_HOOK) {
            struct buf pb = {alt, sizeof(alt), 0, 0};
            alt[0] = '\0';
            render_plain(&p, &pb);
            have_alt = 0;
            s->hook(s->ud, level, p.rec.component, alt);
        } else if (s->format == EVL_LOG_FORMAT_JSON) {
            line[b.len] = '\n'; /* the JSON line keeps its NUL one byte on */
            write_all(s->fd, line, b.len + 1);
            line[b.len] = '\0';
        } else {
            if (!have_alt) {
                struct buf lb = {alt, sizeof(alt) - 1, 0, 0};
                alt[0] = '\0';
                render_logfmt(&p, &lb);
                alt[lb.len] = '\n';
                alt[lb.len + 1] = '\0';
                have_alt = 1;
            }
            write_all(s->fd, alt, strlen(alt));
        }
    }
free_owned:
    for (unsigned i = 0; i < p.nowned; i++) {
        evl__loop_free(loop, p.owned[i]);
    }
}

void evl_log(const struct evl_loop *loop, int level, const char *component, const char *fmt, ...)
{
    if (!evl_log_enabled(loop, level)) {
        return;
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    /* va_start is just above; clang-analyzer reports a false "uninitialized va_list" on the
     * x86-64 va_list array type. */
    vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    evl_log_event(loop, level, component, NULL, msg, NULL, 0);
}

/* ---- the timer audit ------------------------------------------------------------------------ */

int evl_log_timer_audit(struct evl_loop *loop, int level)
{
    if (loop == NULL || level < 0) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (level >= EVL_LOG_OFF) {
        struct evl__obs *obs = evl__obs_peek(loop);
        if (obs != NULL) {
            obs->audit_level = EVL_LOG_OFF;
        }
        (void)evl__obs_set_flag(loop, EVL__OBS_AUDIT, 0);
        evl__timers_set_audit(loop, 0);
        return 0;
    }
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return EVL_ENOMEM;
    }
    obs->audit_level = level;
    evl__timers_set_audit(loop, 1);
    return evl__obs_set_flag(loop, EVL__OBS_AUDIT, 1);
}

int evl_log_timer_audit_level(const struct evl_loop *loop)
{
    if (loop == NULL) {
        return EVL_LOG_OFF;
    }
    struct evl__obs *obs = evl__obs_peek(loop);
    return obs != NULL ? obs->audit_level : EVL_LOG_OFF;
}

void evl__log_timer_audit(struct evl_loop *loop, const char *event, uint64_t id, uint64_t delay_ms,
                          uint64_t repeat_ms, uint32_t nesting)
{
    struct evl__obs *obs = evl__obs_peek(loop);
    if (obs == NULL || obs->audit_level >= EVL_LOG_OFF) {
        return; /* switched off since the timer was created */
    }
    EVL_LOG_EVENT(loop, obs->audit_level, "timer", event, NULL, EVL_LF_UINT("id", id),
                  EVL_LF_DURATION("delay", delay_ms * UINT64_C(1000000)),
                  EVL_LF_DURATION("repeat", repeat_ms * UINT64_C(1000000)),
                  EVL_LF_UINT("nesting", nesting));
}

/* The per-loop structured logger: sinks and formats, the level filter, redaction, the
 * loop's hook and stderr when no sink is set, and the absence of any global logger. */
#include "evl_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static struct evl_loop *new_loop(int level)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log_level = level;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    return loop;
}

/* A pipe whose read end is non-blocking: read everything written so far. */
static void make_pipe(int p[2])
{
    ASSERT_EQ(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
}

static char *drain(int fd)
{
    static char buf[1 << 18];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

#define SECRET "sk_live_4eC39HqLyjWDarjtT1zdp7dc"

TEST(json_lines_sink)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    int p[2];
    make_pipe(p);
    ASSERT_OK(evl_logger_add_fd(loop, p[1], EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG));
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "timer", "slow_callback", "took \"long\"\n",
                  EVL_LF_STR("kind", "timer"), EVL_LF_INT("n", -3), EVL_LF_UINT("u", 7),
                  EVL_LF_DOUBLE("ratio", 0.5), EVL_LF_BOOL("ok", 1),
                  EVL_LF_DURATION("duration", 12500000), EVL_LF_ERROR("err", EVL_ETIMEDOUT),
                  EVL_LF_STR("none", NULL));
    char *out = drain(p[0]);
    ASSERT_TRUE(strncmp(out, "{\"time\":\"", 9) == 0);
    ASSERT_NOT_NULL(strstr(out, "Z\",\"level\":\"warn\",\"component\":\"timer\","
                                "\"event\":\"slow_callback\",\"msg\":\"took \\\"long\\\"\\n\","
                                "\"kind\":\"timer\",\"n\":-3,\"u\":7,\"ratio\":0.5,\"ok\":true,"
                                "\"duration\":0.0125,\"err\":{\"code\":\"EVL_ETIMEDOUT\","
                                "\"errno\":-9,\"message\":\"timed out\"},\"none\":null}\n"));
    ASSERT_PTR_EQ(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(logfmt_sink)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    int p[2];
    make_pipe(p);
    ASSERT_OK(evl_logger_add_fd(loop, p[1], EVL_LOG_FORMAT_LOGFMT, EVL_LOG_INFO));
    EVL_LOG_EVENT(loop, EVL_LOG_DEBUG, "loop", "fastpath", NULL, EVL_LF_STR("reason", "x"));
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "timer", "slow_callback", "took long",
                  EVL_LF_STR("kind", "timer"), EVL_LF_STR("empty", ""),
                  EVL_LF_DURATION("duration", 12500000), EVL_LF_DURATION("d2", 1500000000),
                  EVL_LF_BOOL("ok", 0), EVL_LF_ERROR("err", EVL_ETIMEDOUT));
    char *out = drain(p[0]);
    ASSERT_TRUE(strncmp(out, "time=", 5) == 0);
    ASSERT_NOT_NULL(strstr(out, "Z level=warn component=timer event=slow_callback msg=\"took "
                                "long\" kind=timer empty=\"\" duration=12.5ms d2=1.5s ok=false "
                                "err=\"timed out\" err_code=EVL_ETIMEDOUT\n"));
    ASSERT_NULL(strstr(out, "fastpath")); /* below the sink's level */
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_free(loop));
}

static int evaluated;

static int side_effect(void)
{
    evaluated++;
    return evaluated;
}

TEST(level_filter_before_formatting)
{
    struct evl_loop *loop = new_loop(EVL_LOG_WARN);
    int p[2];
    make_pipe(p);
    ASSERT_OK(evl_logger_add_fd(loop, p[1], EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG));
    ASSERT_EQ(evl_log_enabled(loop, EVL_LOG_INFO), 0);
    ASSERT_EQ(evl_log_enabled(loop, EVL_LOG_WARN), 1);
    EVL_LOG_EVENT(loop, EVL_LOG_INFO, "c", "e", NULL, EVL_LF_INT("x", side_effect()));
    ASSERT_EQ(evaluated, 0); /* the fields were never even built */
    ASSERT_STR_EQ(drain(p[0]), "");
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_DEBUG));
    ASSERT_EQ(evl_logger_level(loop), EVL_LOG_DEBUG);
    EVL_LOG_EVENT(loop, EVL_LOG_INFO, "c", "e", NULL, EVL_LF_INT("x", side_effect()));
    ASSERT_EQ(evaluated, 1);
    ASSERT_NOT_NULL(strstr(drain(p[0]), "\"x\":1}"));
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_OFF));
    ASSERT_EQ(evl_log_enabled(loop, EVL_LOG_ERROR), 0);
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_free(loop));
}

struct captured {
    int count;
    char line[8192];
    char event[64];
    size_t nfields;
    int level;
};

static void capture_cb(void *ud, const struct evl_log_record *rec)
{
    struct captured *c = ud;
    c->count++;
    c->level = rec->level;
    snprintf(c->line, sizeof(c->line), "%s", rec->line);
    snprintf(c->event, sizeof(c->event), "%s", rec->event ? rec->event : "");
    c->nfields = rec->nfields;
}

TEST(callback_sink_gets_the_record)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    struct captured c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_DEBUG));
    EVL_LOG_EVENT(loop, EVL_LOG_ERROR, "io", "poll_error", NULL, EVL_LF_ERROR("err", EVL_EBADF),
                  EVL_LF_INT("fd", 7));
    ASSERT_EQ(c.count, 1);
    ASSERT_EQ(c.level, EVL_LOG_ERROR);
    ASSERT_STR_EQ(c.event, "poll_error");
    ASSERT_UEQ(c.nfields, 2);
    ASSERT_NOT_NULL(strstr(c.line, "\"event\":\"poll_error\""));
    /* evl_log (printf style) goes through the same sinks. */
    evl_log(loop, EVL_LOG_INFO, "app", "hello %d", 42);
    ASSERT_EQ(c.count, 2);
    ASSERT_NOT_NULL(strstr(c.line, "\"component\":\"app\",\"msg\":\"hello 42\"}"));
    ASSERT_OK(evl_loop_free(loop));
}

struct hooked {
    int count;
    char msg[1024];
};

static void hook_cb(void *ud, int level, const char *component, const char *msg)
{
    (void)level;
    (void)component;
    struct hooked *h = ud;
    h->count++;
    snprintf(h->msg, sizeof(h->msg), "%s", msg);
}

TEST(redaction_before_any_sink)
{
    struct hooked h;
    memset(&h, 0, sizeof(h));
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = hook_cb;
    o.log_ud = &h;
    o.log_level = EVL_LOG_DEBUG;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_OK(evl_logger_add_redaction(loop, "sk_(live|test)_[A-Za-z0-9]{8,}", NULL));
    ASSERT_OK(evl_logger_add_redaction(loop, "password=[^ &]*", "password=***"));
    /* Without sinks: the loop's hook already gets redacted text. */
    evl_log(loop, EVL_LOG_WARN, "app", "key %s in use", SECRET);
    ASSERT_EQ(h.count, 1);
    ASSERT_NULL(strstr(h.msg, "4eC39HqLyjWDarjtT1zdp7dc"));
    ASSERT_STR_EQ(h.msg, "key [REDACTED] in use");
    /* With every kind of sink. */
    int pj[2];
    int pl[2];
    make_pipe(pj);
    make_pipe(pl);
    struct captured c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_logger_add_fd(loop, pj[1], EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG));
    ASSERT_OK(evl_logger_add_fd(loop, pl[1], EVL_LOG_FORMAT_LOGFMT, EVL_LOG_DEBUG));
    ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_DEBUG));
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "http", "request",
                  "GET /login?user=a&password=hunter2 key=" SECRET,
                  EVL_LF_STR("authorization", "Bearer " SECRET),
                  EVL_LF_STR("url", "https://x/?password=hunter2&a=1"),
                  EVL_LF_STR("twice", SECRET " and sk_test_ABCDEFGH12345"));
    const char *outs[4] = {drain(pj[0]), NULL, c.line, h.msg};
    static char json[1 << 18];
    memcpy(json, outs[0], strlen(outs[0]) + 1);
    outs[0] = json;
    outs[1] = drain(pl[0]);
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(outs[i][0] != '\0');
        ASSERT_NULL(strstr(outs[i], "4eC39HqLyjWDarjtT1zdp7dc"));
        ASSERT_NULL(strstr(outs[i], "ABCDEFGH12345"));
        ASSERT_NULL(strstr(outs[i], "hunter2"));
        ASSERT_NOT_NULL(strstr(outs[i], "[REDACTED]"));
        ASSERT_NOT_NULL(strstr(outs[i], "password=***"));
    }
    ASSERT_NOT_NULL(strstr(json, "\"twice\":\"[REDACTED] and [REDACTED]\""));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_redaction(loop, "([unclosed", NULL));
    close(pj[0]);
    close(pj[1]);
    close(pl[0]);
    close(pl[1]);
    ASSERT_OK(evl_loop_free(loop));
}

/* Runs fn with fd 2 redirected to a pipe; returns what was written there. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    int p[2];
    make_pipe(p);
    fflush(stderr);
    int saved = dup(2);
    dup2(p[1], 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    char *out = drain(p[0]);
    close(p[0]);
    return out;
}

static void log_null_loop(void *arg)
{
    (void)arg;
    evl_log(NULL, EVL_LOG_ERROR, "x", "to nobody");
    evl_log_event(NULL, EVL_LOG_ERROR, "x", "e", "to nobody", NULL, 0);
}

TEST(no_global_logger)
{
    ASSERT_STR_EQ(capture_stderr(log_null_loop, NULL), "");
    ASSERT_EQ(evl_log_enabled(NULL, EVL_LOG_ERROR), 0);
}

static void log_default(void *arg)
{
    struct evl_loop *loop = arg;
    evl_log(loop, EVL_LOG_INFO, "x", "below warn");
    EVL_LOG_EVENT(loop, EVL_LOG_WARN, "timer", "slow_callback", "slow",
                  EVL_LF_DURATION("duration", 2000000));
}

TEST(loop_without_sinks_writes_stderr)
{
    struct evl_loop *loop = new_loop(EVL_LOG_WARN);
    ASSERT_STR_EQ(capture_stderr(log_default, loop),
                  "evl [warn] timer: slow event=slow_callback duration=2ms\n");
    ASSERT_OK(evl_loop_free(loop));
}

TEST(hook_becomes_a_sink)
{
    struct hooked h;
    memset(&h, 0, sizeof(h));
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = hook_cb;
    o.log_ud = &h;
    o.log_level = EVL_LOG_INFO;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct captured c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_ERROR));
    evl_log(loop, EVL_LOG_INFO, "x", "info line");
    ASSERT_EQ(h.count, 1); /* the hook keeps getting what it got before */
    ASSERT_STR_EQ(h.msg, "info line");
    ASSERT_EQ(c.count, 0);
    evl_log(loop, EVL_LOG_ERROR, "x", "error line");
    ASSERT_EQ(h.count, 2);
    ASSERT_EQ(c.count, 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(correlation_id_in_records)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    struct captured c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_DEBUG));
    unsigned char id[16];
    char text[37];
    ASSERT_OK(evl_correlation_new(loop, id));
    evl_uuid_format(id, text);
    ASSERT_OK(evl_correlation_set(loop, id));
    evl_log(loop, EVL_LOG_INFO, "app", "in request");
    char want[80];
    snprintf(want, sizeof(want), "\"correlation_id\":\"%s\"", text);
    ASSERT_NOT_NULL(strstr(c.line, want));
    ASSERT_OK(evl_correlation_set(loop, NULL));
    evl_log(loop, EVL_LOG_INFO, "app", "outside");
    ASSERT_NULL(strstr(c.line, "correlation_id"));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(long_records_stay_valid)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    struct captured c;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_DEBUG));
    char *big = malloc(20000);
    memset(big, '"', 19999); /* each escapes to two bytes */
    big[19999] = '\0';
    evl_log_event(loop, EVL_LOG_INFO, "c", "big", big, NULL, 0);
    size_t n = strlen(c.line);
    ASSERT_TRUE(n < 8192);
    ASSERT_NOT_NULL(strstr(c.line, ",\"truncated\":true}"));
    ASSERT_EQ(c.line[n - 1], '}');
    struct evl_log_field f[40];
    for (int i = 0; i < 40; i++) {
        f[i] = EVL_LF_STR("k", big + 19999 - 300);
    }
    evl_log_event(loop, EVL_LOG_INFO, "c", "many", NULL, f, 40);
    n = strlen(c.line);
    ASSERT_NOT_NULL(strstr(c.line, ",\"truncated\":true}"));
    free(big);
    ASSERT_OK(evl_loop_free(loop));
}

struct writer {
    struct evl_loop *loop;
    int id;
};

static void *write_lines(void *arg)
{
    struct writer *w = arg;
    char pad[600];
    memset(pad, 'a' + w->id, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < 200; i++) {
        EVL_LOG_EVENT(w->loop, EVL_LOG_INFO, "t", "line", NULL, EVL_LF_INT("thread", w->id),
                      EVL_LF_INT("i", i), EVL_LF_STR("pad", pad));
    }
    return NULL;
}

TEST(lines_from_threads_never_interleave)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    char path[] = "/tmp/evl_log_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    unlink(path);
    fcntl(fd, F_SETFL, O_APPEND);
    ASSERT_OK(evl_logger_add_fd(loop, fd, EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG));
    pthread_t th[4];
    struct writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i].loop = loop;
        w[i].id = i;
        ASSERT_EQ(pthread_create(&th[i], NULL, write_lines, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    lseek(fd, 0, SEEK_SET);
    FILE *f = fdopen(fd, "r");
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        ASSERT_TRUE(line[0] == '{' && n > 2 && line[n - 2] == '}' && line[n - 1] == '\n');
        int t = -1;
        ASSERT_EQ(sscanf(strstr(line, "\"thread\":"), "\"thread\":%d", &t), 1);
        char want[8];
        snprintf(want, sizeof(want), "%c%c%c", 'a' + t, 'a' + t, '"');
        ASSERT_NOT_NULL(strstr(line, want));
        lines++;
    }
    ASSERT_EQ(lines, 800);
    fclose(f);
    ASSERT_OK(evl_loop_free(loop));
}

static void *add_sink_from_thread(void *arg)
{
    return (void *)(intptr_t)evl_logger_add_fd(arg, 2, EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG);
}

TEST(configuration_errors)
{
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_fd(loop, -1, EVL_LOG_FORMAT_JSON, 0));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_fd(loop, 1, (enum evl_log_format)9, 0));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_callback(loop, NULL, NULL, 0));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_redaction(loop, NULL, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_logger_set_level(NULL, 0));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, add_sink_from_thread, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    struct captured c;
    for (int i = 0; i < EVL_LOG_MAX_SINKS; i++) {
        ASSERT_OK(evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_OFF));
    }
    ASSERT_ERR(EVL_ELIMIT, evl_logger_add_callback(loop, capture_cb, &c, EVL_LOG_OFF));
    for (int i = 0; i < EVL_LOG_MAX_REDACTIONS; i++) {
        ASSERT_OK(evl_logger_add_redaction(loop, "x", NULL));
    }
    ASSERT_ERR(EVL_ELIMIT, evl_logger_add_redaction(loop, "x", NULL));
    int level = 0;
    ASSERT_OK(evl_log_level_parse("WARNING", &level));
    ASSERT_EQ(level, EVL_LOG_WARN);
    ASSERT_OK(evl_log_level_parse("off", &level));
    ASSERT_EQ(level, EVL_LOG_OFF);
    ASSERT_ERR(EVL_EINVAL, evl_log_level_parse("loud", &level));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(json_lines_parse_as_json)
{
    if (system("command -v node >/dev/null 2>&1") != 0) {
        TEST_SKIP("node not installed");
    }
    struct evl_loop *loop = new_loop(EVL_LOG_DEBUG);
    char path[] = "/tmp/evl_json_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    ASSERT_OK(evl_logger_add_fd(loop, fd, EVL_LOG_FORMAT_JSON, EVL_LOG_DEBUG));
    ASSERT_OK(evl_logger_add_redaction(loop, "x+", "\"\\\n"));
    const char *tricky[] = {"",
                            "\"quoted\" \\ back",
                            "ctl \001\002\037\177 end",
                            "tab\tcr\rnl\n",
                            "utf-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                            "xxx redacted xx"};
    for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
        EVL_LOG_EVENT(loop, EVL_LOG_INFO, tricky[i], tricky[i], tricky[i],
                      EVL_LF_STR(tricky[i], tricky[i]), EVL_LF_DOUBLE("nan", 0.0 / 0.0),
                      EVL_LF_INT("min", INT64_MIN), EVL_LF_UINT("max", UINT64_MAX),
                      EVL_LF_ERROR("sys", EVL_ESYS(2)));
    }
    char *big = malloc(30000);
    for (int i = 0; i < 29999; i++) {
        big[i] = (char)(i % 3 == 0 ? '\xc3' : i % 3 == 1 ? '\xa9' : '"');
    }
    big[29999] = '\0';
    evl_log_event(loop, EVL_LOG_INFO, "c", "big", big, NULL, 0);
    free(big);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "node -e \"const l=require('fs').readFileSync('%s','utf8').split('\\n');"
             "l.pop();for(const s of l)JSON.parse(s);if(l.length!==7)process.exit(3)\"",
             path);
    int st = system(cmd);
    unlink(path);
    ASSERT_EQ(st, 0);
    ASSERT_OK(evl_loop_free(loop));
}

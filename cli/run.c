/*
 * The evljs command line (evljs_main): option parsing, the usage text, the main module or
 * the program from -e / stdin, and Node's end-of-process sequence. It uses only the public
 * API of the adapter (include/evl_duktape.h), as any host running whole programs would.
 *
 * Sequence: run the main script (one guarded entry, so the execution limit and the
 * uncaught-exception policy apply); run the loop; whenever it runs out of ref'd work emit
 * 'beforeExit' (listeners may schedule more work, which keeps the run going); then emit
 * 'exit' and return process.exitCode. process.exit() and fatal errors end the run early.
 */
#include "run.h"

#include "evl_duktape.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run_options {
    const char *eval_code; /* -e CODE */
    const char *script;    /* path, or "-" for stdin */
    int first_arg;         /* index in argv of the first script argument */
    uint64_t timeout_ms;
    uint64_t max_heap_mb;
    uint64_t max_runtime_ms;
    uint64_t max_timers;
    uint64_t max_microtasks;
    int sandbox;
    int log_level;              /* --log-level (default warn) */
    int log_format;             /* --log-format: EVL_LOG_FORMAT_*, 0 for the plain lines */
    int trace_timers;           /* --trace-timers */
    const char *metrics_listen; /* --metrics-listen=HOST:PORT */
};

/* --sandbox: defaults for untrusted scripts, each overridable by its own option. */
#define SANDBOX_HEAP_MB    128
#define SANDBOX_TIMEOUT_MS 1000
#define SANDBOX_RUNTIME_MS 30000
#define SANDBOX_TIMERS     10000
#define SANDBOX_MICROTASKS 1000000

static void usage(FILE *out)
{
    fputs("Usage: evljs [options] <file.js> [args...]\n"
          "       evljs [options] -e '<code>' [args...]\n"
          "       evljs [options] - [args...]        (script from stdin)\n"
          "\n"
          "Runs JavaScript (ES5.1 plus parts of ES2015, Duktape) on an evl event loop with\n"
          "Node.js-compatible timers, promises, process, console and require().\n"
          "\n"
          "Options:\n"
          "  -e, --eval CODE     run CODE instead of a file\n"
          "  --timeout-ms=N      interrupt any single callback running longer than N ms\n"
          "  --max-heap=MB       cap the JavaScript heap at MB megabytes\n"
          "  --max-runtime-ms=N  end the run (status 1) after N ms of wall time\n"
          "  --max-timers=N      at most N live timers and immediates\n"
          "  --max-microtasks=N  end the run when one checkpoint runs N microtasks\n"
          "  --sandbox           limits for untrusted code: --max-heap=128 --timeout-ms=1000\n"
          "                      --max-runtime-ms=30000 --max-timers=10000\n"
          "                      --max-microtasks=1000000 (each overridable)\n"
          "  --log-level=LEVEL   loop diagnostics at LEVEL and above on stderr: debug, info,\n"
          "                      warn (default), error or off\n"
          "  --log-format=FMT    structured records on stderr, one per line: json or logfmt\n"
          "  --trace-timers      log every timer's create, fire and clear (id, delay,\n"
          "                      repeat, nesting) at the selected level\n"
          "  --metrics-listen=HOST:PORT\n"
          "                      record loop metrics and serve them (Prometheus text) at\n"
          "                      http://HOST:PORT/metrics while the script runs (numeric\n"
          "                      IPv4 or [IPv6] host; port 0 picks one, printed on stderr)\n"
          "  -h, --help          print this help\n"
          "  -v, --version       print the version\n"
          "\n"
          "Environment: EVL_BACKEND=epoll|poll selects the I/O backend.\n",
          out);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) {
        return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || s[0] == '-') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* A syntax check of --metrics-listen before anything starts: "A.B.C.D:PORT" or
 * "[IPv6]:PORT", PORT 0-65535. What the address means is for evl_metrics_serve to say. */
static int valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s) {
        return 0;
    }
    uint64_t port;
    if (parse_u64(colon + 1, &port) != 0 || port > 65535) {
        return 0;
    }
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[') {
        return hl > 2 && s[hl - 1] == ']' && memchr(s + 1, ']', hl - 2) == NULL;
    }
    for (size_t i = 0; i < hl; i++) {
        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
            return 0;
        }
    }
    return 1;
}

/* The observability options: the loop's logger, the timer audit, the metrics endpoint.
 * Returns 0, 2 for an address the server rejects (a usage error), or 1. */
static int apply_observability(struct evl_loop *loop, const struct run_options *o)
{
    int rc = 0;
    if (o->log_format != 0) {
        rc = evl_logger_add_fd(loop, 2, (enum evl_log_format)o->log_format, o->log_level);
    }
    if (rc == 0 && o->trace_timers) {
        /* At the selected level, so the records print without lowering it. */
        int level = o->log_level < EVL_LOG_DEBUG   ? EVL_LOG_DEBUG
                    : o->log_level > EVL_LOG_ERROR ? EVL_LOG_ERROR
                                                   : o->log_level;
        rc = evl_log_timer_audit(loop, level);
    }
    if (rc != 0) {
        fprintf(stderr, "evljs: cannot set up logging: %s\n", evl_strerror(rc));
        return 1;
    }
    if (o->metrics_listen == NULL) {
        return 0;
    }
    rc = evl_metrics_enable(loop, NULL);
    if (rc == 0) {
        rc = evl_metrics_serve(loop, o->metrics_listen);
    }
    if (rc != 0) {
        fprintf(stderr, "evljs: cannot serve metrics on %s: %s\n", o->metrics_listen,
                evl_strerror(rc));
        return rc == EVL_EINVAL ? 2 : 1;
    }
    fprintf(stderr, "evljs: metrics on http://%.*s:%d/metrics\n",
            (int)(strrchr(o->metrics_listen, ':') - o->metrics_listen), o->metrics_listen,
            evl_metrics_serve_port(loop));
    return 0;
}

/* Returns 0, 1 when the process should end with status 0 (help/version), or 2 on a usage
 * error (already reported). */
static int parse_args(int argc, char **argv, struct run_options *o)
{
    memset(o, 0, sizeof(*o));
    o->log_level = EVL_LOG_WARN;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            printf("evljs %s (Duktape %ld.%ld.%ld)\n", evl_version(), (long)(DUK_VERSION / 10000),
                   (long)(DUK_VERSION / 100 % 100), (long)(DUK_VERSION % 100));
            return 1;
        }
        if (strcmp(a, "-e") == 0 || strcmp(a, "--eval") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "evljs: %s requires an argument\n", a);
                return 2;
            }
            o->eval_code = argv[++i];
            i++;
            break;
        }
        if (strncmp(a, "--timeout-ms=", 13) == 0) {
            if (parse_u64(a + 13, &o->timeout_ms) != 0 || o->timeout_ms > EVL_TIMER_DELAY_MAX) {
                fprintf(stderr, "evljs: invalid --timeout-ms value '%s'\n", a + 13);
                return 2;
            }
            continue;
        }
        if (strncmp(a, "--log-level=", 12) == 0) {
            if (evl_log_level_parse(a + 12, &o->log_level) != 0) {
                fprintf(stderr,
                        "evljs: invalid --log-level value '%s' (use debug, info, warn, error or "
                        "off)\n",
                        a + 12);
                return 2;
            }
            continue;
        }
        if (strncmp(a, "--log-format=", 13) == 0) {
            if (strcmp(a + 13, "json") == 0) {
                o->log_format = EVL_LOG_FORMAT_JSON;
            } else if (strcmp(a + 13, "logfmt") == 0) {
                o->log_format = EVL_LOG_FORMAT_LOGFMT;
            } else {
                fprintf(stderr, "evljs: invalid --log-format value '%s' (use json or logfmt)\n",
                        a + 13);
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--trace-timers") == 0) {
            o->trace_timers = 1;
            continue;
        }
        if (strncmp(a, "--metrics-listen=", 17) == 0) {
            if (!valid_listen(a + 17)) {
                fprintf(stderr,
                        "evljs: invalid --metrics-listen value '%s' (use HOST:PORT with a "
                        "numeric IPv4 or [IPv6] host)\n",
                        a + 17);
                return 2;
            }
            o->metrics_listen = a + 17;
            continue;
        }
        if (strcmp(a, "--sandbox") == 0) {
            o->sandbox = 1;
            continue;
        }
        if (strncmp(a, "--max-runtime-ms=", 17) == 0) {
            if (parse_u64(a + 17, &o->max_runtime_ms) != 0 || o->max_runtime_ms == 0 ||
                o->max_runtime_ms > EVL_TIMER_DELAY_MAX) {
                fprintf(stderr, "evljs: invalid --max-runtime-ms value '%s'\n", a + 17);
                return 2;
            }
            continue;
        }
        if (strncmp(a, "--max-timers=", 13) == 0) {
            if (parse_u64(a + 13, &o->max_timers) != 0 || o->max_timers == 0 ||
                o->max_timers > UINT32_MAX) {
                fprintf(stderr, "evljs: invalid --max-timers value '%s'\n", a + 13);
                return 2;
            }
            continue;
        }
        if (strncmp(a, "--max-microtasks=", 17) == 0) {
            if (parse_u64(a + 17, &o->max_microtasks) != 0 || o->max_microtasks == 0 ||
                o->max_microtasks > UINT32_MAX) {
                fprintf(stderr, "evljs: invalid --max-microtasks value '%s'\n", a + 17);
                return 2;
            }
            continue;
        }
        if (strncmp(a, "--max-heap=", 11) == 0) {
            if (parse_u64(a + 11, &o->max_heap_mb) != 0 || o->max_heap_mb == 0 ||
                o->max_heap_mb > ((uint64_t)1 << 40)) {
                fprintf(stderr, "evljs: invalid --max-heap value '%s'\n", a + 11);
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--") == 0) {
            i++;
            if (i < argc) {
                o->script = argv[i++];
            }
            break;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "evljs: bad option: %s\n", a);
            usage(stderr);
            return 2;
        }
        o->script = a;
        i++;
        break;
    }
    o->first_arg = i;
    if (!o->eval_code && !o->script) {
        usage(stderr);
        return 2;
    }
    if (o->sandbox) {
        o->max_heap_mb = o->max_heap_mb ? o->max_heap_mb : SANDBOX_HEAP_MB;
        o->timeout_ms = o->timeout_ms ? o->timeout_ms : SANDBOX_TIMEOUT_MS;
        o->max_runtime_ms = o->max_runtime_ms ? o->max_runtime_ms : SANDBOX_RUNTIME_MS;
        o->max_timers = o->max_timers ? o->max_timers : SANDBOX_TIMERS;
        o->max_microtasks = o->max_microtasks ? o->max_microtasks : SANDBOX_MICROTASKS;
    }
    return 0;
}

/* The sandbox limits of the options (0: not set). */
static int apply_limits(duk_context *ctx, const struct run_options *o)
{
    if (o->timeout_ms && evl_duk_set_exec_limit(ctx, o->timeout_ms) != 0) {
        return -1;
    }
    if (o->max_runtime_ms && evl_duk_set_max_runtime(ctx, o->max_runtime_ms) != 0) {
        return -1;
    }
    if (o->max_timers && evl_duk_set_max_timers(ctx, (uint32_t)o->max_timers) != 0) {
        return -1;
    }
    if (o->max_microtasks && evl_duk_set_max_microtasks(ctx, (uint32_t)o->max_microtasks) != 0) {
        return -1;
    }
    return 0;
}

static int read_stdin(char **out)
{
    size_t cap = 4096, len = 0;
    char *buf = evl_malloc(cap);
    if (!buf) {
        return EVL_ENOMEM;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = evl_realloc(buf, cap * 2);
            if (!nb) {
                evl_free(buf);
                return EVL_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) {
            break;
        }
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* Runs the main script as one guarded entry. Returns 0, or an EVL_E* on setup failure. */
static int run_main(duk_context *ctx, const struct run_options *o)
{
    if (!o->eval_code && strcmp(o->script, "-") != 0) {
        int rc = evl_duk_run_main(ctx, o->script);
        return rc == EVL_EEXCEPTION || rc == EVL_ECLOSED ? 0 : rc;
    }
    char *source = NULL;
    if (!o->eval_code) {
        int rc = read_stdin(&source);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = evl_duk_run_eval(ctx, o->eval_code ? o->eval_code : source,
                              o->eval_code ? "[eval]" : "[stdin]");
    evl_free(source);
    return rc == EVL_EEXCEPTION || rc == EVL_ECLOSED ? 0 : rc;
}

/* The state of the end-of-process sequence. */
struct run {
    duk_context *ctx;
    struct evl_loop *loop;
    int before_exit_more; /* 'beforeExit' listeners left ref'd work behind */
};

static int terminated(const struct run *r)
{
    return evl_duk_terminated(r->ctx, NULL) == 1;
}

/* Runs after the 'beforeExit' task and its checkpoint: is there more to do (Node asks
 * uv_loop_alive at this point; jobs queued by the listeners have already run)? */
static void before_exit_check(struct evl_loop *loop, void *arg)
{
    struct run *r = arg;
    r->before_exit_more = evl_loop_alive(loop);
}

/* Emits 'beforeExit' as a loop callback, so the checkpoint after it runs the jobs its
 * listeners queue, exactly as for any other callback. */
static void before_exit_task(struct evl_loop *loop, void *arg)
{
    struct run *r = arg;
    duk_push_int(r->ctx, evl_duk_exit_code(r->ctx));
    int rc = evl_duk_emit(r->ctx, "beforeExit", 1);
    if (rc == EVL_EEXCEPTION && !terminated(r)) {
        /* Node emits 'beforeExit' again when a listener threw and 'uncaughtException'
         * handled the error: the interrupted emission does not count as the loop's end. */
        r->before_exit_more = 1;
        return;
    }
    if (!terminated(r) && evl_loop_submit(loop, before_exit_check, r) != 0) {
        r->before_exit_more = 0;
    }
}

/* Runs the loop until no ref'd work is left, with Node's 'beforeExit' semantics: emitted
 * each time the loop runs dry; if its listeners leave ref'd work behind, the run goes on
 * and 'beforeExit' comes again when that work is done. */
static void run_loop(struct run *r)
{
    while (!terminated(r)) {
        int rc = evl_loop_run(r->loop, EVL_RUN_DEFAULT);
        if (rc < 0 || terminated(r)) {
            break;
        }
        r->before_exit_more = 0;
        if (evl_loop_submit(r->loop, before_exit_task, r) != 0) {
            break;
        }
        rc = evl_loop_run(r->loop, EVL_RUN_DEFAULT);
        if (rc < 0 || terminated(r) || !r->before_exit_more) {
            break;
        }
    }
}

static int apply_backend(struct evl_loop_options *lo)
{
    const char *b = getenv("EVL_BACKEND");
    if (!b || !*b || strcmp(b, "default") == 0) {
        return 0;
    }
    if (strcmp(b, "epoll") == 0) {
        lo->backend = EVL_BACKEND_EPOLL;
    } else if (strcmp(b, "poll") == 0) {
        lo->backend = EVL_BACKEND_POLL;
    } else {
        fprintf(stderr, "evljs: unknown EVL_BACKEND '%s' (use epoll or poll)\n", b);
        return -1;
    }
    return 0;
}

static int set_argv(duk_context *ctx, int argc, char **argv, const struct run_options *o)
{
    char abs[4096];
    int n = 0;
    int extra = argc - o->first_arg;
    char **v = evl_calloc((size_t)extra + 2, sizeof(*v));
    if (!v) {
        return EVL_ENOMEM;
    }
    v[n++] = argv[0];
    if (!o->eval_code && strcmp(o->script, "-") != 0) {
        if (o->script[0] != '/' && realpath(o->script, abs)) {
            v[n++] = abs;
        } else {
            v[n++] = (char *)(uintptr_t)o->script;
        }
    }
    for (int i = o->first_arg; i < argc; i++) {
        v[n++] = argv[i];
    }
    int rc = evl_duk_set_argv(ctx, n, v);
    evl_free(v);
    return rc;
}

int evljs_main(int argc, char **argv)
{
    /* As Node: a write to a closed pipe fails with EPIPE instead of killing the process. */
    signal(SIGPIPE, SIG_IGN);
    struct run_options o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0) {
        return prc == 1 ? 0 : 2;
    }
    struct evl_loop_options lo;
    evl_loop_options_init(&lo);
    lo.log_level = o.log_level;
    if (apply_backend(&lo) != 0) {
        return 2;
    }
    struct evl_loop *loop = NULL;
    int rc = evl_loop_new(&loop, &lo);
    if (rc != 0) {
        fprintf(stderr, "evljs: cannot create the loop: %s\n", evl_strerror(rc));
        return 1;
    }
    int orc = apply_observability(loop, &o);
    if (orc != 0) {
        (void)evl_loop_free(loop);
        return orc;
    }
    struct evl_duk_heap_options ho;
    evl_duk_heap_options_init(&ho);
    ho.max_heap_bytes = o.max_heap_mb << 20;
    duk_context *ctx = NULL;
    int status = 1;
    rc = evl_duk_heap_new(&ctx, &ho);
    if (rc != 0) {
        fprintf(stderr, "evljs: cannot create a JavaScript heap: %s\n", evl_strerror(rc));
        goto free_loop;
    }
    rc = evl_duk_install(ctx, loop, EVL_DUK_NODE_GLOBALS | EVL_DUK_WEB);
    if (rc != 0) {
        fprintf(stderr, "evljs: cannot install the runtime: %s\n", evl_strerror(rc));
        goto free_heap;
    }
    /* The command line is a process: an uncaught error ends it, as in Node. */
    (void)evl_duk_set_error_policy(ctx, EVL_DUK_POLICY_NODE, NULL, NULL);
    if (evl_duk_install_require(ctx) != 0 || set_argv(ctx, argc, argv, &o) != 0 ||
        apply_limits(ctx, &o) != 0) {
        fprintf(stderr, "evljs: cannot set up the runtime\n");
        goto free_heap;
    }
    rc = run_main(ctx, &o);
    if (rc != 0) {
        fprintf(stderr, "evljs: %s\n", evl_strerror(rc));
        goto free_heap;
    }
    struct run r = {ctx, loop, 0};
    run_loop(&r);
    (void)evl_duk_exit(ctx, &status);
free_heap:
    fflush(stdout);
    /* The loop ends while the heap is still there: what it drops (queued jobs, promise
     * reactions) is released into a live binding, which then frees it all. */
    if (evl_loop_state(loop) != EVL_LOOP_TERMINATED) {
        (void)evl_loop_close(loop);
        (void)evl_loop_run(loop, EVL_RUN_NOWAIT);
    }
    evl_duk_heap_free(ctx);
free_loop:
    if (evl_loop_free(loop) != 0) {
        (void)evl_loop_close(loop);
        (void)evl_loop_run(loop, EVL_RUN_NOWAIT);
        (void)evl_loop_free(loop);
    }
    return status;
}

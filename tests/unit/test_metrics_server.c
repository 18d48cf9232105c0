/* The Prometheus endpoint served on the loop: status codes, framing, keep-alive, limits,
 * slow clients, many scrapers, and the text format itself (curl + promtool when present).
 * The loop runs on its own thread; the test is the client. */
#include "evl_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct server {
    struct evl_loop *loop;
    pthread_t thread;
    int port;
};

static void *run_loop(void *arg)
{
    struct server *s = arg;
    int rc = evl_loop_run(s->loop, EVL_RUN_DEFAULT);
    return (void *)(intptr_t)rc;
}

static void serve_start(struct server *s, const struct evl_metrics_serve_options *o)
{
    memset(s, 0, sizeof(*s));
    ASSERT_OK(evl_loop_new(&s->loop, NULL));
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    mo.name = "test \"a\"";
    ASSERT_OK(evl_metrics_enable(s->loop, &mo));
    ASSERT_OK(evl_metrics_serve_ex(s->loop, "127.0.0.1:0", o));
    s->port = evl_metrics_serve_port(s->loop);
    ASSERT_GT(s->port, 0);
    ASSERT_OK(evl_loop_ref(s->loop));
    ASSERT_EQ(pthread_create(&s->thread, NULL, run_loop, s), 0);
}

static void stop_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_metrics_serve_stop(loop));
    ASSERT_OK(evl_loop_unref(loop));
}

static void serve_finish(struct server *s)
{
    ASSERT_OK(evl_loop_submit(s->loop, stop_task, NULL));
    void *rc = NULL;
    pthread_join(s->thread, &rc);
    ASSERT_EQ((intptr_t)rc, 0);
    ASSERT_OK(evl_loop_free(s->loop));
}

struct stats_req {
    struct evl_metrics_serve_stats st;
    _Atomic int done;
};

static void stats_task(struct evl_loop *loop, void *arg)
{
    struct stats_req *r = arg;
    ASSERT_OK(evl_metrics_serve_stats(loop, &r->st));
    atomic_store(&r->done, 1);
}

/* The server's counters, read on the loop thread. */
static void server_stats(struct server *s, struct evl_metrics_serve_stats *out)
{
    struct stats_req r;
    memset(&r, 0, sizeof(r));
    ASSERT_OK(evl_loop_submit(s->loop, stats_task, &r));
    while (!atomic_load(&r.done)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    *out = r.st;
}

static int client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return; /* the server may close first (it answered already) */
        }
        s += w;
        n -= (size_t)w;
    }
}

struct response {
    int status;
    char headers[2048];
    char *body;
    size_t body_len;
    int closed; /* the server closed after it */
};

/* Reads one response (head + Content-Length body); status 0 if the connection closed
 * without one. */
static void read_response(int fd, struct response *r, int head_only)
{
    char buf[4096];
    memset(r, 0, sizeof(*r));
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        ASSERT_LT(len + 1, sizeof(buf));
        ssize_t n = recv(fd, buf + len, 1, 0); /* byte by byte: never read past one response */
        if (n <= 0) {
            r->closed = 1;
            return;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t hl = (size_t)(end - buf) + 4;
    ASSERT_LT(hl, sizeof(r->headers));
    memcpy(r->headers, buf, hl);
    r->headers[hl] = '\0';
    ASSERT_EQ(sscanf(buf, "HTTP/1.1 %d", &r->status), 1);
    const char *cl = strstr(r->headers, "Content-Length: ");
    ASSERT_NOT_NULL(cl);
    size_t want = strtoul(cl + 16, NULL, 10);
    if (head_only) {
        want = 0;
    }
    r->body = malloc(want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t n = recv(fd, r->body + got, want - got, 0);
        ASSERT_GT(n, 0);
        got += (size_t)n;
    }
    r->body[got] = '\0';
    r->body_len = got;
}

/* After a response marked close: the server closes the connection. */
static int peer_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void request(int port, const char *req, struct response *r)
{
    int fd = client(port);
    send_all(fd, req, strlen(req));
    read_response(fd, r, strncmp(req, "HEAD", 4) == 0);
    close(fd);
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"

TEST(get_metrics_200)
{
    struct server s;
    serve_start(&s, NULL);
    struct response r;
    request(s.port, GET_METRICS, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(
        strstr(r.headers, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    ASSERT_NOT_NULL(strstr(r.headers, "Connection: keep-alive\r\n"));
    ASSERT_NOT_NULL(strstr(r.body, "# TYPE evl_callbacks_total counter\n"));
    ASSERT_NOT_NULL(strstr(r.body, "evl_callbacks_total{loop=\"test \\\"a\\\"\",kind=\"timer\"} "));
    ASSERT_NOT_NULL(
        strstr(r.body, "evl_loop_delay_seconds_bucket{loop=\"test \\\"a\\\"\",le=\"+Inf\"}"));
    ASSERT_EQ(r.body[r.body_len - 1], '\n');
    free(r.body);
    request(s.port, "GET /metrics?debug=1 HTTP/1.0\r\n\r\n", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.headers, "Connection: close\r\n"));
    free(r.body);
    serve_finish(&s);
}

TEST(head_404_405)
{
    struct server s;
    serve_start(&s, NULL);
    struct response r;
    request(s.port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_UEQ(r.body_len, 0);
    ASSERT_NULL(strstr(r.headers, "Content-Length: 0\r\n")); /* the GET body's length */
    free(r.body);
    request(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ASSERT_EQ(r.status, 404);
    free(r.body);
    request(s.port, "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ASSERT_EQ(r.status, 404);
    free(r.body);
    request(s.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_NOT_NULL(strstr(r.headers, "Allow: GET, HEAD\r\n"));
    free(r.body);
    request(s.port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    ASSERT_EQ(r.status, 405);
    free(r.body);
    serve_finish(&s);
}

static const struct {
    const char *req;
    int status;
} malformed[] = {
    {"GARBAGE\r\n\r\n", 400},
    {"GET /metrics\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\n\r\n", 400}, /* no Host */
    {"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
     400},
    {"GET /metrics HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400},
    {"GET /metrics HTTP/1.1\r\nHost: x\001y\r\n\r\n", 400},
    {"GET /met\001rics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n", 400},
    {"GET /metrics http/1.1\r\nHost: x\r\n\r\n", 400},
    {"\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 413},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413},
};

TEST(malformed_requests_rejected)
{
    struct server s;
    serve_start(&s, NULL);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        int fd = client(s.port);
        send_all(fd, malformed[i].req, strlen(malformed[i].req));
        struct response r;
        read_response(fd, &r, 0);
        if (r.status != malformed[i].status) {
            evl_test_fail(__FILE__, __LINE__, "case %zu: status %d, expected %d", i, r.status,
                          malformed[i].status);
        }
        ASSERT_NOT_NULL(strstr(r.headers, "Connection: close\r\n"));
        ASSERT_TRUE(peer_closed(fd));
        free(r.body);
        close(fd);
    }
    /* The server is still healthy. */
    struct response r;
    request(s.port, GET_METRICS, &r);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    serve_finish(&s);
}

TEST(oversize_head_431)
{
    struct server s;
    struct evl_metrics_serve_options o;
    evl_metrics_serve_options_init(&o);
    o.max_request_bytes = 1024;
    serve_start(&s, &o);
    char big[4096];
    int n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    memset(big + n, 'a', sizeof(big) - (size_t)n - 1);
    big[sizeof(big) - 1] = '\0';
    int fd = client(s.port);
    send_all(fd, big, strlen(big)); /* never ends its head */
    struct response r;
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 431);
    ASSERT_TRUE(peer_closed(fd));
    free(r.body);
    close(fd);
    serve_finish(&s);
}

TEST(keep_alive_and_pipelining)
{
    struct server s;
    serve_start(&s, NULL);
    int fd = client(s.port);
    struct response r;
    for (int i = 0; i < 3; i++) {
        send_all(fd, GET_METRICS, strlen(GET_METRICS));
        read_response(fd, &r, 0);
        ASSERT_EQ(r.status, 200);
        ASSERT_NOT_NULL(strstr(r.headers, "Connection: keep-alive\r\n"));
        free(r.body);
    }
    /* Three requests in one segment, the last asking to close. */
    const char *three = GET_METRICS "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                                    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(fd, three, strlen(three));
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 404);
    free(r.body);
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.headers, "Connection: close\r\n"));
    free(r.body);
    ASSERT_TRUE(peer_closed(fd));
    close(fd);
    serve_finish(&s);
}

TEST(slow_clients_timed_out) /* labels: real-time */
{
    struct server s;
    struct evl_metrics_serve_options o;
    evl_metrics_serve_options_init(&o);
    o.request_timeout_ms = 200;
    o.idle_timeout_ms = 300;
    serve_start(&s, &o);
    uint64_t t0 = mono_ns();
    /* slowloris: a head that trickles in and never ends */
    int slow = client(s.port);
    send_all(slow, "GET /met", 8);
    int idle = client(s.port);
    /* Meanwhile a normal scraper is served at once: the loop is not blocked. */
    struct response r;
    request(s.port, GET_METRICS, &r);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    send_all(slow, "ri", 2);
    read_response(slow, &r, 0);
    ASSERT_EQ(r.status, 408);
    ASSERT_TRUE(peer_closed(slow));
    uint64_t t1 = mono_ns();
    ASSERT_UGE(t1 - t0, 150000000);
    ASSERT_ULT(t1 - t0, 5000000000u);
    ASSERT_TRUE(peer_closed(idle)); /* idle keep-alive connection: closed silently */
    free(r.body);
    close(slow);
    close(idle);
    serve_finish(&s);
}

TEST(connection_limit)
{
    struct server s;
    struct evl_metrics_serve_options o;
    evl_metrics_serve_options_init(&o);
    o.max_connections = 2;
    serve_start(&s, &o);
    int a = client(s.port);
    int b = client(s.port);
    struct response r;
    send_all(a, GET_METRICS, strlen(GET_METRICS)); /* both are accepted by now */
    read_response(a, &r, 0);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    send_all(b, GET_METRICS, strlen(GET_METRICS));
    read_response(b, &r, 0);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    int c = client(s.port);
    ASSERT_TRUE(peer_closed(c));
    struct evl_metrics_serve_stats st;
    server_stats(&s, &st);
    ASSERT_UEQ(st.accepted, 2);
    ASSERT_UEQ(st.rejected, 1);
    ASSERT_UEQ(st.open, 2);
    ASSERT_UEQ(st.requests, 2);
    ASSERT_UEQ(st.status_2xx, 2);
    close(c);
    close(a);
    close(b);
    serve_finish(&s);
}

struct scraper {
    int port;
    int ok;
};

static void *scrape(void *arg)
{
    struct scraper *sc = arg;
    int fd = client(sc->port);
    for (int i = 0; i < 5; i++) {
        send_all(fd, GET_METRICS, strlen(GET_METRICS));
        struct response r;
        read_response(fd, &r, 0);
        if (r.status == 200 && strstr(r.body, "evl_loop_utilization_ratio{") != NULL) {
            sc->ok++;
        }
        free(r.body);
    }
    close(fd);
    return NULL;
}

TEST(fifty_concurrent_scrapers)
{
    struct server s;
    serve_start(&s, NULL);
    enum { N = 50 };
    struct scraper sc[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        sc[i].port = s.port;
        sc[i].ok = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, scrape, &sc[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(sc[i].ok, 5);
    }
    serve_finish(&s);
}

TEST(promtool_accepts_the_scrape)
{
    if (system("command -v curl >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1") != 0) {
        TEST_SKIP("curl or promtool (Debian package prometheus) not installed");
    }
    struct server s;
    serve_start(&s, NULL);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "curl -sS --fail -o /dev/null -w '%%{content_type}' "
             "http://127.0.0.1:%d/metrics",
             s.port);
    FILE *p = popen(cmd, "r");
    ASSERT_NOT_NULL(p);
    char ctype[256] = {0};
    ASSERT_NOT_NULL(fgets(ctype, sizeof(ctype), p));
    ASSERT_EQ(pclose(p), 0);
    ASSERT_STR_EQ(ctype, EVL_METRICS_CONTENT_TYPE);
    snprintf(cmd, sizeof(cmd),
             "curl -sS --fail http://127.0.0.1:%d/metrics | promtool check metrics 2>&1", s.port);
    p = popen(cmd, "r");
    ASSERT_NOT_NULL(p);
    char out[4096] = {0};
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    int st = pclose(p);
    if (st != 0 || n != 0) {
        evl_test_fail(__FILE__, __LINE__, "promtool: status %d: %s", st, out);
    }
    snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/x",
             s.port);
    p = popen(cmd, "r");
    char code[16] = {0};
    ASSERT_NOT_NULL(fgets(code, sizeof(code), p));
    pclose(p);
    ASSERT_STR_EQ(code, "404");
    serve_finish(&s);
}

static void *serve_from_thread(void *arg)
{
    return (void *)(intptr_t)evl_metrics_serve(arg, "127.0.0.1:0");
}

TEST(serve_errors)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(NULL, "127.0.0.1:0"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "localhost:80"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "127.0.0.1"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "127.0.0.1:99999"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "[::1:80"));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_serve_port(loop));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_serve_stop(loop));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, serve_from_thread, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    ASSERT_OK(evl_metrics_serve(loop, "127.0.0.1:0"));
    int port = evl_metrics_serve_port(loop);
    ASSERT_ERR(EVL_EEXIST, evl_metrics_serve(loop, "127.0.0.1:0"));
    struct evl_loop *other = NULL;
    ASSERT_OK(evl_loop_new(&other, NULL));
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    ASSERT_ERR(EVL_ESYS(EADDRINUSE), evl_metrics_serve(other, addr));
    ASSERT_OK(evl_loop_free(other));
    /* Serving does not keep the loop alive, and the loop's teardown stops the server. */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(serve_ipv6) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    int rc = evl_metrics_serve(loop, "[::1]:0");
    if (rc == EVL_ESYS(EADDRNOTAVAIL) || rc == EVL_ESYS(EAFNOSUPPORT)) {
        ASSERT_OK(evl_loop_free(loop));
        TEST_SKIP("no IPv6 loopback here");
    }
    ASSERT_OK(rc);
    ASSERT_GT(evl_metrics_serve_port(loop), 0);
    ASSERT_OK(evl_metrics_serve_stop(loop));
    ASSERT_OK(evl_loop_free(loop));
}

static void unref_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_unref(loop));
}

TEST(teardown_closes_open_connections)
{
    struct server s;
    serve_start(&s, NULL);
    int fd = client(s.port);
    send_all(fd, GET_METRICS, strlen(GET_METRICS));
    struct response r;
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    int idle = client(s.port); /* accepted, never sends */
    /* Open connections keep nothing alive: dropping the test's ref ends the run. */
    ASSERT_OK(evl_loop_submit(s.loop, unref_task, NULL));
    void *rc = NULL;
    pthread_join(s.thread, &rc);
    ASSERT_EQ((intptr_t)rc, 0);
    ASSERT_OK(evl_loop_free(s.loop)); /* teardown stops the server, closing both */
    ASSERT_TRUE(peer_closed(fd));
    ASSERT_TRUE(peer_closed(idle));
    close(fd);
    close(idle);
}

TEST(deep_pipelining)
{
    struct server s;
    serve_start(&s, NULL);
    enum { N = 250 };
    static const char one[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    char *all = malloc(N * (sizeof(one) - 1) + 1);
    for (int i = 0; i < N; i++) {
        memcpy(all + (size_t)i * (sizeof(one) - 1), one, sizeof(one) - 1);
    }
    int fd = client(s.port);
    send_all(fd, all, N * (sizeof(one) - 1)); /* one buffer's worth, answered in order */
    for (int i = 0; i < N; i++) {
        struct response r;
        read_response(fd, &r, 0);
        ASSERT_EQ(r.status, 404);
        free(r.body);
    }
    send_all(fd, GET_METRICS, strlen(GET_METRICS));
    struct response r;
    read_response(fd, &r, 0);
    ASSERT_EQ(r.status, 200);
    free(r.body);
    free(all);
    close(fd);
    serve_finish(&s);
}

/*
 * The metrics endpoint: a small HTTP/1.1 server that runs on the loop it reports on,
 * through the public fd and timer API, with non-blocking sockets only, so a client can
 * never block the loop.
 *
 * Each connection is bounded in every dimension a hostile client controls: bytes of a
 * request head (431 past max_request_bytes), time to deliver a whole request head
 * (request_timeout_ms from its first byte: a slowloris client gets 408 and is closed),
 * time idle between requests (idle_timeout_ms), time to take a response (the same
 * request timeout while output is pending: a client that stops reading is closed),
 * requests per connection, and connections per server (past max_connections new ones are
 * closed at once). A connection reads nothing while its response is pending, so pipelined
 * requests wait in the kernel's buffer and memory per connection is one head plus one
 * response.
 */
#include "core/metrics/http_parse.h"
#include "core/metrics/metrics_internal.h"

#include "evl/errno.h"
#include "evl/io.h"
#include "evl/timer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    struct evl__metrics_server *srv;
    struct conn *prev, *next;
    int fd;
    uint64_t timer;    /* deadline timer id, 0 if none */
    int writing;       /* a response is pending: interest is WRITABLE */
    int close_after;   /* close once the response is out */
    int in_request;    /* bytes of a request arrived: the request deadline applies */
    uint32_t requests; /* answered on this connection */
    size_t inlen;
    char *in; /* max_request_bytes */
    char *out;
    size_t outlen, outoff;
};

struct evl__metrics_server {
    struct evl_loop *loop;
    struct evl_metrics_serve_options o;
    int lfd;
    int port;
    struct conn *conns;
    struct evl_metrics_serve_stats st;
    char *scratch; /* the rendered body, reused */
    size_t scratch_cap;
};

static void conn_close(struct conn *c)
{
    struct evl__metrics_server *srv = c->srv;
    struct evl_loop *loop = srv->loop;
    (void)evl_fd_stop(loop, c->fd);
    close(c->fd);
    if (c->timer != 0) {
        (void)evl_timer_clear(loop, c->timer);
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    srv->st.open--;
    evl__loop_free(loop, c->out);
    evl__loop_free(loop, c->in);
    evl__loop_free(loop, c);
}

static void on_deadline(struct evl_loop *loop, uint64_t id, void *arg);

static int arm(struct conn *c, uint32_t ms)
{
    struct evl_loop *loop = c->srv->loop;
    if (c->timer != 0) {
        (void)evl_timer_clear(loop, c->timer);
        c->timer = 0;
    }
    uint64_t id = 0;
    int rc = evl_timer_set(loop, on_deadline, c, ms, 0, &id);
    if (rc != 0) {
        return rc;
    }
    (void)evl_timer_unref(loop, id);
    c->timer = id;
    return 0;
}

/* Sends what is pending; 1 when all of it is out, 0 if the socket is full, -1 on error. */
static int flush(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n > 0) {
            c->outoff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
    return 1;
}

/* Results of respond and response_done. */
enum { CONN_CLOSED = -1, CONN_READY = 0, CONN_SENDING = 1 };

/* After a response went out: close, or wait for the next request (CONN_READY: the caller
 * answers a pipelined request already read, if any). */
static int response_done(struct conn *c)
{
    evl__loop_free(c->srv->loop, c->out);
    c->out = NULL;
    c->outlen = c->outoff = 0;
    if (c->close_after) {
        conn_close(c);
        return CONN_CLOSED;
    }
    if (c->writing) {
        c->writing = 0;
        if (evl_fd_modify(c->srv->loop, c->fd, EVL_READABLE) != 0) {
            conn_close(c);
            return CONN_CLOSED;
        }
    }
    c->in_request = c->inlen > 0;
    if (arm(c, c->in_request ? c->srv->o.request_timeout_ms : c->srv->o.idle_timeout_ms) != 0) {
        conn_close(c);
        return CONN_CLOSED;
    }
    return CONN_READY;
}

/* Queues a response and starts sending it. body may be NULL (len 0, or HEAD). */
static int respond(struct conn *c, int status, const char *ctype, const char *body, size_t body_len,
                   int send_body, const char *extra)
{
    struct evl__metrics_server *srv = c->srv;
    struct evl_loop *loop = srv->loop;
    c->requests++;
    if (status >= 400 && status != 404 && status != 405) {
        c->close_after = 1; /* framing or limits broken: the stream cannot be trusted */
    }
    if (c->requests >= srv->o.max_requests) {
        c->close_after = 1;
    }
    srv->st.requests++;
    if (status < 300) {
        srv->st.status_2xx++;
    } else if (status < 500) {
        srv->st.status_4xx++;
    } else {
        srv->st.status_5xx++;
    }
    char head[512];
    int hn = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Cache-Control: no-store\r\nConnection: %s\r\n%s\r\n",
                      status, evl__http_reason(status), ctype, body_len,
                      c->close_after ? "close" : "keep-alive", extra ? extra : "");
    size_t blen = send_body ? body_len : 0;
    c->out = evl__loop_malloc(loop, (size_t)hn + blen);
    if (c->out == NULL) {
        conn_close(c);
        return CONN_CLOSED;
    }
    memcpy(c->out, head, (size_t)hn);
    if (blen != 0) {
        memcpy(c->out + hn, body, blen);
    }
    c->outlen = (size_t)hn + blen;
    c->outoff = 0;
    int r = flush(c);
    if (r < 0) {
        conn_close(c);
        return CONN_CLOSED;
    }
    if (r == 1) {
        return response_done(c);
    }
    c->writing = 1;
    if (evl_fd_modify(loop, c->fd, EVL_WRITABLE) != 0 || arm(c, srv->o.request_timeout_ms) != 0) {
        conn_close(c);
        return CONN_CLOSED;
    }
    return CONN_SENDING;
}

static int respond_text(struct conn *c, int status, const char *text, const char *extra)
{
    return respond(c, status, "text/plain; charset=utf-8", text, strlen(text), 1, extra);
}

static int render_metrics(struct evl__metrics_server *srv, size_t *len)
{
    for (;;) {
        size_t need = 0;
        int n = evl__metrics_render(srv->loop, srv->scratch, srv->scratch_cap, &need);
        if (n >= 0) {
            *len = (size_t)n;
            return 0;
        }
        if (n != EVL_ERANGE) {
            return n;
        }
        char *p = evl__loop_realloc(srv->loop, srv->scratch, need + need / 4);
        if (p == NULL) {
            return EVL_ENOMEM;
        }
        srv->scratch = p;
        srv->scratch_cap = need + need / 4;
    }
}

/* Answers the request at the start of c->in if it is complete. CONN_READY: the
 * connection can take another request (what is left of c->in is its start). */
static int answer_one(struct conn *c)
{
    struct evl__metrics_server *srv = c->srv;
    struct evl__http_request req;
    int r = evl__http_parse(c->in, c->inlen, srv->o.max_request_bytes, &req);
    if (r == EVL__HTTP_INCOMPLETE) {
        return CONN_SENDING; /* nothing to answer yet: wait for more bytes */
    }
    if (r == EVL__HTTP_BAD) {
        c->inlen = 0;
        return respond_text(c, req.status, evl__http_reason(req.status), NULL);
    }
    int found = req.path_len == 8 && memcmp(req.path, "/metrics", 8) == 0;
    /* Keep what followed the head (a pipelined request) for after the response; req's
     * pointers into the buffer are stale from here on. */
    memmove(c->in, c->in + req.head_len, c->inlen - req.head_len);
    c->inlen -= req.head_len;
    if (!req.keep_alive) {
        c->close_after = 1;
    }
    if (req.method == EVL__HTTP_OTHER) {
        return respond_text(c, 405, "Method Not Allowed\n", "Allow: GET, HEAD\r\n");
    }
    if (!found) {
        return respond_text(c, 404, "Not Found\n", NULL);
    }
    size_t len = 0;
    if (render_metrics(srv, &len) != 0) {
        c->close_after = 1;
        return respond_text(c, 500, "Internal Server Error\n", NULL);
    }
    return respond(c, 200, EVL_METRICS_CONTENT_TYPE, srv->scratch, len, req.method == EVL__HTTP_GET,
                   NULL);
}

/* Answers every complete request read so far, in order, one at a time: a loop rather than
 * recursion, so pipelined requests cost no stack. Stops at an incomplete request, a
 * response still being sent, or a closed connection. */
static void process(struct conn *c)
{
    while (c->inlen > 0 && answer_one(c) == CONN_READY) {
    }
}

static void on_conn(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    struct conn *c = arg;
    if (status != 0) {
        conn_close(c);
        return;
    }
    if (c->writing) {
        int r = flush(c);
        if (r < 0) {
            conn_close(c);
        } else if (r == 1 && response_done(c) == CONN_READY) {
            process(c); /* pipelined requests read before the response went out */
        }
        return;
    }
    if (events & (EVL_READABLE | EVL_HANGUP | EVL_ERROR)) {
        size_t room = c->srv->o.max_request_bytes - c->inlen;
        if (room == 0) {
            process(c); /* full: the parser answers 431 */
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->inlen, room, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            return;
        }
        if (!c->in_request) {
            c->in_request = 1;
            if (arm(c, c->srv->o.request_timeout_ms) != 0) {
                conn_close(c);
                return;
            }
        }
        c->inlen += (size_t)n;
        process(c);
    }
}

static void on_deadline(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    struct conn *c = arg;
    c->timer = 0;
    c->srv->st.timeouts++;
    if (c->writing || !c->in_request) {
        conn_close(c); /* a client that does not read, or an idle keep-alive connection */
        return;
    }
    c->inlen = 0;
    c->close_after = 1;
    (void)respond_text(c, 408, "Request Timeout\n", NULL);
}

static void accept_one(struct evl__metrics_server *srv, int fd)
{
    struct evl_loop *loop = srv->loop;
    if (srv->st.open >= srv->o.max_connections) {
        srv->st.rejected++;
        close(fd);
        return;
    }
    struct conn *c = evl__loop_malloc(loop, sizeof(*c));
    char *in = evl__loop_malloc(loop, srv->o.max_request_bytes);
    if (c == NULL || in == NULL) {
        evl__loop_free(loop, c);
        evl__loop_free(loop, in);
        close(fd);
        return;
    }
    memset(c, 0, sizeof(*c));
    c->srv = srv;
    c->fd = fd;
    c->in = in;
    if (evl_fd_start(loop, fd, EVL_READABLE, on_conn, c) != 0) {
        evl__loop_free(loop, in);
        evl__loop_free(loop, c);
        close(fd);
        return;
    }
    (void)evl_fd_unref(loop, fd);
    c->next = srv->conns;
    if (srv->conns != NULL) {
        srv->conns->prev = c;
    }
    srv->conns = c;
    srv->st.open++;
    srv->st.accepted++;
    if (arm(c, srv->o.idle_timeout_ms) != 0) {
        conn_close(c);
    }
}

static void on_listen(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)events;
    struct evl__metrics_server *srv = arg;
    if (status != 0) {
        return;
    }
    /* A bounded batch per callback, so a connection flood cannot starve the loop. */
    for (int i = 0; i < 64; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                evl_log(loop, EVL_LOG_WARN, "metrics", "accept failed: %s",
                        evl_strerror(evl_err_from_errno(errno)));
            }
            return;
        }
        accept_one(srv, cfd);
    }
}

/* "HOST:PORT" with a numeric IPv4 host or a bracketed IPv6 one. */
static int parse_address(const char *address, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon;
    const char *h = address;
    size_t hl;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':') {
            return EVL_EINVAL;
        }
        h = address + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL) {
            return EVL_EINVAL;
        }
        hl = (size_t)(colon - address);
    }
    if (hl == 0 || hl >= sizeof(host)) {
        return EVL_EINVAL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *p = colon + 1;
    if (*p == '\0') {
        return EVL_EINVAL;
    }
    unsigned long port = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            return EVL_EINVAL;
        }
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535) {
            return EVL_EINVAL;
        }
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
    } else {
        return EVL_EINVAL;
    }
    return 0;
}

static void server_stop(struct evl__metrics_server *srv)
{
    struct evl_loop *loop = srv->loop;
    while (srv->conns != NULL) {
        conn_close(srv->conns);
    }
    (void)evl_fd_stop(loop, srv->lfd);
    close(srv->lfd);
    evl__loop_free(loop, srv->scratch);
    evl__loop_free(loop, srv);
}

static void at_teardown(struct evl_loop *loop, void *arg)
{
    struct evl__obs *obs = arg;
    if (obs->server != NULL) {
        server_stop(obs->server);
        obs->server = NULL;
    }
    (void)loop;
}

void evl_metrics_serve_options_init(struct evl_metrics_serve_options *options)
{
    if (options == NULL) {
        return;
    }
    memset(options, 0, sizeof(*options));
    options->size = sizeof(*options);
    options->max_connections = 256;
    options->max_request_bytes = 8192;
    options->request_timeout_ms = 5000;
    options->idle_timeout_ms = 30000;
    options->max_requests = 1000;
}

int evl_metrics_serve(struct evl_loop *loop, const char *address)
{
    return evl_metrics_serve_ex(loop, address, NULL);
}

int evl_metrics_serve_ex(struct evl_loop *loop, const char *address,
                         const struct evl_metrics_serve_options *options)
{
    struct evl_metrics_serve_options o;
    evl_metrics_serve_options_init(&o);
    if (loop == NULL || address == NULL ||
        (options != NULL && (options->size < sizeof(o) || options->size > sizeof(o)))) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (options != NULL) {
        struct evl_metrics_serve_options d = o;
        o = *options;
        o.max_connections = o.max_connections ? o.max_connections : d.max_connections;
        o.max_request_bytes = o.max_request_bytes ? o.max_request_bytes : d.max_request_bytes;
        o.request_timeout_ms = o.request_timeout_ms ? o.request_timeout_ms : d.request_timeout_ms;
        o.idle_timeout_ms = o.idle_timeout_ms ? o.idle_timeout_ms : d.idle_timeout_ms;
        o.max_requests = o.max_requests ? o.max_requests : d.max_requests;
    }
    if (o.max_request_bytes < 64) {
        return EVL_EINVAL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    int rc = parse_address(address, &ss, &sl);
    if (rc != 0) {
        return rc;
    }
    struct evl__obs *obs = evl__obs_get(loop);
    if (obs == NULL) {
        return EVL_ENOMEM;
    }
    if (obs->server != NULL) {
        return EVL_EEXIST;
    }
    struct evl__metrics_server *srv = evl__loop_malloc(loop, sizeof(*srv));
    if (srv == NULL) {
        return EVL_ENOMEM;
    }
    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->o = o;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = evl_err_from_errno(errno);
        goto free_srv;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 128) != 0) {
        rc = evl_err_from_errno(errno);
        goto close_fd;
    }
    struct sockaddr_storage bound;
    memset(&bound, 0, sizeof(bound));
    socklen_t bl = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
        rc = evl_err_from_errno(errno);
        goto close_fd;
    }
    srv->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
    srv->lfd = fd;
    if (!obs->server_hooked) {
        rc = evl__loop_at_teardown(loop, at_teardown, obs);
        if (rc != 0) {
            goto close_fd;
        }
        obs->server_hooked = 1;
    }
    rc = evl_fd_start(loop, fd, EVL_READABLE, on_listen, srv);
    if (rc != 0) {
        goto close_fd;
    }
    (void)evl_fd_unref(loop, fd);
    obs->server = srv;
    return 0;

close_fd:
    close(fd);
free_srv:
    evl__loop_free(loop, srv);
    return rc;
}

static struct evl__metrics_server *server_of(struct evl_loop *loop, int *rc)
{
    if (loop == NULL) {
        *rc = EVL_EINVAL;
        return NULL;
    }
    if (!evl__loop_on_thread(loop)) {
        *rc = EVL_EPERM;
        return NULL;
    }
    struct evl__obs *obs = evl__obs_peek(loop);
    if (obs == NULL || obs->server == NULL) {
        *rc = EVL_ENOENT;
        return NULL;
    }
    return obs->server;
}

int evl_metrics_serve_port(struct evl_loop *loop)
{
    int rc = 0;
    struct evl__metrics_server *srv = server_of(loop, &rc);
    return srv ? srv->port : rc;
}

int evl_metrics_serve_stop(struct evl_loop *loop)
{
    int rc = 0;
    struct evl__metrics_server *srv = server_of(loop, &rc);
    if (srv == NULL) {
        return rc;
    }
    evl__obs_peek(loop)->server = NULL;
    server_stop(srv);
    return 0;
}

int evl_metrics_serve_stats(struct evl_loop *loop, struct evl_metrics_serve_stats *out)
{
    if (out == NULL) {
        return EVL_EINVAL;
    }
    int rc = 0;
    struct evl__metrics_server *srv = server_of(loop, &rc);
    if (srv == NULL) {
        return rc;
    }
    *out = srv->st;
    return 0;
}

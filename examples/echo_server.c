/*
 * A TCP echo server on evl: non-blocking sockets watched with evl_fd_start, back-pressure
 * (a client whose echo cannot be written is not read until its backlog drains), and a clean
 * shutdown on SIGINT or SIGTERM through evl_signal_start.
 *
 *   example_echo_server [PORT]     serve 127.0.0.1:PORT (0 or none: any free port) until a
 *                                  signal; try it with `nc 127.0.0.1 PORT`
 *   example_echo_server --self-test  serve, echo 4 MiB to 8 clients on threads, check every
 *                                  byte, then raise SIGTERM and shut down (CI runs this)
 */
#define _GNU_SOURCE /* accept4 */
#include <evl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG_MAX (256 * 1024) /* bytes waiting to be echoed before reading pauses */

struct client {
    struct client *next;
    int fd;
    char *buf; /* BACKLOG_MAX bytes; read, not yet echoed: buf[off..len) */
    size_t off;
    size_t len;
    size_t cap;
};

struct server {
    int listen_fd;
    struct client *clients;
    uint64_t sig_int;
    uint64_t sig_term;
    unsigned long long echoed;
};

static void client_close(struct evl_loop *loop, struct server *s, struct client *c)
{
    (void)evl_fd_stop(loop, c->fd);
    close(c->fd);
    for (struct client **pp = &s->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    free(c->buf);
    free(c);
}

/* Interest follows the backlog: read while there is room, write while there is a backlog. */
static void client_interest(struct evl_loop *loop, struct client *c)
{
    unsigned events = 0;
    if (c->len - c->off < BACKLOG_MAX) {
        events |= EVL_READABLE;
    }
    if (c->len > c->off) {
        events |= EVL_WRITABLE;
    }
    (void)evl_fd_modify(loop, c->fd, events);
}

static void on_client(struct evl_loop *loop, int fd, int status, unsigned events, void *arg);

static struct server *server_of(struct evl_loop *loop)
{
    return evl_loop_get_data(loop);
}

static void on_client(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    struct client *c = arg;
    struct server *s = server_of(loop);
    if (status != 0) {
        client_close(loop, s, c);
        return;
    }
    size_t backlog = c->len - c->off;
    if ((events & (EVL_READABLE | EVL_HANGUP | EVL_ERROR)) && backlog < BACKLOG_MAX) {
        /* The unsent bytes move to the front, so the buffer never outgrows the bound. */
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, backlog);
            c->off = 0;
            c->len = backlog;
        }
        if (!c->buf) {
            c->buf = malloc(BACKLOG_MAX);
            if (!c->buf) {
                client_close(loop, s, c);
                return;
            }
            c->cap = BACKLOG_MAX;
        }
        ssize_t n = read(fd, c->buf + c->len, c->cap - c->len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            client_close(loop, s, c);
            return;
        }
        if (n > 0) {
            c->len += (size_t)n;
        }
    }
    if (c->len > c->off) {
        ssize_t n = send(fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            client_close(loop, s, c);
            return;
        }
        if (n > 0) {
            c->off += (size_t)n;
            s->echoed += (unsigned long long)n;
        }
        if (c->off == c->len) {
            c->off = c->len = 0;
        }
    }
    client_interest(loop, c);
}

static void on_accept(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct server *s = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            return; /* EAGAIN: all taken; anything else: try at the next readiness */
        }
        struct client *c = calloc(1, sizeof(*c));
        if (!c || evl_fd_start(loop, cfd, EVL_READABLE, on_client, c) != 0) {
            free(c);
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->next = s->clients;
        s->clients = c;
    }
}

/* SIGINT or SIGTERM: stop accepting, close every client, drop the watchers: the loop then
 * has nothing left and evl_loop_run returns. */
static void on_shutdown_signal(struct evl_loop *loop, uint64_t id, int signum, uint32_t count,
                               void *arg)
{
    (void)id;
    (void)count;
    struct server *s = arg;
    fprintf(stderr, "echo: %s, shutting down\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
    (void)evl_fd_stop(loop, s->listen_fd);
    close(s->listen_fd);
    while (s->clients) {
        client_close(loop, s, s->clients);
    }
    (void)evl_signal_stop(loop, s->sig_int);
    (void)evl_signal_stop(loop, s->sig_term);
}

static int listen_on(int port, int *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *port_out = ntohs(a.sin_port);
    return fd;
}

/* ---- self test: clients on threads ------------------------------------------------------ */

#define TEST_CLIENTS 8
#define TEST_BYTES   (4u << 20)

struct test_client {
    int port;
    int ok;
};

static void *test_client_main(void *arg)
{
    struct test_client *t = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)t->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        return NULL;
    }
    /* Write everything before reading anything: the server's back-pressure must hold it. */
    char *out = malloc(TEST_BYTES);
    char *in = malloc(TEST_BYTES);
    for (size_t i = 0; out && i < TEST_BYTES; i++) {
        out[i] = (char)(i * 131 + (size_t)t->port);
    }
    size_t sent = 0;
    size_t got = 0;
    while (out && in && got < TEST_BYTES) {
        if (sent < TEST_BYTES) {
            ssize_t n = send(fd, out + sent, TEST_BYTES - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t)n;
            } else if (n < 0 && errno != EAGAIN) {
                break;
            }
        }
        ssize_t n = recv(fd, in + got, TEST_BYTES - got, sent < TEST_BYTES ? MSG_DONTWAIT : 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0 || errno != EAGAIN) {
            break;
        }
    }
    t->ok = out && in && got == TEST_BYTES && memcmp(out, in, TEST_BYTES) == 0;
    free(out);
    free(in);
    close(fd);
    return NULL;
}

struct self_test {
    int port;
    int ok;
};

static void *self_test_main(void *arg)
{
    struct self_test *st = arg;
    pthread_t th[TEST_CLIENTS];
    struct test_client tc[TEST_CLIENTS];
    for (int i = 0; i < TEST_CLIENTS; i++) {
        tc[i].port = st->port;
        tc[i].ok = 0;
        pthread_create(&th[i], NULL, test_client_main, &tc[i]);
    }
    st->ok = 1;
    for (int i = 0; i < TEST_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        st->ok &= tc[i].ok;
    }
    kill(getpid(), SIGTERM);
    return NULL;
}

int main(int argc, char **argv)
{
    int self_test = argc > 1 && strcmp(argv[1], "--self-test") == 0;
    int port = argc > 1 && !self_test ? atoi(argv[1]) : 0;
    struct evl_loop *loop = NULL;
    if (evl_loop_new(&loop, NULL) != 0) {
        return 1;
    }
    struct server s;
    memset(&s, 0, sizeof(s));
    evl_loop_set_data(loop, &s);
    s.listen_fd = listen_on(port, &port);
    int rc = 0;
    if (s.listen_fd < 0 || (rc = evl_fd_start(loop, s.listen_fd, EVL_READABLE, on_accept, &s)) ||
        (rc = evl_signal_start(loop, SIGINT, on_shutdown_signal, &s, &s.sig_int)) ||
        (rc = evl_signal_start(loop, SIGTERM, on_shutdown_signal, &s, &s.sig_term))) {
        fprintf(stderr, "echo: cannot start: %s\n",
                s.listen_fd < 0 ? strerror(errno) : evl_strerror(rc));
        return 1;
    }
    printf("echo: listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    pthread_t tester;
    struct self_test st = {port, 0};
    if (self_test) {
        pthread_create(&tester, NULL, self_test_main, &st);
    }
    rc = evl_loop_run(loop, EVL_RUN_DEFAULT);
    if (self_test) {
        pthread_join(tester, NULL);
        printf("echo: self-test %s (%llu bytes echoed)\n", st.ok ? "passed" : "FAILED", s.echoed);
    }
    evl_loop_free(loop);
    return rc == 0 && (!self_test || st.ok) ? 0 : 1;
}

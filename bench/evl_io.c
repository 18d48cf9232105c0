/*
 * evl side of the fd workloads: one-byte ping-pong through a socketpair with both ends on
 * the loop, and with the far end served by a peer thread doing blocking read/write; plus
 * bytes per fd registration. The peers' versions (uv_poll, ev_io, libevent persistent
 * events) are in uv_bench.c, ev_bench.c and event_bench.c.
 */
#include "bench_common.h"

#include <evl.h>
#include <fcntl.h>
#include <sys/socket.h>

#define EVL_CHECK(expr)                                            \
    do {                                                           \
        int rc_ = (expr);                                          \
        BENCH_CHECK(rc_ == 0, "%s: %s", #expr, evl_strerror(rc_)); \
    } while (0)

static int sv[2];
static int threaded;
static uint64_t pp_count;
static uint64_t pp_total;
static uint64_t pp_t0;
static uint64_t pp_end;

static void make_pair(int nonblock_b)
{
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (nonblock_b) {
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
    }
}

static void send_byte(int fd, unsigned char b)
{
    BENCH_CHECK(write(fd, &b, 1) == 1, "write: %s", strerror(errno));
}

static void a_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)arg;
    unsigned char b = 0;
    BENCH_CHECK(status == 0 && (events & EVL_READABLE), "fd a: status %d events %u", status,
                events);
    BENCH_CHECK(read(fd, &b, 1) == 1, "read a: %s", strerror(errno));
    BENCH_CHECK(b == (unsigned char)pp_count, "echo %u != %u", b, (unsigned char)pp_count);
    if (++pp_count == pp_total) {
        pp_end = bench_now_ns();
        EVL_CHECK(evl_fd_stop(loop, sv[0]));
        if (!threaded) {
            EVL_CHECK(evl_fd_stop(loop, sv[1]));
        }
        return;
    }
    send_byte(fd, (unsigned char)pp_count);
}

static void b_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)arg;
    unsigned char b = 0;
    BENCH_CHECK(status == 0 && (events & EVL_READABLE), "fd b: status %d events %u", status,
                events);
    BENCH_CHECK(read(fd, &b, 1) == 1, "read b: %s", strerror(errno));
    send_byte(fd, b);
}

static void *echo_peer(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char b = 0;
        if (read(sv[1], &b, 1) != 1) {
            break;
        }
        send_byte(sv[1], b);
    }
    return NULL;
}

static void pingpong_start(struct evl_loop *loop, void *arg)
{
    (void)arg;
    EVL_CHECK(evl_fd_start(loop, sv[0], EVL_READABLE, a_cb, NULL));
    if (!threaded) {
        EVL_CHECK(evl_fd_start(loop, sv[1], EVL_READABLE, b_cb, NULL));
    }
    pp_t0 = bench_now_ns();
    send_byte(sv[0], 0);
}

static void pingpong(const char *name, int with_thread, uint64_t n)
{
    pthread_t peer;
    struct evl_loop *loop = NULL;
    threaded = with_thread;
    make_pair(!threaded);
    pp_count = 0;
    pp_total = n;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    if (threaded) {
        pthread_create(&peer, NULL, echo_peer, &pp_total);
    }
    EVL_CHECK(evl_loop_submit(loop, pingpong_start, NULL));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    if (threaded) {
        pthread_join(peer, NULL);
    }
    BENCH_CHECK(pp_count == n, "%" PRIu64 " of %" PRIu64 " round trips", pp_count, n);
    bench_report(name, n, (double)(pp_end - pp_t0) / (double)n, "backend %s",
                 evl_backend_name(evl_loop_backend(loop)));
    EVL_CHECK(evl_loop_free(loop));
    close(sv[0]);
    close(sv[1]);
}

static void w_fd_local(uint64_t n)
{
    pingpong("fd_pingpong_local", 0, n);
}

static void w_fd_thread(uint64_t n)
{
    pingpong("fd_pingpong_thread", 1, n);
}

/* ---- bytes per registration: n socketpairs, both ends registered ---- */

static int *mem_fds;
static uint64_t mem_n;
static uint64_t mem_bytes;

static void mem_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    (void)arg;
}

static void mem_body(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl_alloc_stats before;
    struct evl_alloc_stats after;
    evl_alloc_stats(&before);
    for (uint64_t i = 0; i < mem_n; i++) {
        EVL_CHECK(evl_fd_start(loop, mem_fds[i], EVL_READABLE, mem_cb, NULL));
    }
    evl_alloc_stats(&after);
    mem_bytes = after.live_bytes - before.live_bytes;
    for (uint64_t i = 0; i < mem_n; i++) {
        EVL_CHECK(evl_fd_stop(loop, mem_fds[i]));
    }
}

static void w_mem_fd(uint64_t n)
{
    mem_n = n & ~(uint64_t)1;
    mem_fds = bench_alloc(mem_n, sizeof(*mem_fds));
    for (uint64_t i = 0; i < mem_n; i += 2) {
        BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, &mem_fds[i]) == 0, "socketpair: %s",
                    strerror(errno));
    }
    evl_alloc_tracking_enable();
    struct evl_loop *loop = NULL;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    EVL_CHECK(evl_loop_submit(loop, mem_body, NULL));
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    EVL_CHECK(evl_loop_free(loop));
    evl_alloc_tracking_disable();
    for (uint64_t i = 0; i < mem_n; i++) {
        close(mem_fds[i]);
    }
    free(mem_fds);
    bench_report_bytes("mem_fd", mem_n, (double)mem_bytes / (double)mem_n,
                       "tracked-live-bytes/N(fds 3..N+3)");
}

/* ---- signal delivered to an idle loop ---- */

static void sig_cb(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)signum;
    (void)arg;
    if (bench_sig_delivered(count)) {
        EVL_CHECK(evl_signal_stop(loop, id));
    }
}

static void w_signal_rt(uint64_t n)
{
    struct evl_loop *loop = NULL;
    EVL_CHECK(evl_loop_new(&loop, NULL));
    uint64_t id = 0;
    EVL_CHECK(evl_signal_start(loop, SIGUSR1, sig_cb, NULL, &id));
    pthread_t th;
    bench_sig_start(&th, SIGUSR1, n);
    EVL_CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    bench_sig_finish(th, "evl_signal");
    EVL_CHECK(evl_loop_free(loop));
}

static const struct bench_workload workloads[] = {
    {"signal_rt", w_signal_rt, 3000, 300},
    {"fd_pingpong_local", w_fd_local, 100000, 5000},
    {"fd_pingpong_thread", w_fd_thread, 100000, 5000},
    {"mem_fd", w_mem_fd, 400, 400},
};

int main(int argc, char **argv)
{
    bench_lib = "evl";
    return bench_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

/*
 * 1,000 fds churned: 500 socketpairs, both ends watched for readability, bytes written to
 * random ends every iteration, and random pairs replaced all the time (10,000 over 1,000
 * iterations: stopped and closed, or closed and then stopped, then a new socketpair, whose
 * numbers the kernel reuses at once, watched again). Every registration carries its pair's
 * generation: a callback for a replaced registration, or with a wrong fd, is an error. Per
 * generation of each end, the bytes written equal the bytes its callbacks read plus those
 * still queued when it was closed. At the end the process has exactly the fds it started
 * with, and nothing leaks. Registered once per backend.
 */
#include "../unit/test_fd_common.h"
#include "stress.h"

#include <sys/socket.h>

#define PAIRS 500

struct end {
    int fd;
    uint64_t sent;     /* written to the other end, for this end to read */
    uint64_t received; /* read by this end's callbacks */
};

struct pair {
    uint32_t gen;
    struct end e[2];
};

static struct pair pairs[PAIRS];
static struct stress_rng rng;
static uint64_t rounds_left;
static struct {
    uint64_t stale, wrong_fd, bad_status, lost, churns, reused, writes, bytes, callbacks;
} st;

static void *tag(uint32_t p, int side)
{
    return (void *)(uintptr_t)(((uint64_t)pairs[p].gen << 32) | ((uint64_t)p << 1) |
                               (unsigned)side);
}

static void read_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)events;
    uint64_t v = (uint64_t)(uintptr_t)arg;
    uint32_t p = (uint32_t)(v & 0xffffffffu) >> 1;
    int side = (int)(v & 1);
    st.callbacks++;
    if (p >= PAIRS || (uint32_t)(v >> 32) != pairs[p].gen) {
        st.stale++;
        return;
    }
    struct end *e = &pairs[p].e[side];
    if (fd != e->fd) {
        st.wrong_fd++;
        return;
    }
    if (status != 0) {
        st.bad_status++;
        return;
    }
    char buf[256];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0) {
            break;
        }
        e->received += (uint64_t)r;
    }
}

static void open_pair(struct evl_loop *loop, uint32_t p)
{
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    pairs[p].gen++;
    for (int s = 0; s < 2; s++) {
        pairs[p].e[s] = (struct end){sv[s], 0, 0};
        ASSERT_OK(evl_fd_start(loop, sv[s], EVL_READABLE, read_cb, tag(p, s)));
    }
}

/* Ends one generation of a pair: what is still queued is read here, and every byte written
 * must be accounted for. */
static void close_pair(struct evl_loop *loop, uint32_t p, int close_first)
{
    for (int s = 0; s < 2; s++) {
        struct end *e = &pairs[p].e[s];
        char buf[256];
        uint64_t left = 0;
        for (;;) {
            ssize_t r = read(e->fd, buf, sizeof(buf));
            if (r <= 0) {
                break;
            }
            left += (uint64_t)r;
        }
        if (e->sent != e->received + left) {
            st.lost++;
        }
    }
    for (int s = 0; s < 2; s++) {
        int fd = pairs[p].e[s].fd;
        if (close_first) {
            /* Stopping a registration whose fd is already closed is allowed. */
            ASSERT_EQ(close(fd), 0);
            ASSERT_OK(evl_fd_stop(loop, fd));
        } else {
            ASSERT_OK(evl_fd_stop(loop, fd));
            ASSERT_EQ(close(fd), 0);
        }
    }
}

static void round_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    for (int k = 0; k < 40; k++) {
        uint32_t p = (uint32_t)stress_rng_below(&rng, PAIRS);
        int side = (int)stress_rng_below(&rng, 2);
        char buf[16] = {0};
        size_t len = 1 + (size_t)stress_rng_below(&rng, sizeof(buf));
        /* Written to the other end of the pair, for `side` to read. */
        ssize_t w = write(pairs[p].e[!side].fd, buf, len);
        if (w > 0) {
            pairs[p].e[side].sent += (uint64_t)w;
            st.writes++;
            st.bytes += (uint64_t)w;
        }
    }
    for (int k = 0; k < 10; k++) {
        uint32_t p = (uint32_t)stress_rng_below(&rng, PAIRS);
        int old0 = pairs[p].e[0].fd;
        int old1 = pairs[p].e[1].fd;
        close_pair(loop, p, (int)stress_rng_below(&rng, 2));
        open_pair(loop, p);
        st.churns++;
        st.reused += (pairs[p].e[0].fd == old0 || pairs[p].e[0].fd == old1) +
                     (pairs[p].e[1].fd == old0 || pairs[p].e[1].fd == old1);
    }
    if (--rounds_left > 0) {
        ASSERT_OK(evl_immediate_set(loop, round_cb, NULL, NULL));
        return;
    }
    for (uint32_t p = 0; p < PAIRS; p++) {
        close_pair(loop, p, 0);
    }
}

BACKEND_TEST(fds_1000_churned)
{
    struct evl_loop_options o;
    test_loop_options(&o);
    rng.s = stress_seed("fds_1000_churned");
    rounds_left = stress_count(1000, 20);
    memset(&st, 0, sizeof(st));
    int fds_before = stress_open_fds();
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    for (uint32_t p = 0; p < PAIRS; p++) {
        pairs[p].gen = 0;
        open_pair(loop, p);
    }
    ASSERT_OK(evl_immediate_set(loop, round_cb, NULL, NULL));
    uint64_t t0 = stress_now_ns();
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
    int fds_after = stress_open_fds();
    printf("fds (%s): %d pairs, %" PRIu64 " replaced (%" PRIu64 " fd numbers reused), %" PRIu64
           " writes (%" PRIu64 " bytes), %" PRIu64 " callbacks, fds %d before / %d after, %.2f s\n",
           getenv("EVL_BACKEND") ? getenv("EVL_BACKEND") : "default", PAIRS, st.churns, st.reused,
           st.writes, st.bytes, st.callbacks, fds_before, fds_after,
           (double)(stress_now_ns() - t0) / 1e9);
    ASSERT_UEQ(st.stale, 0);
    ASSERT_UEQ(st.wrong_fd, 0);
    ASSERT_UEQ(st.bad_status, 0);
    ASSERT_UEQ(st.lost, 0);
    ASSERT_UGE(st.reused, st.churns); /* the kernel hands the lowest numbers back */
    ASSERT_EQ(fds_after, fds_before);
}

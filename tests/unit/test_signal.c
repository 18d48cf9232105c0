/*
 * Signal watchers and child processes: delivery on the loop thread with counts, several
 * watchers and several loops, stop and ref semantics, restoring the previous disposition;
 * exit watching through pidfds and through SIGCHLD; evl_spawn with pipes and exec errors.
 */
#include "evl_test.h"

#include "core/child/child.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct got {
    int calls;
    uint32_t count;
    int signum;
    pthread_t thread;
};

static void on_sig(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)loop;
    (void)id;
    struct got *g = arg;
    g->calls++;
    g->count += count;
    g->signum = signum;
    g->thread = pthread_self();
}

static void stop_on_sig(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    on_sig(loop, id, signum, count, arg);
    ASSERT_OK(evl_signal_stop(loop, id));
}

TEST(signal_start_checks_arguments)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    uint64_t id = 0;
    struct got g = {0};
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(NULL, SIGUSR1, on_sig, &g, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, 0, on_sig, &g, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, 65, on_sig, &g, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, SIGKILL, on_sig, &g, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, SIGSTOP, on_sig, &g, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, SIGUSR1, NULL, &g, &id));
    ASSERT_ERR(EVL_ENOENT, evl_signal_stop(loop, 12345));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(signal_is_delivered_on_the_loop_thread_with_its_count)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct got a = {0};
    struct got b = {0};
    uint64_t ida = 0;
    uint64_t idb = 0;
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, on_sig, &a, &ida));
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, stop_on_sig, &b, &idb));
    ASSERT_TRUE(ida != idb);
    /* Delivered to this thread at once, counted, then run by the loop. */
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(a.count, 1);
    ASSERT_EQ(a.signum, SIGUSR1);
    ASSERT_TRUE(pthread_equal(a.thread, pthread_self()));
    ASSERT_EQ(b.calls, 1);
    /* Two more before the loop looks: one callback with both (standard signals raised one at
     * a time are each delivered: raise returns after the handler ran). */
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(a.calls, 2);
    ASSERT_EQ(a.count, 3);
    ASSERT_EQ(b.calls, 1); /* stopped itself */
    ASSERT_OK(evl_signal_stop(loop, ida));
    ASSERT_ERR(EVL_ENOENT, evl_signal_stop(loop, ida));
    ASSERT_EQ(evl_loop_alive(loop), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static volatile sig_atomic_t previous_handler_ran;

static void previous_handler(int signum)
{
    (void)signum;
    previous_handler_ran = 1;
}

TEST(last_stop_restores_the_previous_disposition)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = previous_handler;
    struct sigaction old;
    ASSERT_EQ(sigaction(SIGUSR2, &sa, &old), 0);
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct got g = {0};
    uint64_t id = 0;
    ASSERT_OK(evl_signal_start(loop, SIGUSR2, on_sig, &g, &id));
    previous_handler_ran = 0;
    ASSERT_EQ(raise(SIGUSR2), 0);
    ASSERT_EQ(previous_handler_ran, 0); /* ours meanwhile */
    ASSERT_OK(evl_signal_stop(loop, id));
    ASSERT_EQ(raise(SIGUSR2), 0);
    ASSERT_EQ(previous_handler_ran, 1);
    /* A delivery counted before the stop is not handed to the stopped watcher. */
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_EQ(g.calls, 0);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(sigaction(SIGUSR2, &old, NULL), 0);
}

TEST(unref_watcher_does_not_keep_the_loop_alive)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct got g = {0};
    uint64_t id = 0;
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, on_sig, &g, &id));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_signal_unref(loop, id));
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_signal_ref(loop, id));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_signal_unref(loop, id));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* returns at once */
    /* A watcher left at close goes without a callback; the handler is put back. */
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT) == EVL_ECLOSED ? 0 : -1);
    ASSERT_OK(evl_loop_free(loop));
    struct sigaction now;
    ASSERT_EQ(sigaction(SIGUSR1, NULL, &now), 0);
    ASSERT_PTR_EQ((void *)now.sa_handler, (void *)SIG_DFL);
}

/* Two loops on two threads watch the same signal: each sees it. */
struct loop_thread {
    struct evl_loop *loop;
    struct got g;
    _Atomic int ready;
};

static void stop_loop_on_sig(struct evl_loop *loop, uint64_t id, int signum, uint32_t count,
                             void *arg)
{
    struct loop_thread *t = arg;
    on_sig(loop, id, signum, count, &t->g);
    ASSERT_OK(evl_signal_stop(loop, id));
}

static void *run_signal_loop(void *arg)
{
    struct loop_thread *t = arg;
    ASSERT_OK(evl_loop_new(&t->loop, NULL));
    uint64_t id = 0;
    ASSERT_OK(evl_signal_start(t->loop, SIGUSR1, stop_loop_on_sig, t, &id));
    atomic_store(&t->ready, 1);
    ASSERT_OK(evl_loop_run(t->loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(t->loop));
    return NULL;
}

TEST(two_loops_on_two_threads_both_get_the_signal) /* labels: real-time */
{
    struct loop_thread t[2];
    memset(t, 0, sizeof(t));
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(pthread_create(&th[i], NULL, run_signal_loop, &t[i]), 0);
    }
    while (!atomic_load(&t[0].ready) || !atomic_load(&t[1].ready)) {
        sched_yield();
    }
    ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        ASSERT_EQ(t[i].g.calls, 1);
        ASSERT_EQ(t[i].g.signum, SIGUSR1);
    }
}

/* ---- children ------------------------------------------------------------------------- */

struct exit_seen {
    int calls;
    pid_t pid;
    int code;
    int sig;
};

static void on_exit_cb(struct evl_loop *loop, uint64_t id, pid_t pid, int code, int sig, void *arg)
{
    (void)loop;
    (void)id;
    struct exit_seen *e = arg;
    e->calls++;
    e->pid = pid;
    e->code = code;
    e->sig = sig;
}

static pid_t fork_exit(int code, int sleep_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (sleep_ms) {
            usleep((useconds_t)sleep_ms * 1000);
        }
        _exit(code);
    }
    return pid;
}

static void child_exit_codes(int no_pidfd)
{
    evl__child_no_pidfd = no_pidfd;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct exit_seen a = {0};
    struct exit_seen b = {0};
    struct exit_seen c = {0};
    pid_t pa = fork_exit(7, 20);
    pid_t pb = fork_exit(0, 0); /* may be gone before the watch starts */
    pid_t pc = fork_exit(0, 5000);
    ASSERT_GT(pa, 0);
    ASSERT_GT(pb, 0);
    ASSERT_GT(pc, 0);
    ASSERT_OK(evl_child_watch(loop, pa, on_exit_cb, &a, NULL));
    ASSERT_OK(evl_child_watch(loop, pb, on_exit_cb, &b, NULL));
    ASSERT_OK(evl_child_watch(loop, pc, on_exit_cb, &c, NULL));
    ASSERT_ERR(EVL_EEXIST, evl_child_watch(loop, pa, on_exit_cb, &a, NULL));
    ASSERT_EQ(kill(pc, SIGTERM), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* the watches keep it alive */
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(a.pid, pa);
    ASSERT_EQ(a.code, 7);
    ASSERT_EQ(a.sig, 0);
    ASSERT_EQ(b.calls, 1);
    ASSERT_EQ(b.code, 0);
    ASSERT_EQ(c.calls, 1);
    ASSERT_EQ(c.code, -1);
    ASSERT_EQ(c.sig, SIGTERM);
    /* Reaped: no zombie left, and no such child any more. */
    ASSERT_EQ(waitpid(pa, NULL, WNOHANG), -1);
    ASSERT_ERR(EVL_ENOENT, evl_child_watch(loop, pa, on_exit_cb, &a, NULL));
    ASSERT_OK(evl_loop_free(loop));
    evl__child_no_pidfd = 0;
}

TEST(child_exit_status_and_signal_through_pidfd)
{
    child_exit_codes(0);
}

TEST(child_exit_status_and_signal_through_sigchld)
{
    child_exit_codes(1);
}

TEST(child_watch_checks_arguments_and_unwatch_leaves_the_child)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct exit_seen e = {0};
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, 0, on_exit_cb, &e, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, 1, NULL, &e, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_child_watch(loop, 1, on_exit_cb, &e, NULL)); /* not ours */
    pid_t p = fork_exit(3, 0);
    uint64_t id = 0;
    ASSERT_OK(evl_child_watch(loop, p, on_exit_cb, &e, &id));
    ASSERT_OK(evl_child_unwatch(loop, id));
    ASSERT_ERR(EVL_ENOENT, evl_child_unwatch(loop, id));
    /* Without pidfds a scan was queued with the watch; it runs and finds nothing. */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_FALSE(evl_loop_alive(loop));
    int status = 0;
    ASSERT_EQ(waitpid(p, &status, 0), p);
    ASSERT_EQ(WEXITSTATUS(status), 3);
    ASSERT_EQ(e.calls, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- spawn ------------------------------------------------------------------------------ */

struct echo_run {
    int out_fd;
    char buf[256];
    size_t len;
    int eof;
    struct exit_seen exit;
};

static void on_child_out(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct echo_run *r = arg;
    ssize_t n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
    if (n > 0) {
        r->len += (size_t)n;
        r->buf[r->len] = '\0';
    } else if (n == 0 || errno != EAGAIN) {
        r->eof = 1;
        ASSERT_OK(evl_fd_stop(loop, fd));
    }
}

TEST(spawn_with_pipes_env_and_cwd)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct evl_spawn_options o;
    evl_spawn_options_init(&o);
    const char *argv[] = {"sh", "-c", "read line; echo \"$line:$EVL_T:$(pwd)\"; exit 5", NULL};
    const char *envp[] = {"EVL_T=env", "PATH=/usr/bin:/bin", NULL};
    o.file = "sh";
    o.argv = argv;
    o.envp = envp;
    o.cwd = "/";
    o.stdio[0].kind = EVL_STDIO_PIPE;
    o.stdio[1].kind = EVL_STDIO_PIPE;
    o.stdio[2].kind = EVL_STDIO_NULL;
    struct echo_run r;
    memset(&r, 0, sizeof(r));
    o.exit_cb = on_exit_cb;
    o.exit_arg = &r.exit;
    pid_t pid = 0;
    uint64_t wid = 0;
    ASSERT_OK(evl_spawn(loop, &o, &pid, &wid));
    ASSERT_GT(pid, 0);
    ASSERT_GE(o.stdio[0].fd, 0);
    ASSERT_GE(o.stdio[1].fd, 0);
    ASSERT_EQ(write(o.stdio[0].fd, "hello\n", 6), 6);
    close(o.stdio[0].fd);
    ASSERT_OK(evl_fd_start(loop, o.stdio[1].fd, EVL_READABLE, on_child_out, &r));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    close(o.stdio[1].fd);
    ASSERT_STR_EQ(r.buf, "hello:env:/\n");
    ASSERT_EQ(r.exit.calls, 1);
    ASSERT_EQ(r.exit.pid, pid);
    ASSERT_EQ(r.exit.code, 5);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(spawn_reports_exec_errors_and_leaves_nothing)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct evl_spawn_options o;
    evl_spawn_options_init(&o);
    o.file = "/nonexistent/evl-no-such-program";
    o.stdio[1].kind = EVL_STDIO_PIPE;
    pid_t pid = 0;
    ASSERT_ERR(EVL_ENOENT, evl_spawn(loop, &o, &pid, NULL));
    ASSERT_EQ(o.stdio[1].fd, -1);
    ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1); /* nothing to reap */
    ASSERT_EQ(errno, ECHILD);
    o.file = "evl-no-such-program-in-path";
    ASSERT_ERR(EVL_ENOENT, evl_spawn(loop, &o, &pid, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, NULL, &pid, NULL));
    o.file = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, &o, &pid, NULL));
    o.file = "true";
    o.size = 8;
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, &o, &pid, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(spawned_child_starts_with_default_signals)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    /* The parent ignores SIGPIPE and blocks SIGUSR2; the child must not. */
    struct sigaction ign;
    struct sigaction old;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    ASSERT_EQ(sigaction(SIGPIPE, &ign, &old), 0);
    sigset_t block;
    sigset_t old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
    struct evl_spawn_options o;
    evl_spawn_options_init(&o);
    const char *argv[] = {"sh", "-c", "kill -PIPE $$; exit 0", NULL};
    o.file = "sh";
    o.argv = argv;
    struct exit_seen e = {0};
    o.exit_cb = on_exit_cb;
    o.exit_arg = &e;
    pid_t pid = 0;
    ASSERT_OK(evl_spawn(loop, &o, &pid, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(e.calls, 1);
    ASSERT_EQ(e.sig, SIGPIPE);
    ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old_mask, NULL), 0);
    ASSERT_EQ(sigaction(SIGPIPE, &old, NULL), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void stop_loop_cb(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    on_sig(loop, id, signum, count, arg);
    ASSERT_OK(evl_loop_stop(loop));
}

/* Regression: a watcher that stopped the loop left the other watchers' delivery unhanded until
 * another signal came. */
TEST(deliveries_owed_when_a_callback_stops_the_loop_come_next_run)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct got first = {0};
    struct got second = {0};
    uint64_t a = 0;
    uint64_t b = 0;
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, stop_loop_cb, &first, &a));
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, on_sig, &second, &b));
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* stopped by the first watcher */
    ASSERT_EQ(first.calls, 1);
    ASSERT_EQ(second.calls, 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(second.calls, 1);
    ASSERT_EQ(second.count, 1);
    ASSERT_OK(evl_signal_stop(loop, a));
    ASSERT_OK(evl_signal_stop(loop, b));
    ASSERT_OK(evl_loop_free(loop));
}

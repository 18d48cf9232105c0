/*
 * Child processes (include/evl/process.h): exit watchers and evl_spawn.
 *
 * A watcher waits on a pidfd where the kernel has them (the fd turns readable when the child
 * ends; the fd callback reaps it). Elsewhere, or when pidfd_open fails, the loop watches
 * SIGCHLD (signal.c) and each delivery reaps the watched pids that ended, with
 * waitpid(pid, WNOHANG) per pid so that children the application reaps itself are left
 * alone; a scan is also deferred right after each such watch, for a child that ended before
 * the watcher existed.
 */
#include "core/child/child.h"

#include "core/loop_state.h"

#include "evl/errno.h"
#include "evl/io.h"
#include "evl/process.h"
#include "evl/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int evl__child_no_pidfd;

struct child_watch {
    struct child_watch *next;
    struct child_loop *owner;
    evl_child_cb cb;
    void *arg;
    uint64_t id;
    pid_t pid;
    int pidfd; /* -1: reaped from SIGCHLD deliveries */
};

struct child_loop {
    struct evl_loop *loop;
    struct child_watch *watches;
    uint64_t next_id;
    uint64_t sigchld; /* the SIGCHLD watcher's id, 0 if none */
    uint32_t nsig;    /* watches on the SIGCHLD path: the signal watcher is ref'd while > 0 */
    bool scan_queued;
};

/* An errno as an evl code: the codes evl callers test for, else the system code itself. */
static int sys_error(int e)
{
    switch (e) {
    case ENOENT:
    case ECHILD:
    case ESRCH:
        return EVL_ENOENT;
    case ENOMEM:
        return EVL_ENOMEM;
    default:
        return evl_err_from_errno(e);
    }
}

static void unlink_watch(struct child_loop *c, struct child_watch *w)
{
    struct child_watch **pp = &c->watches;
    while (*pp != w) {
        pp = &(*pp)->next;
    }
    *pp = w->next;
    if (w->pidfd >= 0) {
        if (evl_fd_active(c->loop, w->pidfd)) {
            (void)evl_fd_stop(c->loop, w->pidfd);
        }
        close(w->pidfd);
    } else if (--c->nsig == 0 && c->sigchld) {
        (void)evl_signal_unref(c->loop, c->sigchld);
    }
}

/* Reaps w's child if it ended; then its watch is over and its callback runs. Returns whether
 * it did. */
static bool try_reap(struct child_loop *c, struct child_watch *w)
{
    int status = 0;
    pid_t r;
    do {
        r = waitpid(w->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return false;
    }
    int code = 0;
    int sig = 0;
    if (r < 0) {
        code = -1; /* reaped by someone else: the status is lost */
    } else if (WIFEXITED(status)) {
        code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        code = -1;
        sig = WTERMSIG(status);
    } else {
        return false; /* stopped or continued: not an end */
    }
    struct evl_loop *loop = c->loop;
    unlink_watch(c, w);
    evl_child_cb cb = w->cb;
    void *arg = w->arg;
    uint64_t id = w->id;
    pid_t pid = w->pid;
    evl__loop_free(loop, w);
    evl__loop_enter_callback(loop);
    cb(loop, id, pid, code, sig, arg);
    evl__loop_leave_callback(loop);
    evl__loop_after_callback(loop);
    return true;
}

static void on_pidfd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    struct child_watch *w = arg;
    try_reap(w->owner, w);
}

/* Reaps every SIGCHLD-path watch whose child ended. A callback may add or remove watches,
 * so the walk starts over after each one that ran. */
static void deferred_scan(struct evl_loop *loop, void *arg);

static void scan(struct child_loop *c)
{
    bool again = true;
    while (again) {
        again = false;
        for (struct child_watch *w = c->watches; w; w = w->next) {
            if (w->pidfd < 0 && try_reap(c, w)) {
                again = true;
                break;
            }
        }
        if (again && evl__loop_interrupted(c->loop)) {
            /* Stopped by a callback: the rest of the scan is the next iteration's. */
            if (!c->scan_queued && evl__loop_defer_pending(c->loop, deferred_scan, c) == 0) {
                c->scan_queued = true;
            }
            return;
        }
    }
}

static void on_sigchld(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)loop;
    (void)id;
    (void)signum;
    (void)count;
    scan(arg);
}

static void deferred_scan(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct child_loop *c = arg;
    c->scan_queued = false;
    scan(c);
}

static void children_teardown(struct evl_loop *loop, void *arg)
{
    struct child_loop *c = arg;
    while (c->watches) {
        struct child_watch *w = c->watches;
        unlink_watch(c, w);
        evl__loop_free(loop, w);
    }
    loop->children = NULL;
    evl__loop_free(loop, c);
}

static int child_loop_get(struct evl_loop *loop, struct child_loop **out)
{
    if (!loop->children) {
        struct child_loop *c = evl__loop_malloc(loop, sizeof(*c));
        if (!c) {
            return EVL_ENOMEM;
        }
        memset(c, 0, sizeof(*c));
        c->loop = loop;
        c->next_id = 1;
        int rc = evl__loop_at_teardown(loop, children_teardown, c);
        if (rc != 0) {
            evl__loop_free(loop, c);
            return rc;
        }
        loop->children = c;
    }
    *out = loop->children;
    return 0;
}

static int open_pidfd(pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
    if (!evl__child_no_pidfd) {
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        return fd;
    }
#else
    (void)pid;
#endif
    return -1;
}

static int check_loop(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop) ||
        evl__loop_tearing_down(loop)) {
        return EVL_ECLOSED;
    }
    return 0;
}

int evl_child_watch(struct evl_loop *loop, pid_t pid, evl_child_cb cb, void *arg, uint64_t *id_out)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (!cb || pid <= 0) {
        return EVL_EINVAL;
    }
    /* A child of ours not reaped yet (WNOWAIT leaves a zombie as it is). */
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return sys_error(errno);
    }
    struct child_loop *c = NULL;
    rc = child_loop_get(loop, &c);
    if (rc != 0) {
        return rc;
    }
    for (struct child_watch *w = c->watches; w; w = w->next) {
        if (w->pid == pid) {
            return EVL_EEXIST;
        }
    }
    struct child_watch *w = evl__loop_malloc(loop, sizeof(*w));
    if (!w) {
        return EVL_ENOMEM;
    }
    memset(w, 0, sizeof(*w));
    w->owner = c;
    w->cb = cb;
    w->arg = arg;
    w->pid = pid;
    w->pidfd = open_pidfd(pid);
    if (w->pidfd >= 0) {
        rc = evl_fd_start(loop, w->pidfd, EVL_READABLE, on_pidfd, w);
        if (rc != 0) {
            close(w->pidfd);
            evl__loop_free(loop, w);
            return rc;
        }
    } else {
        if (!c->sigchld) {
            rc = evl_signal_start(loop, SIGCHLD, on_sigchld, c, &c->sigchld);
            if (rc != 0) {
                c->sigchld = 0;
                evl__loop_free(loop, w);
                return rc;
            }
            (void)evl_signal_unref(loop, c->sigchld);
        }
        if (!c->scan_queued) {
            rc = evl__loop_defer_pending(loop, deferred_scan, c);
            if (rc != 0) {
                evl__loop_free(loop, w);
                return rc;
            }
            c->scan_queued = true;
        }
        if (c->nsig++ == 0) {
            (void)evl_signal_ref(loop, c->sigchld);
        }
    }
    w->id = c->next_id++;
    w->next = c->watches;
    c->watches = w;
    if (id_out) {
        *id_out = w->id;
    }
    return 0;
}

int evl_child_unwatch(struct evl_loop *loop, uint64_t id)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct child_loop *c = loop->children;
    for (struct child_watch *w = c ? c->watches : NULL; w; w = w->next) {
        if (w->id == id) {
            unlink_watch(c, w);
            evl__loop_free(loop, w);
            return 0;
        }
    }
    return EVL_ENOENT;
}

/* ---- spawn ------------------------------------------------------------------------------- */

void evl_spawn_options_init(struct evl_spawn_options *options)
{
    if (!options) {
        return;
    }
    memset(options, 0, sizeof(*options));
    options->size = sizeof(*options);
    for (int i = 0; i < 3; i++) {
        options->stdio[i].kind = EVL_STDIO_INHERIT;
        options->stdio[i].fd = -1;
    }
}

/*
 * The program as execvp would find it: file itself when it names a path, else the first
 * executable regular file of that name in the parent's PATH (an empty entry is the current
 * directory). Returns 0 with *out set (file or buf), or the errno exec would fail with.
 * Looking first makes a missing program an error of the call on every platform, also where
 * posix_spawn cannot report the child's exec failure (a fork-based one, or under valgrind).
 */
static int resolve_program(const char *file, char *buf, size_t cap, const char **out)
{
    struct stat st;
    if (strchr(file, '/')) {
        if (access(file, X_OK) != 0) {
            return errno;
        }
        if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
            return EACCES;
        }
        *out = file;
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    size_t flen = strlen(file);
    int err = ENOENT;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        if (dlen + flen + 2 <= cap) {
            size_t at = 0;
            if (dlen > 0) {
                memcpy(buf, p, dlen);
                buf[dlen] = '/';
                at = dlen + 1;
            }
            memcpy(buf + at, file, flen + 1);
            if (access(buf, X_OK) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
                *out = buf;
                return 0;
            }
            if (errno == EACCES || (access(buf, F_OK) == 0)) {
                err = EACCES; /* found, but not something exec can run */
            }
        }
        if (!colon) {
            return err;
        }
        p = colon + 1;
    }
}

/* The stdio plan: file actions for the child, the pipes' ends for both sides. */
static int plan_stdio(struct evl_spawn_options *o, posix_spawn_file_actions_t *fa, int child[3],
                      int parent[3])
{
    for (int i = 0; i < 3; i++) {
        struct evl_stdio *s = &o->stdio[i];
        int rc = 0;
        switch (s->kind) {
        case EVL_STDIO_INHERIT:
            break;
        case EVL_STDIO_NULL:
            rc = posix_spawn_file_actions_addopen(fa, i, "/dev/null", O_RDWR, 0);
            break;
        case EVL_STDIO_FD:
            if (s->fd < 0) {
                return EVL_EINVAL;
            }
            rc = posix_spawn_file_actions_adddup2(fa, s->fd, i);
            break;
        case EVL_STDIO_PIPE: {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) {
                return sys_error(errno);
            }
            /* The child reads its stdin and writes the other two. */
            child[i] = i == 0 ? p[0] : p[1];
            parent[i] = i == 0 ? p[1] : p[0];
            rc = posix_spawn_file_actions_adddup2(fa, child[i], i);
            break;
        }
        default:
            return EVL_EINVAL;
        }
        if (rc != 0) {
            return sys_error(rc);
        }
    }
    return 0;
}

int evl_spawn(struct evl_loop *loop, struct evl_spawn_options *o, pid_t *pid_out,
              uint64_t *watch_id_out)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (!o || !pid_out || o->size != sizeof(*o) || !o->file || !o->file[0]) {
        return EVL_EINVAL;
    }
    int child[3] = {-1, -1, -1};
    int parent[3] = {-1, -1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return EVL_ENOMEM;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return EVL_ENOMEM;
    }
    rc = plan_stdio(o, &fa, child, parent);
    if (rc == 0 && o->cwd) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
        rc = posix_spawn_file_actions_addchdir_np(&fa, o->cwd) == 0 ? 0 : EVL_ENOMEM;
#else
        rc = EVL_ENOSYS;
#endif
    }
    if (rc == 0) {
        /* A clean signal state: nothing blocked, every signal at its default (the parent's
         * handlers and ignored signals are the parent's business). */
        sigset_t none;
        sigset_t all;
        sigemptyset(&none);
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    pid_t pid = -1;
    char found[4096];
    const char *program = o->file;
    if (rc == 0) {
        int err = resolve_program(o->file, found, sizeof(found), &program);
        rc = err == 0 ? 0 : sys_error(err);
    }
    if (rc == 0) {
        const char *fallback[2] = {o->file, NULL};
        /* posix_spawn's prototype predates const; it never writes the strings. */
        char *const *argv = (char *const *)(uintptr_t)(o->argv ? o->argv : fallback);
        char *const *envp = o->envp ? (char *const *)(uintptr_t)o->envp : environ;
        /* glibc's posix_spawn also reports an exec failure the look above could not
         * foresee (a file removed meanwhile) as its return value. */
        int err = posix_spawn(&pid, program, &fa, &attr, argv, envp);
        rc = err == 0 ? 0 : sys_error(err);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 3; i++) {
        if (child[i] >= 0) {
            close(child[i]);
        }
    }
    if (rc == 0 && o->exit_cb) {
        rc = evl_child_watch(loop, pid, o->exit_cb, o->exit_arg, watch_id_out);
        if (rc != 0) {
            /* Nothing may be left half-done: the child is ended and reaped. */
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        if (parent[i] < 0) {
            continue;
        }
        if (rc == 0) {
            fcntl(parent[i], F_SETFL, fcntl(parent[i], F_GETFL) | O_NONBLOCK);
            o->stdio[i].fd = parent[i];
        } else {
            close(parent[i]);
        }
    }
    if (rc == 0) {
        *pid_out = pid;
    }
    return rc;
}

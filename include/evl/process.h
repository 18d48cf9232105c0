/*
 * Child processes: watching a child's exit, and starting children (the common part of
 * libuv's uv_spawn). Every function here is loop thread only (EVL_EPERM otherwise).
 *
 * Exit watching uses a pidfd on Linux 5.3 and later (the child's exit makes an fd readable;
 * nothing process-wide is touched), and otherwise a SIGCHLD watcher (signal.h) that reaps
 * the watched pids with waitpid(pid, WNOHANG), never other children.
 */
#ifndef EVL_PROCESS_H
#define EVL_PROCESS_H

#include "common.h"
#include "loop.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called on the loop thread once the child has ended and been reaped: exit_status is its exit
 * code (0..255) when it exited, term_signal the signal that ended it (exit_status then -1),
 * else 0. The watcher is gone when this runs. */
typedef void (*evl_child_cb)(struct evl_loop *loop, uint64_t id, pid_t pid, int exit_status,
                             int term_signal, void *arg);

/*
 * Watches pid, a child of this process not yet reaped by anyone else, and reaps it when it
 * ends. A watcher keeps the loop alive until its callback ran or it was stopped. *id_out
 * (may be NULL) gets its id. arg is borrowed.
 * Errors: EVL_EINVAL (NULL loop or cb, pid <= 0), EVL_EPERM (wrong thread), EVL_ECLOSED,
 * EVL_ENOENT (no such child: ECHILD), EVL_EEXIST (pid already watched on this loop),
 * EVL_ENOMEM, system errors.
 */
EVL_API int evl_child_watch(struct evl_loop *loop, pid_t pid, evl_child_cb cb, void *arg,
                            uint64_t *id_out);

/* Stops watching (the child is not reaped by evl then). Errors: EVL_EINVAL, EVL_EPERM,
 * EVL_ENOENT. */
EVL_API int evl_child_unwatch(struct evl_loop *loop, uint64_t id);

/* What a child's standard fd 0, 1 or 2 is. */
enum evl_stdio_kind {
    EVL_STDIO_INHERIT = 0, /* the parent's own fd of that number */
    EVL_STDIO_NULL = 1,    /* /dev/null */
    EVL_STDIO_PIPE = 2,    /* a new pipe; the parent's end (non-blocking, close-on-exec) is
                              returned in fd, for evl_fd_start; the caller closes it */
    EVL_STDIO_FD = 3       /* fd, a descriptor of the parent's (not closed by evl_spawn) */
};

struct evl_stdio {
    enum evl_stdio_kind kind;
    int fd;
};

/* Spawn options. Always initialise with evl_spawn_options_init() (size-versioned). */
struct evl_spawn_options {
    size_t size;             /* sizeof(struct evl_spawn_options) */
    const char *file;        /* the program; without a '/', searched in the parent's PATH */
    const char *const *argv; /* argv[0] included, NULL-terminated; NULL: {file, NULL} */
    const char *const *envp; /* "NAME=value", NULL-terminated; NULL: the parent's */
    const char *cwd;         /* NULL: the parent's */
    struct evl_stdio stdio[3];
    evl_child_cb exit_cb; /* optional: watched as by evl_child_watch */
    void *exit_arg;
};

/* Fills *options with defaults (inherit everything, no exit callback). Thread-safe. */
EVL_API void evl_spawn_options_init(struct evl_spawn_options *options);

/*
 * Starts a child. On success *pid_out is its pid, the PIPE entries of options->stdio carry
 * the parent's ends, and (with exit_cb) *watch_id_out (may be NULL) the exit watcher's id.
 * The child starts with an empty signal mask and every signal at its default disposition
 * (also those the parent ignores, such as SIGPIPE in evljs). An exec failure (no such file, not
 * executable ...) is reported here as the child's exec errno, with nothing left behind (the child
 * is reaped, pipes closed). Errors: EVL_EINVAL (NULL loop, options or file, bad size or stdio),
 * EVL_EPERM (wrong thread), EVL_ECLOSED, EVL_ENOENT (exec: no such file), EVL_ENOMEM, system
 * errors.
 */
EVL_API int evl_spawn(struct evl_loop *loop, struct evl_spawn_options *options, pid_t *pid_out,
                      uint64_t *watch_id_out);

#ifdef __cplusplus
}
#endif

#endif

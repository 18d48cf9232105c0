/*
 * Signal watchers (include/evl/signal.h). Two halves:
 *
 * The process half is shared by every loop: a table of the loops that watch signals (slots
 * the handler reads without a lock), the dispositions found before the first watcher of each
 * signal, and the handler. The handler only does async-signal-safe things: lock-free atomic
 * increments and a write() to each watching loop's event fd. A loop leaves the table by
 * clearing its slot and then waiting until no handler is running, so a handler never touches
 * a loop that is gone.
 *
 * The loop half: an event fd registered with the loop's fd API (so deliveries wake the poll
 * phase and run as an fd callback), per-signal counters the handler bumps, and the watchers
 * in a list. Watchers removed while a delivery is walking the list are unlinked once it
 * returns.
 */
#include "core/loop_state.h"

#include "evl/errno.h"
#include "evl/io.h"
#include "evl/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#define SIG_COUNT 65 /* signals 1..64 */
#define MAX_LOOPS 64

struct sig_watcher {
    struct sig_watcher *next;
    evl_signal_cb cb;
    void *arg;
    uint64_t id;
    uint32_t seen; /* deliveries owed to this watcher, handed over at its callback */
    int signum;
    bool ref;
    bool stopped; /* unlinked after the walk that saw it stopped */
};

struct sig_loop {
    /* What the handler touches. */
    _Atomic uint32_t counts[SIG_COUNT];
    _Atomic uint64_t watched; /* bit signum-1: some watcher of this loop watches signum */
    int rfd;                  /* eventfd (or a pipe's read end) */
    int wfd;                  /* the same eventfd, or the pipe's write end */
    /* Loop thread only. */
    struct evl_loop *loop;
    struct sig_watcher *watchers;
    uint64_t next_id;
    uint32_t nref;    /* ref'd watchers: the fd registration is ref'd while > 0 */
    uint32_t walking; /* deliveries in progress */
    uint32_t per_signal[SIG_COUNT];
    bool dirty;
    int slot;
};

/* ---- the process half ----------------------------------------------------------------------- */

static struct sig_loop *_Atomic slots[MAX_LOOPS];
static _Atomic int handlers_running;
static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous[SIG_COUNT]; /* process_lock */
static uint32_t process_watchers[SIG_COUNT]; /* process_lock: watchers over every loop */

static void on_signal(int signum)
{
    int saved = errno;
    atomic_fetch_add(&handlers_running, 1);
    uint64_t bit = (uint64_t)1 << (signum - 1);
    for (int i = 0; i < MAX_LOOPS; i++) {
        struct sig_loop *s = atomic_load(&slots[i]);
        if (s && (atomic_load(&s->watched) & bit)) {
            atomic_fetch_add(&s->counts[signum], 1);
            uint64_t one = 1;
            ssize_t rc = write(s->wfd, &one, s->wfd == s->rfd ? sizeof(one) : 1);
            (void)rc; /* a full pipe or counter already wakes the loop */
        }
    }
    atomic_fetch_sub(&handlers_running, 1);
    errno = saved;
}

/* process_lock held: the first watcher of signum in the process installs the handler. */
static int process_watch(int signum)
{
    if (process_watchers[signum]++ > 0) {
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &previous[signum]) != 0) {
        process_watchers[signum]--;
        return errno == EINVAL ? EVL_EINVAL : evl_err_from_errno(errno);
    }
    return 0;
}

/* process_lock held: the last watcher puts back what was there before the first. */
static void process_unwatch(int signum)
{
    if (--process_watchers[signum] == 0) {
        sigaction(signum, &previous[signum], NULL);
    }
}

/* ---- the loop half -------------------------------------------------------------------------- */

static void deliver(struct evl_loop *loop, int fd, int status, unsigned events, void *arg);

static int open_event_fd(struct sig_loop *s)
{
    const struct evl__sys *sys = evl__loop_sys(s->loop);
#if defined(__linux__)
    int fd = sys->eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0) {
        s->rfd = s->wfd = fd;
        return 0;
    }
#endif
    int p[2];
    if (sys->pipe(p) != 0) {
        return evl_err_from_errno(errno);
    }
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    s->rfd = p[0];
    s->wfd = p[1];
    return 0;
}

static void close_event_fd(struct sig_loop *s)
{
    close(s->rfd);
    if (s->wfd != s->rfd) {
        close(s->wfd);
    }
}

/* Takes the loop out of the handler's table; afterwards no handler touches s. */
static void leave_table(struct sig_loop *s)
{
    atomic_store(&slots[s->slot], NULL);
    while (atomic_load(&handlers_running) > 0) {
        sched_yield();
    }
}

static void sig_loop_free(struct evl_loop *loop, struct sig_loop *s)
{
    pthread_mutex_lock(&process_lock);
    for (struct sig_watcher *w = s->watchers; w;) {
        struct sig_watcher *next = w->next;
        if (!w->stopped) {
            process_unwatch(w->signum);
        }
        evl__loop_free(loop, w);
        w = next;
    }
    leave_table(s);
    pthread_mutex_unlock(&process_lock);
    close_event_fd(s);
    evl__loop_free(loop, s);
}

/* Teardown: watchers go without callbacks, like timers; the fd registration itself was
 * dropped by the I/O teardown or goes with it. */
static void signals_teardown(struct evl_loop *loop, void *arg)
{
    struct sig_loop *s = arg;
    if (evl_fd_active(loop, s->rfd)) {
        (void)evl_fd_stop(loop, s->rfd);
    }
    sig_loop_free(loop, s);
    loop->signals = NULL;
}

static int sig_loop_get(struct evl_loop *loop, struct sig_loop **out)
{
    struct sig_loop *s = loop->signals;
    if (s) {
        *out = s;
        return 0;
    }
    s = evl__loop_malloc(loop, sizeof(*s));
    if (!s) {
        return EVL_ENOMEM;
    }
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < SIG_COUNT; i++) {
        atomic_init(&s->counts[i], 0);
    }
    atomic_init(&s->watched, 0);
    s->loop = loop;
    s->next_id = 1;
    int rc = open_event_fd(s);
    if (rc != 0) {
        evl__loop_free(loop, s);
        return rc;
    }
    rc = evl_fd_start(loop, s->rfd, EVL_READABLE, deliver, s);
    if (rc != 0) {
        goto fail_close;
    }
    (void)evl_fd_unref(loop, s->rfd); /* ref'd while a ref'd watcher exists */
    pthread_mutex_lock(&process_lock);
    s->slot = -1;
    for (int i = 0; i < MAX_LOOPS && s->slot < 0; i++) {
        if (!atomic_load(&slots[i])) {
            s->slot = i;
            atomic_store(&slots[i], s);
        }
    }
    pthread_mutex_unlock(&process_lock);
    if (s->slot < 0) {
        rc = EVL_ELIMIT;
        goto fail_stop;
    }
    rc = evl__loop_at_teardown(loop, signals_teardown, s);
    if (rc != 0) {
        leave_table(s);
        goto fail_stop;
    }
    loop->signals = s;
    *out = s;
    return 0;

fail_stop:
    (void)evl_fd_stop(loop, s->rfd);
fail_close:
    close_event_fd(s);
    evl__loop_free(loop, s);
    return rc;
}

static void set_fd_ref(struct sig_loop *s)
{
    if (s->nref > 0) {
        (void)evl_fd_ref(s->loop, s->rfd);
    } else {
        (void)evl_fd_unref(s->loop, s->rfd);
    }
}

static void unlink_stopped(struct evl_loop *loop, struct sig_loop *s)
{
    struct sig_watcher **pp = &s->watchers;
    while (*pp) {
        struct sig_watcher *w = *pp;
        if (w->stopped) {
            *pp = w->next;
            evl__loop_free(loop, w);
        } else {
            pp = &w->next;
        }
    }
    s->dirty = false;
}

/* The fd callback: hands each signal's count to its watchers, each call a callback of its
 * own (a checkpoint after each). */
static void deliver(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct sig_loop *s = arg;
    uint64_t drain[16];
    while (read(fd, drain, sizeof(drain)) > 0) {
    }
    s->walking++;
    for (int signum = 1; signum < SIG_COUNT; signum++) {
        if (atomic_load_explicit(&s->counts[signum], memory_order_relaxed) == 0) {
            continue;
        }
        uint32_t n = atomic_exchange(&s->counts[signum], 0);
        for (struct sig_watcher *w = s->watchers; w; w = w->next) {
            if (!w->stopped && w->signum == signum) {
                w->seen += n;
            }
        }
    }
    for (struct sig_watcher *w = s->watchers; w; w = w->next) {
        if (w->stopped || w->seen == 0) {
            continue;
        }
        uint32_t n = w->seen;
        w->seen = 0;
        evl__loop_enter_callback(loop);
        w->cb(loop, w->id, w->signum, n, w->arg);
        evl__loop_leave_callback(loop);
        evl__loop_after_callback(loop);
        if (evl__loop_interrupted(loop)) {
            /* What is owed stays in seen; the event fd is made readable again so that the
             * next iteration hands it over without waiting for another signal. */
            uint64_t one = 1;
            ssize_t rc = write(s->wfd, &one, s->wfd == s->rfd ? sizeof(one) : 1);
            (void)rc;
            break;
        }
    }
    if (--s->walking == 0 && s->dirty) {
        unlink_stopped(loop, s);
    }
}

static int check_loop(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    return 0;
}

int evl_signal_start(struct evl_loop *loop, int signum, evl_signal_cb cb, void *arg,
                     uint64_t *id_out)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (!cb || !id_out || signum < 1 || signum >= SIG_COUNT || signum == SIGKILL ||
        signum == SIGSTOP) {
        return EVL_EINVAL;
    }
    if (evl_loop_state(loop) == EVL_LOOP_TERMINATED || evl__loop_closing(loop) ||
        evl__loop_tearing_down(loop)) {
        return EVL_ECLOSED;
    }
    struct sig_loop *s = NULL;
    rc = sig_loop_get(loop, &s);
    if (rc != 0) {
        return rc;
    }
    struct sig_watcher *w = evl__loop_malloc(loop, sizeof(*w));
    if (!w) {
        return EVL_ENOMEM;
    }
    pthread_mutex_lock(&process_lock);
    rc = process_watch(signum);
    pthread_mutex_unlock(&process_lock);
    if (rc != 0) {
        evl__loop_free(loop, w);
        return rc;
    }
    memset(w, 0, sizeof(*w));
    w->cb = cb;
    w->arg = arg;
    w->id = s->next_id++;
    w->signum = signum;
    w->ref = true;
    /* Appended: watchers of one signal are called in the order they started. */
    struct sig_watcher **pp = &s->watchers;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = w;
    if (s->per_signal[signum]++ == 0) {
        atomic_fetch_or(&s->watched, (uint64_t)1 << (signum - 1));
    }
    if (s->nref++ == 0) {
        set_fd_ref(s);
    }
    *id_out = w->id;
    return 0;
}

static struct sig_watcher *find(struct evl_loop *loop, uint64_t id)
{
    struct sig_loop *s = loop->signals;
    for (struct sig_watcher *w = s ? s->watchers : NULL; w; w = w->next) {
        if (w->id == id && !w->stopped) {
            return w;
        }
    }
    return NULL;
}

int evl_signal_stop(struct evl_loop *loop, uint64_t id)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    struct sig_watcher *w = find(loop, id);
    if (!w) {
        return EVL_ENOENT;
    }
    struct sig_loop *s = loop->signals;
    w->stopped = true;
    if (--s->per_signal[w->signum] == 0) {
        atomic_fetch_and(&s->watched, ~((uint64_t)1 << (w->signum - 1)));
        atomic_store(&s->counts[w->signum], 0);
    }
    if (w->ref && --s->nref == 0) {
        set_fd_ref(s);
    }
    pthread_mutex_lock(&process_lock);
    process_unwatch(w->signum);
    pthread_mutex_unlock(&process_lock);
    s->dirty = true;
    if (s->walking == 0) {
        unlink_stopped(loop, s);
    }
    return 0;
}

static int set_ref(struct evl_loop *loop, uint64_t id, bool on)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    struct sig_watcher *w = find(loop, id);
    if (!w) {
        return EVL_ENOENT;
    }
    if (w->ref != on) {
        struct sig_loop *s = loop->signals;
        w->ref = on;
        uint32_t before = s->nref;
        s->nref = on ? s->nref + 1 : s->nref - 1;
        if ((before == 0) != (s->nref == 0)) {
            set_fd_ref(s);
        }
    }
    return 0;
}

int evl_signal_ref(struct evl_loop *loop, uint64_t id)
{
    return set_ref(loop, id, true);
}

int evl_signal_unref(struct evl_loop *loop, uint64_t id)
{
    return set_ref(loop, id, false);
}

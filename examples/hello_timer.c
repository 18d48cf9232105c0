/*
 * The smallest evl program: a timeout, an interval that clears itself, and a microtask.
 * evl_loop_run returns on its own once nothing ref'd is left, like Node or libuv.
 */
#include <evl.h>
#include <stdio.h>

static char after_timeout[] = "after the timeout";
static char ten_ms[] = "10 ms";

struct ticker {
    int remaining;
};

static void microtask_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    printf("microtask: %s\n", (const char *)arg);
}

static void timeout_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    printf("timeout: %s\n", (const char *)arg);
    /* A microtask queued by a callback runs right after it, before any other callback. */
    evl_queue_microtask(loop, microtask_cb, after_timeout);
}

static void interval_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct ticker *t = arg;
    printf("interval: %d left\n", --t->remaining);
    if (t->remaining == 0) {
        evl_timer_clear(loop, id); /* clearing from its own callback stops further runs */
    }
}

int main(void)
{
    struct evl_loop *loop = NULL;
    int rc = evl_loop_new(&loop, NULL);
    if (rc != 0) {
        fprintf(stderr, "evl_loop_new: %s\n", evl_strerror(rc));
        return 1;
    }
    struct ticker ticker = {3};
    uint64_t id = 0;
    evl_timer_set(loop, timeout_cb, ten_ms, 10, 0, &id);
    evl_timer_set(loop, interval_cb, &ticker, 2, 2, &id);
    rc = evl_loop_run(loop, EVL_RUN_DEFAULT);
    if (rc < 0) {
        fprintf(stderr, "evl_loop_run: %s\n", evl_strerror(rc));
    }
    evl_loop_free(loop);
    return rc < 0;
}

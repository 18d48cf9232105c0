/*
 * Feeding a loop from other threads: four producers submit tasks; the loop thread counts
 * them and then shuts down gracefully, which runs every task already accepted.
 */
#include <evl.h>
#include <pthread.h>
#include <stdio.h>

#define PRODUCERS          4
#define TASKS_PER_PRODUCER 100000

static unsigned long ran;

static void count_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    ran++;
}

static void *producer_main(void *arg)
{
    struct evl_loop *loop = arg;
    for (int i = 0; i < TASKS_PER_PRODUCER; i++) {
        if (evl_loop_submit(loop, count_cb, NULL) != 0) {
            break; /* refused (loop closed): the task will never run, nothing to free */
        }
    }
    return NULL;
}

int main(void)
{
    struct evl_loop *loop = NULL;
    if (evl_loop_new(&loop, NULL) != 0) {
        return 1;
    }
    /* Keep the loop alive while producers are still starting. */
    evl_loop_ref(loop);
    pthread_t threads[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_create(&threads[i], NULL, producer_main, loop);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
    }
    evl_loop_unref(loop);
    evl_loop_run(loop, EVL_RUN_DEFAULT);
    printf("ran %lu of %d tasks\n", ran, PRODUCERS * TASKS_PER_PRODUCER);
    evl_loop_free(loop);
    return ran == (unsigned long)PRODUCERS * TASKS_PER_PRODUCER ? 0 : 1;
}

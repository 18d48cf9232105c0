/* Context hooks and correlation ids: capture at schedule time, restore around the
 * callback, release when the work is done; UUIDv7 layout and order. The scheduler here is
 * the test itself (as an embedder with its own queue would be), driving real loop timers. */
#include "evl_test.h"

#include <pthread.h>
#include <time.h>

static struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

/* An embedder's context: a current integer, values boxed so releases can be counted. */
struct box {
    int value;
};

struct store {
    struct box *current;
    int captures, releases, enters, leaves;
};

static void *s_capture(void *ud)
{
    struct store *s = ud;
    s->captures++;
    if (s->current == NULL) {
        return NULL;
    }
    struct box *b = malloc(sizeof(*b));
    b->value = s->current->value;
    return b;
}

static void *s_enter(void *ud, void *value)
{
    struct store *s = ud;
    s->enters++;
    struct box *prev = s->current;
    s->current = value;
    return prev;
}

static void s_leave(void *ud, void *previous)
{
    struct store *s = ud;
    s->leaves++;
    s->current = previous;
}

static void s_release(void *ud, void *value)
{
    struct store *s = ud;
    s->releases++;
    free(value);
}

static const struct evl_context_hooks hooks = {sizeof(struct evl_context_hooks), s_capture, s_enter,
                                               s_leave, s_release};

static int current(const struct store *s)
{
    return s->current ? s->current->value : -1;
}

TEST(capture_without_context_is_free)
{
    struct evl_loop *loop = new_loop();
    struct evl_context_frame *f = (struct evl_context_frame *)&f;
    uint64_t before = evl_test_live_blocks();
    ASSERT_OK(evl_context_capture(loop, &f));
    ASSERT_PTR_EQ(f, NULL);
    ASSERT_UEQ(evl_test_live_blocks(), before);
    struct evl_context_scope sc;
    evl_context_enter(loop, NULL, &sc);
    evl_context_leave(loop, &sc);
    evl_context_release(loop, NULL);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(capture_enter_leave_release)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    ASSERT_EQ(slot, 0);
    struct box five = {5};
    struct box nine = {9};
    s.current = &five;
    struct evl_context_frame *f = NULL;
    ASSERT_OK(evl_context_capture(loop, &f)); /* schedule time */
    ASSERT_NOT_NULL(f);
    s.current = &nine;
    struct evl_context_scope sc;
    evl_context_enter(loop, f, &sc); /* around the callback */
    ASSERT_EQ(current(&s), 5);
    evl_context_leave(loop, &sc);
    ASSERT_EQ(current(&s), 9);
    /* An interval keeps its frame across runs: retain, enter again. */
    evl_context_retain(f);
    evl_context_enter(loop, f, &sc);
    ASSERT_EQ(current(&s), 5);
    evl_context_leave(loop, &sc);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 0);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 1);
    ASSERT_EQ(s.enters, 2);
    ASSERT_EQ(s.leaves, 2);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(scopes_nest)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box a = {1};
    struct box b = {2};
    unsigned char ida[16];
    unsigned char idb[16];
    unsigned char got[16];
    ASSERT_OK(evl_correlation_new(loop, ida));
    ASSERT_OK(evl_correlation_new(loop, idb));
    s.current = &a;
    ASSERT_OK(evl_correlation_set(loop, ida));
    struct evl_context_frame *fa = NULL;
    ASSERT_OK(evl_context_capture(loop, &fa));
    s.current = &b;
    ASSERT_OK(evl_correlation_set(loop, idb));
    struct evl_context_frame *fb = NULL;
    ASSERT_OK(evl_context_capture(loop, &fb));
    s.current = NULL;
    ASSERT_OK(evl_correlation_set(loop, NULL));
    struct evl_context_scope outer;
    struct evl_context_scope inner;
    evl_context_enter(loop, fa, &outer);
    ASSERT_EQ(current(&s), 1);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, ida, 16), 0);
    evl_context_enter(loop, fb, &inner);
    ASSERT_EQ(current(&s), 2);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, idb, 16), 0);
    evl_context_leave(loop, &inner);
    ASSERT_EQ(current(&s), 1);
    ASSERT_EQ(memcmp(got, idb, 16), 0);
    ASSERT_EQ(evl_correlation_get(loop, got), 1);
    ASSERT_EQ(memcmp(got, ida, 16), 0);
    /* The empty frame clears both inside its scope. */
    evl_context_enter(loop, NULL, &inner);
    ASSERT_EQ(current(&s), -1);
    ASSERT_EQ(evl_correlation_get(loop, got), 0);
    evl_context_leave(loop, &inner);
    evl_context_leave(loop, &outer);
    ASSERT_EQ(current(&s), -1);
    ASSERT_EQ(evl_correlation_get(loop, got), 0);
    evl_context_release(loop, fa);
    evl_context_release(loop, fb);
    ASSERT_EQ(s.releases, 2);
    ASSERT_OK(evl_loop_free(loop));
}

/* The pattern the loop's schedulers follow, with real timers: capture when the timer is
 * set, enter/leave around its callback, release when it is done. */
struct scheduled {
    struct evl_context_frame *frame;
    struct store *s;
    unsigned char want_id[16];
    int seen_value;
    int seen_id;
    int runs;
};

static void timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct scheduled *w = arg;
    struct evl_context_scope sc;
    evl_context_enter(loop, w->frame, &sc);
    /* ...the user's callback body: */
    w->seen_value = current(w->s);
    unsigned char got[16];
    w->seen_id = evl_correlation_get(loop, got) && memcmp(got, w->want_id, 16) == 0;
    evl_log(loop, EVL_LOG_WARN, "app", "inside"); /* carries the id (see test_log) */
    w->runs++;
    evl_context_leave(loop, &sc);
    evl_context_release(loop, w->frame);
    w->frame = NULL;
}

static void quiet(void *ud, int level, const char *c, const char *m)
{
    (void)ud;
    (void)level;
    (void)c;
    (void)m;
}

TEST(context_follows_a_timer)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = quiet;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box request = {42};
    struct scheduled w;
    memset(&w, 0, sizeof(w));
    w.s = &s;
    s.current = &request;
    ASSERT_OK(evl_correlation_new(loop, w.want_id));
    ASSERT_OK(evl_correlation_set(loop, w.want_id));
    ASSERT_OK(evl_context_capture(loop, &w.frame));
    ASSERT_OK(evl_timer_set(loop, timer_cb, &w, 1, 0, NULL));
    /* The request ends; its context is gone before the timer runs. */
    s.current = NULL;
    ASSERT_OK(evl_correlation_set(loop, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(w.runs, 1);
    ASSERT_EQ(w.seen_value, 42);
    ASSERT_EQ(w.seen_id, 1);
    ASSERT_EQ(current(&s), -1);
    /* The test's own frame and the one the loop captured for the timer itself. */
    ASSERT_EQ(s.captures, 2);
    ASSERT_EQ(s.releases, 2);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(removed_slot_still_releases)
{
    struct evl_loop *loop = new_loop();
    struct store s;
    memset(&s, 0, sizeof(s));
    int slot = -1;
    ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
    struct box v = {3};
    s.current = &v;
    struct evl_context_frame *f = NULL;
    ASSERT_OK(evl_context_capture(loop, &f));
    ASSERT_OK(evl_context_remove_slot(loop, slot));
    ASSERT_ERR(EVL_ENOENT, evl_context_remove_slot(loop, slot));
    struct evl_context_scope sc;
    evl_context_enter(loop, f, &sc);
    ASSERT_EQ(s.enters, 0); /* the slot is gone: not entered */
    evl_context_leave(loop, &sc);
    evl_context_release(loop, f);
    ASSERT_EQ(s.releases, 1);
    struct evl_context_frame *g = NULL;
    ASSERT_OK(evl_context_capture(loop, &g));
    ASSERT_PTR_EQ(g, NULL); /* no slot, no id: nothing to capture */
    ASSERT_OK(evl_loop_free(loop));
}

static void *add_slot_from_thread(void *arg)
{
    int slot;
    return (void *)(intptr_t)evl_context_add_slot(arg, &hooks, NULL, &slot);
}

TEST(slot_errors)
{
    struct evl_loop *loop = new_loop();
    int slot;
    struct evl_context_hooks bad = hooks;
    bad.size = 4;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &bad, NULL, &slot));
    bad = hooks;
    bad.enter = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &bad, NULL, &slot));
    ASSERT_ERR(EVL_EINVAL, evl_context_remove_slot(loop, 99));
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, add_slot_from_thread, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    struct store s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < EVL_CONTEXT_MAX_SLOTS; i++) {
        ASSERT_OK(evl_context_add_slot(loop, &hooks, &s, &slot));
        ASSERT_EQ(slot, i);
    }
    ASSERT_ERR(EVL_ELIMIT, evl_context_add_slot(loop, &hooks, &s, &slot));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(uuid_v7_layout_and_order)
{
    struct evl_loop *loop = new_loop();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    unsigned char prev[16];
    memset(prev, 0, sizeof(prev));
    for (int i = 0; i < 20000; i++) {
        unsigned char id[16];
        ASSERT_OK(evl_correlation_new(loop, id));
        ASSERT_EQ(id[6] >> 4, 7);           /* version */
        ASSERT_EQ(id[8] >> 6, 2);           /* variant 10 */
        ASSERT_GT(memcmp(id, prev, 16), 0); /* strictly increasing */
        memcpy(prev, id, 16);
        if (i == 0) {
            uint64_t t = 0;
            for (int k = 0; k < 6; k++) {
                t = t << 8 | id[k];
            }
            ASSERT_TRUE(t >= now_ms && t < now_ms + 5000);
        }
    }
    char text[37];
    evl_uuid_format(prev, text);
    ASSERT_UEQ(strlen(text), 36);
    ASSERT_EQ(text[14], '7');
    unsigned char back[16];
    ASSERT_OK(evl_uuid_parse(text, back));
    ASSERT_EQ(memcmp(back, prev, 16), 0);
    ASSERT_OK(evl_uuid_parse("0190B6B2-1234-7ABC-8DEF-0123456789AB", back));
    ASSERT_EQ(back[0], 0x01);
    ASSERT_EQ(back[15], 0xab);
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-1234-7abc-8def-0123456789a", back));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2x1234-7abc-8def-0123456789ab", back));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-1234-7abc-8def-0123456789ag", back));
    ASSERT_ERR(EVL_EINVAL, evl_correlation_new(loop, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

static void *new_ids(void *arg)
{
    struct evl_loop *loop = arg;
    unsigned char prev[16] = {0};
    for (int i = 0; i < 5000; i++) {
        unsigned char id[16];
        if (evl_correlation_new(loop, id) != 0 || memcmp(id, prev, 16) <= 0) {
            return (void *)1;
        }
        memcpy(prev, id, 16);
    }
    return NULL;
}

TEST(uuid_from_many_threads)
{
    struct evl_loop *loop = new_loop();
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(pthread_create(&th[i], NULL, new_ids, loop), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc = NULL;
        pthread_join(th[i], &rc);
        ASSERT_PTR_EQ(rc, NULL);
    }
    unsigned char id[16];
    ASSERT_EQ(evl_correlation_get(loop, id), 0);
    ASSERT_OK(evl_loop_free(loop));
}

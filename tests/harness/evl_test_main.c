/*
 * The runner behind every test executable: `test_x NAME` runs one case, `test_x --list`
 * prints the case names. The tracking allocator is on for the whole case, and a case that
 * returns with live blocks fails with the counts.
 */
#include "evl_test.h"

#include <stdarg.h>

static struct evl_test_case *cases;
int evl_test_skip_leak_check;

void evl_test_register(struct evl_test_case *tc)
{
    tc->next = cases;
    cases = tc;
}

void evl_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    exit(1);
}

uint64_t evl_test_clock_read(void *ud)
{
    return ((struct evl_test_clock *)ud)->now_ns;
}

void evl_test_clock_advance_ms(struct evl_test_clock *clock, uint64_t ms)
{
    clock->now_ns += ms * 1000000u;
}

uint64_t evl_test_live_blocks(void)
{
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    return st.live_blocks;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s --list | CASE\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (struct evl_test_case *tc = cases; tc; tc = tc->next) {
            printf("%s\n", tc->name);
        }
        return 0;
    }
    for (struct evl_test_case *tc = cases; tc; tc = tc->next) {
        if (strcmp(tc->name, argv[1]) != 0) {
            continue;
        }
        evl_alloc_tracking_enable();
        tc->fn();
        struct evl_alloc_stats st;
        evl_alloc_stats(&st);
        if (!evl_test_skip_leak_check && st.live_blocks != 0) {
            fprintf(stderr, "FAIL: %s leaked %" PRIu64 " blocks (%" PRIu64 " bytes)\n", tc->name,
                    st.live_blocks, st.live_bytes);
            return 1;
        }
        printf("PASS: %s\n", tc->name);
        return 0;
    }
    fprintf(stderr, "no test case named %s\n", argv[1]);
    return 2;
}

/*
 * Start-up cost of a runtime: runs a command REPS times (stdout to /dev/null) and reports
 * the median wall time from spawn to exit, and the peak resident set size the kernel
 * recorded for the child (wait4's ru_maxrss).
 *
 *   bench_spawn NAME LIBRARY REPS command [args...]
 * prints
 *   NAME LIBRARY ops REPS ns_per_op MEDIAN_NS p10_ns X rss_kb MEDIAN_KB
 * and exits 1 if any run fails (a runtime that crashes at start-up has no start-up time).
 */
#include "bench_common.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s NAME LIBRARY REPS command [args...]\n", argv[0]);
        return 2;
    }
    bench_current = argv[1];
    bench_lib = argv[2];
    uint64_t reps = bench_parse_u64(argv[3]);
    BENCH_CHECK(reps > 0, "REPS must be positive");
    uint64_t *wall = bench_alloc(reps, sizeof(*wall));
    uint64_t *rss = bench_alloc(reps, sizeof(*rss));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    for (uint64_t i = 0; i < reps; i++) {
        pid_t pid = 0;
        int status = 0;
        struct rusage ru;
        uint64_t t0 = bench_now_ns();
        int rc = posix_spawn(&pid, argv[4], &fa, NULL, &argv[4], environ);
        BENCH_CHECK(rc == 0, "spawn %s: %s", argv[4], strerror(rc));
        pid_t got = -1;
        do {
            got = wait4(pid, &status, 0, &ru);
        } while (got < 0 && errno == EINTR);
        wall[i] = bench_now_ns() - t0;
        BENCH_CHECK(got == pid, "wait4: %s", strerror(errno));
        BENCH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %d",
                    argv[4], status);
        rss[i] = (uint64_t)ru.ru_maxrss;
    }
    posix_spawn_file_actions_destroy(&fa);
    uint64_t med = bench_quantile(wall, reps, 0.5, 0);
    uint64_t p10 = bench_quantile(wall, reps, 0.1, 1);
    uint64_t rss_med = bench_quantile(rss, reps, 0.5, 0);
    bench_report(argv[1], reps, (double)med, "p10_ns %" PRIu64 " rss_kb %" PRIu64, p10, rss_med);
    free(wall);
    free(rss);
    return 0;
}

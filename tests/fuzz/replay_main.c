/*
 * Runs a libFuzzer target without libFuzzer, so every fuzz target is also a regular test:
 *   fuzz_x FILE|DIR...        replays the given inputs (a saved crash, a corpus directory)
 *   fuzz_x --random N SEED    feeds N pseudo-random inputs from a fixed seed
 * The fuzz preset links the same target with -fsanitize=fuzzer instead of this file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "evl/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64: tiny, good enough to spread inputs, identical on every machine. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int replay_random(unsigned long count, uint64_t seed)
{
    uint8_t buf[4096];
    for (unsigned long i = 0; i < count; i++) {
        size_t len = (size_t)(next_random(&seed) % sizeof(buf));
        for (size_t j = 0; j < len; j++) {
            buf[j] = (uint8_t)next_random(&seed);
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("replayed %lu random inputs\n", count);
    return 0;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    return 0;
}

/* Every regular file of a corpus directory, in name order so runs are reproducible. */
static int replay_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        perror(dir);
        return 1;
    }
    int status = 0;
    int count = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            status |= replay_file(path);
            count++;
        }
        free(names[i]);
    }
    free(names);
    printf("replayed %d corpus inputs from %s\n", count, dir);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--random") == 0) {
        return replay_random(strtoul(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            status |= replay_dir(argv[i]);
        } else {
            status |= replay_file(argv[i]);
        }
    }
    return status;
}

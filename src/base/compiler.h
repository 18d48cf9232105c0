/*
 * Compiler and CPU helpers every floor may use: hints, the internal assertion, a pause for
 * spin-wait loops and the cheap thread identity. No state, no dependencies on the rest of
 * libevl.
 */
#ifndef EVL_BASE_COMPILER_H
#define EVL_BASE_COMPILER_H

#include <assert.h>
#include <pthread.h>
#include <stdint.h>

/* Cache line size: fields written by different threads sit this far apart. */
#define EVL__CACHELINE 64

/* Keeps a cold path (pool growth) out of the hot function that calls it once. */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__NOINLINE __attribute__((noinline))
#else
#define EVL__NOINLINE
#endif

/* Start fetching a cache line that is about to be read or written (hints; nothing
 * elsewhere). */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__PREFETCH_R(p) __builtin_prefetch((p), 0)
#define EVL__PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define EVL__PREFETCH_R(p) ((void)(p))
#define EVL__PREFETCH_W(p) ((void)(p))
#endif

/* An internal invariant: checked in debug and sanitizer builds (no NDEBUG), free otherwise. */
#define EVL__ASSERT(cond) assert(cond)

/* A container's invariant walk (its *_check(), 0 when valid) at a mutation point, in debug
 * and sanitizer builds only; n is the container's size. A walk costs O(n) or more per
 * operation, so it runs while n is at most EVL__CHECK_SMALL (every structural case occurs at
 * small sizes) and at every EVL__CHECK_EVERY-th such point of a thread (a corruption persists,
 * so a later walk still reports it): debug test runs stay within a small factor of release
 * ones. With NDEBUG (release and RelWithDebInfo, the builds `make bench` measures) neither n
 * nor the walk is evaluated. */
#define EVL__CHECK_SMALL 256
#define EVL__CHECK_EVERY 32
#ifdef NDEBUG
#define EVL__CHECK_WALK(n, check) ((void)0)
#else
static inline int evl__check_due(uint64_t n)
{
    static _Thread_local unsigned tick;
    return n <= EVL__CHECK_SMALL && ++tick % EVL__CHECK_EVERY == 0;
}
#define EVL__CHECK_WALK(n, check) EVL__ASSERT(!evl__check_due(n) || (check) == 0)
#endif

/* Inlines a helper that several callers share into the hot one (the timer arming path). */
#if defined(__GNUC__) || defined(__clang__)
#define EVL__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EVL__ALWAYS_INLINE inline
#endif

/* A pause for spin-wait loops: lets the sibling hyperthread run and saves power. */
static inline void evl__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The calling thread's identity, for cheap "am I the loop thread" checks. On x86-64 Linux
 * the thread pointer is pthread_self() itself (glibc and musl) and one instruction to read,
 * where pthread_self() is a call into libc. */
static inline uintptr_t evl__thread_id(void)
{
#if defined(__linux__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return (uintptr_t)__builtin_thread_pointer();
#else
    return (uintptr_t)pthread_self();
#endif
}

#endif

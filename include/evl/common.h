/* Shared definitions for every evl header: export macro, version, basic types. */
#ifndef EVL_COMMON_H
#define EVL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(EVL_SHARED)
#ifdef EVL_BUILDING
#define EVL_API __declspec(dllexport)
#else
#define EVL_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define EVL_API __attribute__((visibility("default")))
#else
#define EVL_API
#endif

#define EVL_VERSION_MAJOR  0
#define EVL_VERSION_MINOR  1
#define EVL_VERSION_PATCH  0
#define EVL_VERSION_STRING "0.1.0"

/* The library's version as a string such as "0.1.0". Thread-safe. */
EVL_API const char *evl_version(void);

struct evl_loop;

#ifdef __cplusplus
}
#endif

#endif

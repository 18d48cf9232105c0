/*
 * The error table: generated from EVL_ERRNO_MAP so names and messages stay in one place; and
 * the system-code family (EVL_ESYS), whose names come from errno_names.h and whose messages
 * from the operating system.
 *
 * In src/base (the bottom floor) because every floor maps system errors through it: the
 * backends as much as the subsystems and the public API.
 */
#include "evl/errno.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Every evl code must stay clear of the system family. */
#define EVL__ERRNO_CHECK(name, value, msg) \
    _Static_assert((value) < 0 && (value) > EVL_ESYS_BASE, "EVL_" #name " overlaps EVL_ESYS");
EVL_ERRNO_MAP(EVL__ERRNO_CHECK)
#undef EVL__ERRNO_CHECK

/* Errno values below this get a name and a message built once; every platform evl supports
 * numbers its errors well below it. Larger ones (still valid system codes) get generic text. */
#define SYS_TABLE   256
#define SYS_MSG_MAX 96

struct errno_name {
    int num;
    const char *name;
};

static const struct errno_name errno_names[] = {
#define ERRNO_NAME(e) {(e), #e},
#include "base/errno_names.h"
#undef ERRNO_NAME
};

/* Built once (pthread_once) and read-only afterwards, so the strings handed out are static
 * and every reader is thread-safe without a lock. */
static const char *sys_name[SYS_TABLE];
static char sys_unnamed[SYS_TABLE][16]; /* "ESYS<n>" for numbers with no known name */
static char sys_msg[SYS_TABLE][SYS_MSG_MAX];
static pthread_once_t sys_once = PTHREAD_ONCE_INIT;

/* The OS message for e. In the C locale where the C library can say so (glibc): the process's
 * locale could translate it, and a message that changes with the environment would make logs
 * and tests unpredictable. Called only while the table is built, by one thread. */
#if defined(__GLIBC__)
typedef locale_t os_locale;
#define OS_LOCALE_NONE ((locale_t)0)
static os_locale os_locale_open(void)
{
    return newlocale(LC_ALL_MASK, "C", (locale_t)0);
}
static void os_locale_close(os_locale l)
{
    if (l != OS_LOCALE_NONE) {
        freelocale(l);
    }
}
static const char *os_message(int e, os_locale l)
{
    return l != OS_LOCALE_NONE ? strerror_l(e, l) : strerror(e); // NOLINT(concurrency-mt-unsafe)
}
#else
typedef int os_locale;
static os_locale os_locale_open(void)
{
    return 0;
}
static void os_locale_close(os_locale l)
{
    (void)l;
}
static const char *os_message(int e, os_locale l)
{
    (void)l;
    return strerror(e); // NOLINT(concurrency-mt-unsafe): the table is built by one thread
}
#endif

static void sys_table_build(void)
{
    for (size_t i = sizeof(errno_names) / sizeof(errno_names[0]); i-- > 0;) {
        /* Walked backwards so that, of two names for one number, the first listed wins. */
        int e = errno_names[i].num;
        if (e > 0 && e < SYS_TABLE) {
            sys_name[e] = errno_names[i].name;
        }
    }
    os_locale l = os_locale_open();
    for (int e = 1; e < SYS_TABLE; e++) {
        if (!sys_name[e]) {
            snprintf(sys_unnamed[e], sizeof(sys_unnamed[e]), "ESYS%d", e);
            sys_name[e] = sys_unnamed[e];
        }
        const char *os = os_message(e, l);
        char *m = sys_msg[e];
        if (os && os[0] != '\0') {
            snprintf(m, SYS_MSG_MAX, "%s (%s)", os, sys_name[e]);
        } else {
            snprintf(m, SYS_MSG_MAX, "system error %d (%s)", e, sys_name[e]);
        }
        /* "Connection refused" reads as "connection refused", like evl's own messages;
         * "I/O error" or "RFS specific error" keep their capitals. */
        if (m[0] >= 'A' && m[0] <= 'Z' && m[1] >= 'a' && m[1] <= 'z') {
            m[0] = (char)(m[0] - 'A' + 'a');
        }
    }
    os_locale_close(l);
}

int evl_err_from_errno(int e)
{
    return e > 0 && e <= EVL_ESYS_ERRNO_MAX ? EVL_ESYS(e) : EVL_EIO;
}

int evl_err_is_sys(int code)
{
    return code < EVL_ESYS_BASE && code >= EVL_ESYS_BASE - EVL_ESYS_ERRNO_MAX;
}

int evl_err_errno(int code)
{
    return evl_err_is_sys(code) ? EVL_ESYS_BASE - code : 0;
}

const char *evl_strerror(int err)
{
    switch (err) {
#define EVL__ERRNO_MSG(name, value, msg) \
    case EVL_##name:                     \
        return msg;
        EVL_ERRNO_MAP(EVL__ERRNO_MSG)
#undef EVL__ERRNO_MSG
    case 0:
        return "success";
    default:
        break;
    }
    int e = evl_err_errno(err);
    if (e == 0) {
        return "unknown error";
    }
    if (e >= SYS_TABLE) {
        return "system error (an errno this platform does not number)";
    }
    (void)pthread_once(&sys_once, sys_table_build);
    return sys_msg[e];
}

const char *evl_err_name(int err)
{
    switch (err) {
#define EVL__ERRNO_NAME(name, value, msg) \
    case EVL_##name:                      \
        return "EVL_" #name;
        EVL_ERRNO_MAP(EVL__ERRNO_NAME)
#undef EVL__ERRNO_NAME
    case 0:
        return "EVL_OK";
    default:
        break;
    }
    int e = evl_err_errno(err);
    if (e == 0) {
        return "EVL_UNKNOWN";
    }
    if (e >= SYS_TABLE) {
        return "ESYS";
    }
    (void)pthread_once(&sys_once, sys_table_build);
    return sys_name[e];
}

const char *evl_version(void)
{
    return EVL_VERSION_STRING;
}

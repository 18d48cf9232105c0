/* The error table: generated from EVL_ERRNO_MAP so names and messages stay in one place. */
#include "evl/errno.h"

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
        return "unknown error";
    }
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
        return "EVL_UNKNOWN";
    }
}

const char *evl_version(void)
{
    return EVL_VERSION_STRING;
}

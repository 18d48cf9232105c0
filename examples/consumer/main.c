/* The smallest program against an installed evl: prints the version and an error string. */
#include <evl.h>
#include <stdio.h>

int main(void)
{
    printf("evl %s: %s\n", evl_version(), evl_strerror(EVL_ENOMEM));
    return 0;
}

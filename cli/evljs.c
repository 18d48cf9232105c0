/* evljs: run a JavaScript file or expression on an evl loop inside Duktape. All behaviour
 * lives in the adapter (src/duktape/runtime.c) so that it is tested like the rest of it. */
#include "evl_duktape.h"

int main(int argc, char **argv)
{
    return evl_duk_main(argc, argv);
}

/* evljs: run a JavaScript file or expression on an evl loop inside Duktape (cli/run.c). */
#include "run.h"

int main(int argc, char **argv)
{
    return evljs_main(argc, argv);
}

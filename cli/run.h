/* The evljs command line as a function, so tests run it in-process. */
#ifndef EVLJS_RUN_H
#define EVLJS_RUN_H

/*
 * `evljs [options] <file.js> [args...]`, `-e CODE`, `-` (stdin): creates a loop and a heap,
 * runs the script as a CommonJS main module, runs the loop until no ref'd work is left
 * (emitting 'beforeExit' and 'exit'), frees everything and returns the exit status
 * (process.exitCode, 1 after an uncaught error, 2 on a usage error). Must be called from the
 * thread that will run the loop.
 */
int evljs_main(int argc, char **argv);

#endif

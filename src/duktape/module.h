/*
 * require() and the CommonJS loader (module.c over js/module.js and js/stdlib.js): opt-in,
 * installed by evl_duk_install_require (the evljs command line calls it), never by
 * evl_duk_install. Middle floor.
 */
#ifndef EVL_DUK_MODULE_H
#define EVL_DUK_MODULE_H

#include "duktape/binding.h"

int evl__duk_module_install(struct evl_duk *d);

/* Reads a whole file into *out (+1, evl_free, NUL-terminated). Returns 0, EVL_ENOMEM or a
 * system code (errno.h), naming the failed call ("open", "read") in *syscall. */
int evl__duk_read_file(const char *path, char **out, size_t *len_out, const char **syscall);

#endif

/*
 * The I/O subsystem's private interface (src/core/io/): what the loop calls beyond the I/O
 * hooks (struct evl__io_hooks) that io.c installs on the loop.
 */
#ifndef EVL_CORE_IO_IO_H
#define EVL_CORE_IO_IO_H

struct evl_loop;

/* Creates the backend if needed and keeps the poll phase on it for good (a host polls its
 * fd); returns that fd, or EVL_ENOSYS when the backend has none. */
int evl__io_embed(struct evl_loop *loop);

#endif

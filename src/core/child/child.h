/*
 * Child watchers' private interface (src/core/child/): the knob tests use.
 */
#ifndef EVL_CORE_CHILD_CHILD_H
#define EVL_CORE_CHILD_CHILD_H

/* Nonzero: watchers never use pidfds, so tests exercise the SIGCHLD path on kernels that
 * have them. */
extern int evl__child_no_pidfd;

#endif

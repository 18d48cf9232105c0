/*
 * Execution context that follows work across the loop: captured when work is scheduled,
 * made current around the callback that work causes, restored afterwards. This is the
 * mechanism Node's AsyncLocalStorage rests on. A loop carries any number of embedder
 * slots (up to EVL_CONTEXT_MAX_SLOTS) plus one built-in value, the correlation id: a
 * 128-bit id (UUIDv7) that log records carry while it is current.
 *
 * Who calls what: a scheduler (the loop for its own work, or an embedder for its own
 * queues) calls evl_context_capture when work is queued and keeps the frame with the work;
 * it calls evl_context_enter before the work's callback and evl_context_leave after it,
 * then evl_context_release when the work is done for good (an interval keeps its frame
 * across runs).
 *
 * The loop's own schedulers all do this, on the loop thread:
 *   evl_loop_submit and its variants   captured at submit (from the loop thread); a task
 *                                      submitted from another thread carries no context,
 *                                      or the id given to evl_loop_submit_opts (task.h);
 *                                      a discarded task's discard callback runs in it too
 *   evl_timer_set, evl_immediate_set   captured at set; an interval keeps it for every run;
 *                                      released on clear, at fire (timeouts) or teardown
 *   evl_queue_microtask, evl_next_tick captured at queue time
 *   evl_fd_start[_timeout]             captured at start, current around every callback of
 *                                      the registration, released when it stops
 *   evl_promise_then/catch (and what   captured by then (HostMakeJobCallback), current
 *   is built on then: finally, ...)    around the reaction, so a chain carries its id
 *   evl_pool_submit                    captured at submit, current around the completion
 *                                      that settles the job's promise
 * A callback whose work carries no frame runs in the empty context (no id, slots entered
 * with NULL) whenever a context is current; an id set with evl_correlation_set inside a
 * callback that entered no scope is that callback's own, undone when it is over.
 * Cost: while the loop has no slot and no current id (the default) a scheduler's capture is
 * one load and one predictable branch and allocates nothing.
 *
 * Everything here is loop thread only unless stated otherwise.
 */
#ifndef EVL_CONTEXT_H
#define EVL_CONTEXT_H

#include "common.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EVL_CONTEXT_MAX_SLOTS 8

/* An embedder's context slot. Each function gets the slot's ud. */
struct evl_context_hooks {
    size_t size; /* sizeof(struct evl_context_hooks) */
    /* The current value, as a reference the frame owns (+1), or NULL for "none". */
    void *(*capture)(void *ud);
    /* Makes value (borrowed from the frame; may be NULL) current and returns the value it
     * replaces, which leave gets back. */
    void *(*enter)(void *ud, void *value);
    /* Makes previous (what enter returned) current again. */
    void (*leave)(void *ud, void *previous);
    /* Drops the frame's reference to value (never called with NULL). May be NULL. */
    void (*release)(void *ud, void *value);
};

/*
 * Adds a slot; *slot_out gets its number. Frames captured before do not hold it (enter
 * skips it for them). Errors: EVL_EINVAL (NULL, bad size, missing capture/enter/leave),
 * EVL_ELIMIT (EVL_CONTEXT_MAX_SLOTS slots), EVL_EPERM, EVL_ENOMEM.
 */
EVL_API int evl_context_add_slot(struct evl_loop *loop, const struct evl_context_hooks *hooks,
                                 void *ud, int *slot_out);

/* Removes a slot: later frames do not capture it; existing frames still release what they
 * hold. Errors: EVL_EINVAL, EVL_ENOENT, EVL_EPERM. */
EVL_API int evl_context_remove_slot(struct evl_loop *loop, int slot);

/* A captured context (opaque, reference-counted). */
struct evl_context_frame;

/*
 * Captures the current context into *out (+1; release with evl_context_release). When the
 * loop has no slot and no current correlation id, *out is NULL and nothing is allocated:
 * enter, leave and release accept NULL. Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM.
 */
EVL_API int evl_context_capture(struct evl_loop *loop, struct evl_context_frame **out);

/* Copies the correlation id frame carries into id and returns 1, or returns 0 (none, or
 * frame NULL). Loop thread (the thread that holds frame). */
EVL_API int evl_context_frame_correlation(const struct evl_context_frame *frame,
                                          unsigned char id[16]);

/* Another reference to frame (NULL gives NULL). */
EVL_API struct evl_context_frame *evl_context_retain(struct evl_context_frame *frame);

/* Drops a reference; the last one releases every captured value. */
EVL_API void evl_context_release(struct evl_loop *loop, struct evl_context_frame *frame);

/* What evl_context_enter replaced: kept on the caller's stack until evl_context_leave. */
struct evl_context_scope {
    struct evl_context_frame *frame;
    struct evl_context_frame *previous_frame;
    void *previous[EVL_CONTEXT_MAX_SLOTS];
    unsigned char had_id;
    unsigned char previous_id[16];
    unsigned char active;
};

/* Makes frame's context current (frame NULL: the empty context: no correlation id, slots
 * entered with NULL). Scopes nest; leave them in reverse order. A NULL loop or scope
 * switches nothing (and leave then restores nothing). */
EVL_API void evl_context_enter(struct evl_loop *loop, struct evl_context_frame *frame,
                               struct evl_context_scope *scope);
EVL_API void evl_context_leave(struct evl_loop *loop, struct evl_context_scope *scope);

/* ---- Correlation ids -------------------------------------------------------------------- */

/*
 * A new UUIDv7 (RFC 9562): 48 bits of Unix time in ms, then a 12-bit counter that keeps
 * ids from one loop strictly increasing within a millisecond, then 62 random bits.
 * Thread-safe. Errors: EVL_EINVAL (NULL).
 */
EVL_API int evl_correlation_new(struct evl_loop *loop, unsigned char id[16]);

/* Makes id (NULL: none) the current correlation id; captured frames carry it on. Inside a
 * callback that runs in no scope of its own (work scheduled without context) the id lasts
 * until that callback returns; at top level (outside callbacks) until changed. Evl errors
 * made on this thread while it is current carry it (evl_error_correlation).
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOMEM. */
EVL_API int evl_correlation_set(struct evl_loop *loop, const unsigned char id[16]);

/* Copies the current correlation id into id and returns 1, or returns 0 when none is
 * current (or not on the loop thread). */
EVL_API int evl_correlation_get(const struct evl_loop *loop, unsigned char id[16]);

/* Formats id as 36 characters plus NUL ("0190b6b2-..."); a NULL id gives "", a NULL out
 * nothing. Thread-safe. */
EVL_API void evl_uuid_format(const unsigned char id[16], char out[37]);

/* Parses the 36-character form (either case). Errors: EVL_EINVAL. Thread-safe. */
EVL_API int evl_uuid_parse(const char *text, unsigned char id[16]);

#ifdef __cplusplus
}
#endif

#endif

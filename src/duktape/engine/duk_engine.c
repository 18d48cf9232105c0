/*
 * The Duktape engine, plus the few fast paths of the adapter that need its internal
 * structures.
 *
 * cmake/Duktape.cmake copies Debian's amalgamation (/usr/share/duktape) into the build tree
 * with our duk_config.h and compiles it through this file, so the functions below see the
 * engine's internal types and macros. Nothing of Duktape is stored in this repository: the
 * include below is resolved in the build tree.
 *
 * Why these exist: through the public API, creating a Timeout object with three hidden
 * properties is three generic puts (each searches the object, grows its property table and
 * interns the key), and a registry slot write goes through the value stack. The functions here do
 * the same work directly: an object born with a property table of the right size, keys that are
 * already interned, and slot writes with the engine's own reference-count macros. Each
 * keeps the semantics of the public call it replaces (same property attributes, same
 * refcount side effects); callers fall back to the public API whenever a precondition
 * (such as "the property exists and is a plain data property") does not hold.
 *
 * Loop thread only, like the rest of the adapter. Keys are interned strings (heap pointers
 * from duk_get_heapptr) that the caller keeps reachable.
 */
#include "duktape.c"

/* What the adapter needs from the configuration (docs/duktape.md, "Bringing your own
 * Duktape"): an application that builds its own Duktape through this file learns at compile
 * time, not from a heap that never honours its execution limit. */
#if !defined(DUK_USE_INTERRUPT_COUNTER) || !defined(DUK_USE_EXEC_TIMEOUT_CHECK)
#error "evl needs DUK_USE_INTERRUPT_COUNTER and DUK_USE_EXEC_TIMEOUT_CHECK (docs/duktape.md)"
#endif
/* The fast paths below use Duktape 2.7's internal layout, and the adapter loads bytecode made
 * by the 2.7 compiler at build time; the bytecode format also depends on debugger support. */
#if DUK_VERSION < 20700L || DUK_VERSION >= 20800L
#error "evl's engine hooks and the adapter's bytecode need Duktape 2.7.x"
#endif
#if !defined(DUK_USE_BYTECODE_DUMP_SUPPORT) || defined(DUK_USE_DEBUGGER_SUPPORT)
#error "evl needs DUK_USE_BYTECODE_DUMP_SUPPORT and no DUK_USE_DEBUGGER_SUPPORT"
#endif

/* A quoted include looks in this file's folder first, here and where it is installed. */
#include "duk_engine.h"

#include <stdatomic.h>

/* The execution-limit check the configuration calls at every interrupt. The engine holds no
 * adapter state: the adapter registers its check when it creates a heap, and until then
 * (or in a program that uses the engine alone) no heap is ever interrupted. */
static _Atomic(evl__duk_exec_check_cb) exec_check;

void evl__duk_engine_set_exec_check(evl__duk_exec_check_cb fn)
{
    atomic_store_explicit(&exec_check, fn, memory_order_release);
}

int evl__duk_exec_timeout_check(void *udata)
{
    evl__duk_exec_check_cb fn = atomic_load_explicit(&exec_check, memory_order_acquire);
    return fn ? fn(udata) : 0;
}

void *evl__duk_heap_udata_of(duk_context *ctx, duk_alloc_function alloc)
{
    duk_heap *heap = ((duk_hthread *)ctx)->heap;
    return heap->alloc_func == alloc ? heap->heap_udata : NULL;
}

void *evl__duk_heap_of(duk_context *ctx)
{
    return ((duk_hthread *)ctx)->heap;
}

unsigned evl__duk_heap_activity(void *heap)
{
    const duk_heap *h = heap;
    return (h->ms_running ? EVL__DUK_HEAP_COLLECTING : 0u) |
           (h->creating_error ? EVL__DUK_HEAP_CREATING_ERROR : 0u);
}

int evl__duk_heap_gc_hold(void *heap, int hold)
{
    duk_heap *h = heap;
    if (h->ms_running) {
        return -1; /* the collector resets the count when it finishes */
    }
    if (hold) {
        h->ms_prevent_count++;
    } else if (h->ms_prevent_count > 0) {
        h->ms_prevent_count--;
    }
    return 0;
}

void evl__duk_push_double_error(duk_context *ctx)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    duk_push_hobject(thr, thr->builtins[DUK_BIDX_DOUBLE_ERROR]);
}

void evl__duk_force_interrupt(duk_context *ctx)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    /* The interrupt check runs when the counter reaches zero; init = 1 keeps the
     * executor's accounting of executed instructions consistent. */
    thr->interrupt_init = 1;
    thr->interrupt_counter = 0;
}

int evl__duk_call_headroom(duk_context *ctx)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    long frames = (long)DUK_USE_CALLSTACK_LIMIT - (long)thr->callstack_top;
    long native = (long)thr->heap->call_recursion_limit - (long)thr->heap->call_recursion_depth;
    long room = frames < native ? frames : native;
    return room < 0 ? 0 : (int)room;
}

void *evl__duk_push_record(duk_context *ctx, void *proto, void *const *keys, duk_idx_t first,
                           duk_idx_t n)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    /* The same flags duk_push_object uses: an extensible plain object. */
    duk_hobject *obj =
        duk_push_object_helper_proto(thr,
                                     DUK_HOBJECT_FLAG_EXTENSIBLE | DUK_HOBJECT_FLAG_FASTREFS |
                                         DUK_HOBJECT_CLASS_AS_FLAGS(DUK_HOBJECT_CLASS_OBJECT),
                                     (duk_hobject *)proto);
    first = duk_require_normalize_index(ctx, first);
    /* Exactly n entries, no array or hash part (n is small): one allocation, no growth. The
     * object is on the value stack and has no property table yet, so a garbage collection
     * triggered by the allocation sees a consistent object; a failure throws like any push. */
    void *props = DUK_ALLOC_CHECKED(thr, DUK_HOBJECT_P_COMPUTE_SIZE((duk_uint32_t)n, 0, 0));
    DUK_HOBJECT_SET_PROPS(thr->heap, obj, (duk_uint8_t *)props);
    DUK_HOBJECT_SET_ESIZE(obj, (duk_uint32_t)n);
    DUK_HOBJECT_SET_ENEXT(obj, 0);
    for (duk_idx_t i = 0; i < n; i++) {
        duk_hstring *key = (duk_hstring *)keys[i];
        duk_uint32_t e = DUK_HOBJECT_POSTINC_ENEXT(obj);
        DUK_HOBJECT_E_SET_KEY(thr->heap, obj, e, key);
        DUK_HSTRING_INCREF(thr, key);
        duk_tval *dst = DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e);
        DUK_TVAL_SET_TVAL(dst, duk_get_tval(ctx, first + i));
        DUK_TVAL_INCREF(thr, dst);
        /* What a put of a new property gives it: writable, enumerable, configurable. */
        DUK_HOBJECT_E_SET_FLAGS(thr->heap, obj, e, DUK_PROPDESC_FLAGS_WEC);
    }
    return obj;
}

/* The value slot of an own plain data property, or NULL. Objects without a hash part (all
 * small ones) are scanned here directly: keys are interned, so a pointer compare suffices. */
static duk_tval *own_slot(duk_context *ctx, duk_idx_t idx, void *key)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    duk_hobject *obj = duk_get_hobject(ctx, idx);
    if (!obj) {
        return NULL;
    }
    if (DUK_HOBJECT_GET_HSIZE(obj) > 0) {
        return duk_hobject_find_entry_tval_ptr(thr->heap, obj, (duk_hstring *)key);
    }
    duk_hstring *const *keys = DUK_HOBJECT_E_GET_KEY_BASE(thr->heap, obj);
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(obj); i < n; i++) {
        if (keys[i] == (duk_hstring *)key) {
            return DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, obj, i)
                       ? NULL
                       : DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, i);
        }
    }
    return NULL;
}

int evl__duk_get_own(duk_context *ctx, duk_idx_t idx, void *key)
{
    duk_tval *tv = own_slot(ctx, idx, key);
    if (!tv) {
        duk_push_undefined(ctx);
        return 0;
    }
    duk_push_tval((duk_hthread *)ctx, tv);
    return 1;
}

int evl__duk_get_own_number(duk_context *ctx, duk_idx_t idx, void *key, double *out)
{
    duk_tval *tv = own_slot(ctx, idx, key);
    if (!tv || !DUK_TVAL_IS_NUMBER(tv)) {
        return 0;
    }
    *out = DUK_TVAL_GET_NUMBER(tv);
    return 1;
}

int evl__duk_set_own_number(duk_context *ctx, duk_idx_t idx, void *key, double v)
{
    duk_tval *tv = own_slot(ctx, idx, key);
    if (!tv || !DUK_TVAL_IS_NUMBER(tv)) {
        /* Only number -> number is done here: no reference count changes hands. */
        return 0;
    }
    DUK_TVAL_SET_NUMBER(tv, v);
    return 1;
}

/* The array-part slot i of a dense array below its length, or NULL. */
static duk_tval *array_slot(duk_context *ctx, void *arr, duk_uarridx_t i)
{
    duk_hobject *obj = (duk_hobject *)arr;
    if (!DUK_HOBJECT_HAS_ARRAY_PART(obj) || !DUK_HOBJECT_IS_ARRAY(obj) ||
        i >= ((duk_harray *)obj)->length || i >= DUK_HOBJECT_GET_ASIZE(obj)) {
        return NULL;
    }
    /* Registry arrays are never frozen or made non-writable; check anyway, the fallback is
     * the public API with full semantics. */
    if (DUK_HARRAY_LENGTH_NONWRITABLE((duk_harray *)obj) || !DUK_HOBJECT_HAS_EXTENSIBLE(obj)) {
        return NULL;
    }
    return DUK_HOBJECT_A_GET_VALUE_PTR(((duk_hthread *)ctx)->heap, obj, i);
}

int evl__duk_array_put(duk_context *ctx, void *arr, duk_uarridx_t i, duk_idx_t idx)
{
    duk_tval *dst = array_slot(ctx, arr, i);
    if (!dst) {
        return 0;
    }
    /* Increments the new value, then decrements the old one, whose refzero side effects
     * (freeing, finalizers) are those of an ordinary put. */
    DUK_TVAL_SET_TVAL_UPDREF((duk_hthread *)ctx, dst, duk_get_tval(ctx, idx));
    return 1;
}

int evl__duk_array_clear(duk_context *ctx, void *arr, duk_uarridx_t i)
{
    duk_tval *dst = array_slot(ctx, arr, i);
    if (!dst) {
        return 0;
    }
    DUK_TVAL_SET_UNDEFINED_UPDREF((duk_hthread *)ctx, dst);
    return 1;
}

int evl__duk_array_push_slot(duk_context *ctx, void *arr, duk_uarridx_t i)
{
    duk_tval *src = array_slot(ctx, arr, i);
    if (!src || DUK_TVAL_IS_UNUSED(src)) {
        return 0;
    }
    duk_push_tval((duk_hthread *)ctx, src);
    return 1;
}

/* Whether a value clones to itself under the structured clone: undefined, null, booleans,
 * numbers and strings other than symbols. */
static int clones_to_itself(duk_tval *tv)
{
    if (DUK_TVAL_IS_STRING(tv)) {
        return !DUK_HSTRING_HAS_SYMBOL(DUK_TVAL_GET_STRING(tv));
    }
    return DUK_TVAL_IS_UNDEFINED(tv) || DUK_TVAL_IS_NULL(tv) || DUK_TVAL_IS_BOOLEAN(tv) ||
           DUK_TVAL_IS_NUMBER(tv);
}

/* Whether the own property in entry slot i is one Object.keys lists: a live string key (not
 * a symbol, hidden ones included) that is enumerable. */
static int entry_is_listed(duk_heap *heap, duk_hobject *obj, duk_uint_fast32_t i)
{
    duk_hstring *key = DUK_HOBJECT_E_GET_KEY(heap, obj, i);
    return key != NULL && !DUK_HSTRING_HAS_SYMBOL(key) &&
           DUK_HOBJECT_E_SLOT_IS_ENUMERABLE(heap, obj, i);
}

/* Counts the listed own properties of a plain object if every one of them is a data property
 * with a value that clones to itself and none is an array index (whose order Object.keys
 * would change); returns -1 otherwise. */
static long flat_object_count(duk_heap *heap, duk_hobject *obj)
{
    if (DUK_HOBJECT_HAS_ARRAY_PART(obj)) {
        for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ASIZE(obj); i < n; i++) {
            if (!DUK_TVAL_IS_UNUSED(DUK_HOBJECT_A_GET_VALUE_PTR(heap, obj, i))) {
                return -1;
            }
        }
    }
    long count = 0;
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(obj); i < n; i++) {
        if (!entry_is_listed(heap, obj, i)) {
            continue;
        }
        if (DUK_HSTRING_HAS_ARRIDX(DUK_HOBJECT_E_GET_KEY(heap, obj, i)) ||
            DUK_HOBJECT_E_SLOT_IS_ACCESSOR(heap, obj, i) ||
            !clones_to_itself(DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(heap, obj, i))) {
            return -1;
        }
        count++;
    }
    return count;
}

/* Counts a dense array's elements if all are present and clone to themselves and the array
 * has no listed property besides them; returns -1 otherwise. */
static long flat_array_count(duk_heap *heap, duk_hobject *obj)
{
    duk_uint32_t len = ((duk_harray *)obj)->length;
    if (!DUK_HOBJECT_HAS_ARRAY_PART(obj) || len > DUK_HOBJECT_GET_ASIZE(obj)) {
        return -1;
    }
    for (duk_uint_fast32_t i = 0; i < len; i++) {
        duk_tval *tv = DUK_HOBJECT_A_GET_VALUE_PTR(heap, obj, i);
        if (DUK_TVAL_IS_UNUSED(tv) || !clones_to_itself(tv)) {
            return -1;
        }
    }
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(obj); i < n; i++) {
        if (entry_is_listed(heap, obj, i)) {
            return -1;
        }
    }
    return (long)len;
}

int evl__duk_clone_flat(duk_context *ctx, duk_idx_t idx)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    duk_heap *heap = thr->heap;
    idx = duk_require_normalize_index(ctx, idx);
    duk_hobject *src = duk_get_hobject(ctx, idx);
    if (!src) {
        return 0;
    }
    duk_small_uint_t cls = DUK_HOBJECT_GET_CLASS_NUMBER(src);
    int is_array;
    if (cls == DUK_HOBJECT_CLASS_OBJECT && !DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(src)) {
        is_array = 0;
    } else if (cls == DUK_HOBJECT_CLASS_ARRAY && DUK_HOBJECT_HAS_EXOTIC_ARRAY(src) &&
               !DUK_HOBJECT_IS_PROXY(src)) {
        is_array = 1;
    } else {
        return 0;
    }
    long count = is_array ? flat_array_count(heap, src) : flat_object_count(heap, src);
    if (count < 0) {
        return 0;
    }
    if (is_array) {
        /* Allocation may run a garbage collection and with it finalizers, which can change
         * src: the copy below checks every slot again and gives up on any change. */
        duk_harray *a = duk_push_harray_with_size(thr, (duk_uint32_t)count);
        duk_hobject *dst = (duk_hobject *)a;
        src = duk_get_hobject(ctx, idx);
        if (flat_array_count(heap, src) != count) {
            duk_pop(ctx);
            return 0;
        }
        for (duk_uint_fast32_t i = 0; i < (duk_uint_fast32_t)count; i++) {
            duk_tval *to = DUK_HOBJECT_A_GET_VALUE_PTR(heap, dst, i);
            DUK_TVAL_SET_TVAL(to, DUK_HOBJECT_A_GET_VALUE_PTR(heap, src, i));
            DUK_TVAL_INCREF(thr, to);
        }
        return 1;
    }
    duk_push_object(ctx);
    duk_hobject *dst = duk_get_hobject(ctx, -1);
    duk_hobject_resize_entrypart(thr, dst, (duk_uint32_t)count);
    src = duk_get_hobject(ctx, idx);
    if (flat_object_count(heap, src) != count) {
        duk_pop(ctx);
        return 0;
    }
    /* The entry part has room for every property, so nothing below allocates. */
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(src); i < n; i++) {
        if (!entry_is_listed(heap, src, i)) {
            continue;
        }
        duk_int_t e =
            duk__hobject_alloc_entry_checked(thr, dst, DUK_HOBJECT_E_GET_KEY(heap, src, i));
        duk_tval *to = DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(heap, dst, e);
        DUK_TVAL_SET_TVAL(to, DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(heap, src, i));
        DUK_TVAL_INCREF(thr, to);
        /* What CreateDataProperty gives it: writable, enumerable, configurable. */
        DUK_HOBJECT_E_SET_FLAGS(heap, dst, e, DUK_PROPDESC_FLAGS_WEC);
    }
    return 1;
}

void evl__duk_push_class_tag(duk_context *ctx, duk_idx_t idx)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    /* avoid_side_effects = 1: the internal class, never Symbol.toStringTag (no getter runs). */
    duk_push_class_string_tval(thr, duk_require_tval(ctx, idx), 1);
}

static int extra_key_listed(duk_heap *heap, duk_hobject *obj, duk_uint_fast32_t i, int all)
{
    duk_hstring *key = DUK_HOBJECT_E_GET_KEY(heap, obj, i);
    return key && !DUK_HSTRING_HAS_SYMBOL(key) && !DUK_HSTRING_HAS_ARRIDX(key) &&
           (all || DUK_HOBJECT_E_SLOT_IS_ENUMERABLE(heap, obj, i));
}

/* Index properties live outside the entry part only in these two layouts: an array with its
 * array part, and a buffer object (its indices are virtual). -1 for any other object. */
static long extra_key_count(duk_heap *heap, duk_hobject *obj, int all)
{
    if (!obj || DUK_HOBJECT_IS_PROXY(obj)) {
        return -1;
    }
    int array_part = DUK_HOBJECT_GET_CLASS_NUMBER(obj) == DUK_HOBJECT_CLASS_ARRAY &&
                     DUK_HOBJECT_HAS_EXOTIC_ARRAY(obj) && DUK_HOBJECT_HAS_ARRAY_PART(obj);
    if (!array_part && !DUK_HOBJECT_IS_BUFOBJ(obj)) {
        return -1;
    }
    long count = 0;
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(obj); i < n; i++) {
        count += extra_key_listed(heap, obj, i, all);
    }
    return count;
}

int evl__duk_push_extra_keys(duk_context *ctx, duk_idx_t idx, int all)
{
    duk_hthread *thr = (duk_hthread *)ctx;
    duk_heap *heap = thr->heap;
    idx = duk_require_normalize_index(ctx, idx);
    long count = extra_key_count(heap, duk_get_hobject(ctx, idx), all);
    if (count < 0) {
        return 0;
    }
    /* The allocation may run a garbage collection that compacts the object (moving entries
     * or dropping its array part): count again and give up on any change. The fill below
     * allocates nothing. */
    duk_harray *a = duk_push_harray_with_size(thr, (duk_uint32_t)count);
    duk_hobject *dst = (duk_hobject *)a;
    duk_hobject *obj = duk_get_hobject(ctx, idx);
    if (extra_key_count(heap, obj, all) != count) {
        duk_pop(ctx);
        return 0;
    }
    duk_uint_fast32_t o = 0;
    for (duk_uint_fast32_t i = 0, n = DUK_HOBJECT_GET_ENEXT(obj); i < n; i++) {
        if (extra_key_listed(heap, obj, i, all)) {
            duk_tval *to = DUK_HOBJECT_A_GET_VALUE_PTR(heap, dst, o++);
            DUK_TVAL_SET_STRING(to, DUK_HOBJECT_E_GET_KEY(heap, obj, i));
            DUK_TVAL_INCREF(thr, to);
        }
    }
    return 1;
}

int evl__duk_push_proxy_target(duk_context *ctx, duk_idx_t idx)
{
    duk_hobject *obj = duk_get_hobject(ctx, idx);
    if (!obj || !DUK_HOBJECT_IS_PROXY(obj)) {
        return 0;
    }
    duk_hobject *target = ((duk_hproxy *)obj)->target;
    if (!target) {
        return 0;
    }
    duk_push_hobject((duk_hthread *)ctx, target);
    return 1;
}

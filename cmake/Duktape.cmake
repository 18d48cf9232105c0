# Debian ships Duktape as an amalgamation. We compile it at build time with our own
# configuration: the three files are copied into the build tree; the copy of duk_config.h is
# edited, and the copy of duktape.c gets two execution-limit checks (below). Compiling the shipped duktape.c in place would silently use the
# unmodified duk_config.h beside it (a quoted include searches the including file's folder
# first), so the copy is essential. Nothing from Duktape is ever stored in this repository.
# EVL_DUK_GEN is set by the top-level CMakeLists.txt so install() can see it.
foreach(f duktape.c duktape.h duk_config.h)
  if(NOT EXISTS ${EVL_DUKTAPE_DIR}/${f})
    message(FATAL_ERROR "Duktape source ${EVL_DUKTAPE_DIR}/${f} not found: install duktape-dev "
                        "(make deps does it)")
  endif()
endforeach()
file(MAKE_DIRECTORY ${EVL_DUK_GEN})
file(STRINGS ${EVL_DUKTAPE_DIR}/duktape.h _duk_ver REGEX "^#define DUK_VERSION +[0-9]+L")
string(REGEX REPLACE ".* ([0-9]+)L$" "\\1" _duk_ver "${_duk_ver}")
math(EXPR _duk_major "${_duk_ver} / 10000")
math(EXPR _duk_minor "${_duk_ver} / 100 % 100")
math(EXPR _duk_patch "${_duk_ver} % 100")
set(EVL_DUK_VERSION "${_duk_major}.${_duk_minor}.${_duk_patch}" CACHE INTERNAL "Duktape version")
# The engine's two long native loops that run no bytecode, the regexp matcher and
# Array.prototype.sort's comparisons, never reach the interrupt that enforces the execution
# limit: a catastrophic regexp or a sort over a 1e9-length array-like would run for minutes
# under --timeout-ms=200. The copy gets the same check every 65,536 steps (a counter and a
# branch; the clock is read only then), throwing the executor's own "execution timeout".
set(_evl_duk_native_check
    "thr_->interrupt_init = 0; thr_->interrupt_counter = 0; DUK_ERROR_RANGE(thr_, \"execution timeout\");")
file(READ ${EVL_DUKTAPE_DIR}/duktape.c _duk_src)
function(evl_duk_src_patch from to)
  string(FIND "${_duk_src}" "${from}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "duktape.c: expected text '${from}' not found; cannot configure Duktape")
  endif()
  string(REPLACE "${from}" "${to}" _out "${_duk_src}")
  set(_duk_src "${_out}" PARENT_SCOPE)
endfunction()
evl_duk_src_patch("re_ctx->steps_count++;"
  "re_ctx->steps_count++; if ((re_ctx->steps_count & 0xffffUL) == 0UL) { duk_hthread *thr_ = re_ctx->thr; if (DUK_USE_EXEC_TIMEOUT_CHECK(thr_->heap->heap_udata)) { ${_evl_duk_native_check} } }")
evl_duk_src_patch("DUK_LOCAL duk_small_int_t duk__array_sort_compare(duk_hthread *thr, duk_int_t idx1, duk_int_t idx2) {"
  "static __thread duk_uint32_t evl__duk_sort_steps; DUK_LOCAL duk_small_int_t duk__array_sort_compare(duk_hthread *thr, duk_int_t idx1, duk_int_t idx2) { if ((++evl__duk_sort_steps & 0xffffUL) == 0UL) { duk_hthread *thr_ = thr; if (DUK_USE_EXEC_TIMEOUT_CHECK(thr_->heap->heap_udata)) { ${_evl_duk_native_check} } }")
# Every function instance got its own `prototype` object (with a `constructor` back-link)
# when created, although few functions are ever constructors: 156 of the 657 bytes of a
# closure. Duktape's own note at that point asks for it to be made on demand; here it is.
# A constructable compiled function without an own `prototype` entry (the property is
# non-configurable, so it can never have been deleted) gets it the first time anything
# looks at it: an own-property lookup of the key (get, set, has, delete, define, the
# descriptor), an enumeration that includes non-enumerable keys, seal and freeze; and
# before any other visible own key is added, so `prototype` keeps its place in the key
# order (after `length` and `name`, before what a script adds, as in node). The entry is
# written in place, without a lookup that would come back here, and with finalizers held
# off: the caller may be walking a prototype chain that a JS finalizer could cut. (An
# allocation failure inside leaves them held off until the heap is destroyed, where they
# all run; an out-of-memory script is ending anyway.) isFrozen treats a pending one as the
# writable property it will be.
evl_duk_src_patch("\tif (add_auto_proto) {\n\t\tduk_push_object(thr); /* -> [ ... closure template newobj ] */"
  "\tif (0 && add_auto_proto) { /* evl: made on demand, evl__duk_proto_materialize */\n\t\tduk_push_object(thr); /* -> [ ... closure template newobj ] */")
evl_duk_src_patch("\tfor (i = 0; i < (duk_small_uint_t) (sizeof(duk__closure_copy_proplist) / sizeof(duk_uint16_t)); i++) {"
  "\tevl__duk_closure_init = 1; /* the instance's own keys come first */\n\tfor (i = 0; i < (duk_small_uint_t) (sizeof(duk__closure_copy_proplist) / sizeof(duk_uint16_t)); i++) {")
evl_duk_src_patch("\tduk_compact(thr, -2);\n\n\t/*\n\t *  Some assertions (E5 Section 13.2)."
  "\tduk_compact(thr, -2);\n\tevl__duk_closure_init = 0;\n\n\t/*\n\t *  Some assertions (E5 Section 13.2).")
evl_duk_src_patch("DUK_INTERNAL void duk_hobject_enumerator_create(duk_hthread *thr, duk_small_uint_t enum_flags) {"
  "static __thread int evl__duk_closure_init;\nDUK_LOCAL_DECL duk_bool_t evl__duk_proto_pending(duk_heap *heap, duk_hobject *obj);\nDUK_LOCAL_DECL void evl__duk_proto_materialize(duk_hthread *thr, duk_hobject *obj);\nDUK_INTERNAL void duk_hobject_enumerator_create(duk_hthread *thr, duk_small_uint_t enum_flags) {")
evl_duk_src_patch("\tcurr = enum_target;\n\tsort_start_index = DUK__ENUM_START_INDEX;"
  "\tif (enum_flags & DUK_ENUM_INCLUDE_NONENUMERABLE) {\n\t\tfor (curr = enum_target; curr != NULL; curr = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, curr)) {\n\t\t\tevl__duk_proto_materialize(thr, curr);\n\t\t}\n\t}\n\tcurr = enum_target;\n\tsort_start_index = DUK__ENUM_START_INDEX;")
evl_duk_src_patch("DUK_LOCAL duk_int_t duk__hobject_alloc_entry_checked(duk_hthread *thr, duk_hobject *obj, duk_hstring *key) {\n\tduk_uint32_t idx;\n"
  "DUK_LOCAL duk_int_t duk__hobject_alloc_entry_checked(duk_hthread *thr, duk_hobject *obj, duk_hstring *key) {\n\tduk_uint32_t idx;\n\n\tif (DUK_UNLIKELY(DUK_HOBJECT_HAS_COMPFUNC(obj)) && !evl__duk_closure_init && key != DUK_HTHREAD_STRING_PROTOTYPE(thr) &&\n\t    !DUK_HSTRING_HAS_HIDDEN(key)) {\n\t\tevl__duk_proto_materialize(thr, obj);\n\t}\n")
evl_duk_src_patch("DUK_LOCAL duk_bool_t duk__get_own_propdesc_raw(duk_hthread *thr,\n"
  "DUK_LOCAL duk_bool_t evl__duk_proto_pending(duk_heap *heap, duk_hobject *obj) {\n\tduk_int_t e_idx, h_idx;\n\treturn DUK_HOBJECT_HAS_COMPFUNC(obj) && DUK_HOBJECT_HAS_CONSTRUCTABLE(obj) && !DUK_HOBJECT_HAS_BOUNDFUNC(obj) &&\n\t       !duk_hobject_find_entry(heap, obj, DUK_HEAP_STRING_PROTOTYPE(heap), &e_idx, &h_idx);\n}\nDUK_LOCAL void evl__duk_proto_materialize(duk_hthread *thr, duk_hobject *obj) {\n\tduk_hobject *proto;\n\tduk_int_t e_idx;\n\tif (!evl__duk_proto_pending(thr->heap, obj)) {\n\t\treturn;\n\t}\n\tthr->heap->pf_prevent_count++;\n\tduk_push_hobject(thr, obj);\n\tduk_push_object(thr);\n\tproto = duk_known_hobject(thr, -1);\n\tduk_dup_m2(thr);\n\tduk_xdef_prop_stridx_short(thr, -2, DUK_STRIDX_CONSTRUCTOR, DUK_PROPDESC_FLAGS_WC);\n\tduk_compact_m1(thr);\n\tif (evl__duk_proto_pending(thr->heap, obj)) {\n\t\te_idx = duk__hobject_alloc_entry_checked(thr, obj, DUK_HTHREAD_STRING_PROTOTYPE(thr));\n\t\tDUK_TVAL_SET_OBJECT(DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx), proto);\n\t\tDUK_HOBJECT_INCREF(thr, proto);\n\t\tDUK_HOBJECT_E_SET_FLAGS(thr->heap, obj, e_idx, DUK_PROPDESC_FLAGS_W);\n\t}\n\tthr->heap->pf_prevent_count--;\n\tduk_pop_2_unsafe(thr);\n}\nDUK_LOCAL duk_bool_t duk__get_own_propdesc_raw(duk_hthread *thr,\n")
evl_duk_src_patch("\tDUK_STATS_INC(thr->heap, stats_getownpropdesc_count);"
  "\tDUK_STATS_INC(thr->heap, stats_getownpropdesc_count);\n\tif (DUK_UNLIKELY(key == DUK_HTHREAD_STRING_PROTOTYPE(thr)) && DUK_HOBJECT_HAS_COMPFUNC(obj)) {\n\t\tevl__duk_proto_materialize(thr, obj);\n\t}")
evl_duk_src_patch("DUK_INTERNAL void duk_hobject_object_seal_freeze_helper(duk_hthread *thr, duk_hobject *obj, duk_bool_t is_freeze) {"
  "DUK_INTERNAL void duk_hobject_object_seal_freeze_helper(duk_hthread *thr, duk_hobject *obj, duk_bool_t is_freeze) {\n\tevl__duk_proto_materialize(thr, obj);")
evl_duk_src_patch("DUK_INTERNAL duk_bool_t duk_hobject_object_is_sealed_frozen_helper(duk_hthread *thr, duk_hobject *obj, duk_bool_t is_frozen) {"
  "DUK_INTERNAL duk_bool_t duk_hobject_object_is_sealed_frozen_helper(duk_hthread *thr, duk_hobject *obj, duk_bool_t is_frozen) {\n\tif (is_frozen && evl__duk_proto_pending(thr->heap, obj)) {\n\t\treturn 0;\n\t}")
# The Array built-ins are generic: over an array-like of length 1e9 (indexOf, join, forEach,
# reverse, splice, ...) they loop a billion times in native code, reading, writing or
# deleting one element at a time, and no bytecode runs to reach the interrupt. Inside their
# section of the file every element access goes through a wrapper with the same check as
# above, every 65,536 accesses.
string(FIND "${_duk_src}" "#line 1 \"duk_bi_array.c\"" _arr_from)
string(FIND "${_duk_src}" "#line 1 \"duk_bi_boolean.c\"" _arr_to)
if(_arr_from EQUAL -1 OR _arr_to EQUAL -1 OR NOT _arr_to GREATER _arr_from)
  message(FATAL_ERROR "duktape.c: the Array built-ins' section was not found; cannot configure Duktape")
endif()
math(EXPR _arr_len "${_arr_to} - ${_arr_from}")
string(SUBSTRING "${_duk_src}" 0 ${_arr_from} _arr_head)
string(SUBSTRING "${_duk_src}" ${_arr_from} ${_arr_len} _arr_body)
string(SUBSTRING "${_duk_src}" ${_arr_to} -1 _arr_tail)
set(_arr_wrappers "static __thread duk_uint32_t evl__duk_arr_steps;\n")
foreach(_op get has put del)
  string(FIND "${_arr_body}" "duk_${_op}_prop_index(" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "duktape.c: no duk_${_op}_prop_index in the Array built-ins; cannot configure Duktape")
  endif()
  string(REPLACE "duk_${_op}_prop_index(" "evl__duk_arr_${_op}_prop_index(" _arr_body "${_arr_body}")
  string(APPEND _arr_wrappers
    "DUK_LOCAL duk_bool_t evl__duk_arr_${_op}_prop_index(duk_hthread *thr, duk_idx_t obj_idx, duk_uarridx_t arr_idx) { if ((++evl__duk_arr_steps & 0xffffUL) == 0UL) { duk_hthread *thr_ = thr; if (DUK_USE_EXEC_TIMEOUT_CHECK(thr_->heap->heap_udata)) { ${_evl_duk_native_check} } } return duk_${_op}_prop_index(thr, obj_idx, arr_idx); }\n")
endforeach()
set(_duk_src "${_arr_head}${_arr_wrappers}${_arr_body}${_arr_tail}")
unset(_arr_head)
unset(_arr_body)
unset(_arr_tail)
file(WRITE ${EVL_DUK_GEN}/duktape.c.tmp "${_duk_src}")
unset(_duk_src)
configure_file(${EVL_DUK_GEN}/duktape.c.tmp ${EVL_DUK_GEN}/duktape.c COPYONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EVL_DUKTAPE_DIR}/duktape.c)
configure_file(${EVL_DUKTAPE_DIR}/duktape.h ${EVL_DUK_GEN}/duktape.h COPYONLY)

file(READ ${EVL_DUKTAPE_DIR}/duk_config.h _duk_cfg)
# Turn two #undef lines into definitions; fail loudly if the file ever changes shape. A
# configuration that already carries a definition (an application's own Duktape, pointed to
# by EVL_DUKTAPE_DIR, configured as docs/duktape.md says) is used as it is.
function(evl_duk_patch from to done)
  string(FIND "${_duk_cfg}" "${done}" _pos)
  if(NOT _pos EQUAL -1)
    return()
  endif()
  string(FIND "${_duk_cfg}" "${from}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "duk_config.h: expected line '${from}' not found; cannot configure Duktape")
  endif()
  string(REPLACE "${from}" "${to}" _out "${_duk_cfg}")
  set(_duk_cfg "${_out}" PARENT_SCOPE)
endfunction()
evl_duk_patch("#undef DUK_USE_INTERRUPT_COUNTER" "#define DUK_USE_INTERRUPT_COUNTER"
              "#define DUK_USE_INTERRUPT_COUNTER")
# Strings are interned, so their hash decides the cost of every string a script makes. The
# default hash samples every (length/32)th byte, so strings that differ only between samples
# ("x".repeat(1000) + i, log lines with a counter) all collide and each new one is compared
# with all the others: quadratic. The dense hash (MurmurHash2 over the first 4 KB, samples
# beyond) reads every byte that usually differs.
evl_duk_patch("#undef DUK_USE_STRHASH_DENSE" "#define DUK_USE_STRHASH_DENSE"
              "#define DUK_USE_STRHASH_DENSE")
# The check is declared with C linkage even when a C++ file includes duktape.h (which opens
# its extern "C" block only after including duk_config.h).
evl_duk_patch("#undef DUK_USE_EXEC_TIMEOUT_CHECK"
  "#if defined(__cplusplus)\nextern \"C\"\n#endif\nint evl__duk_exec_timeout_check(void *udata)EVL_SEMICOLON\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) evl__duk_exec_timeout_check((udata))"
  "evl__duk_exec_timeout_check")
# A literal semicolon cannot pass through a CMake argument list; put it in last.
string(REPLACE "EVL_SEMICOLON" ";" _duk_cfg "${_duk_cfg}")
file(WRITE ${EVL_DUK_GEN}/duk_config.h.tmp "${_duk_cfg}")
configure_file(${EVL_DUK_GEN}/duk_config.h.tmp ${EVL_DUK_GEN}/duk_config.h COPYONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EVL_DUKTAPE_DIR}/duk_config.h)

# The engine is compiled through src/duktape/engine/duk_engine.c, which includes the copied
# duktape.c and adds the adapter's fast paths that need the engine's internal structures
# (object creation, own-slot access, the interrupt hook) and the execution-limit check the
# configuration calls. It is a library of its own, evl::duktape_engine (shared) and
# evl::duktape_engine_static, so that an application can use it as its Duktape, or link the
# adapter with a Duktape it builds itself through the same file (docs/duktape.md).
add_library(evl_duktape_engine_objects OBJECT ${PROJECT_SOURCE_DIR}/src/duktape/engine/duk_engine.c)
target_include_directories(evl_duktape_engine_objects PRIVATE ${EVL_DUK_GEN})
# Duktape's internal functions are static in the amalgamation; what is left visible is its
# API (DUK_EXTERNAL) and the evl__duk_* hooks the shared adapter calls.
set_target_properties(evl_duktape_engine_objects PROPERTIES C_VISIBILITY_PRESET default)
# Duktape is third-party: built without our warning set, and at -O3, which its interpreter
# loop repays (~10% less time per setTimeout+clearTimeout pair than at -O2, measured).
target_compile_options(evl_duktape_engine_objects PRIVATE -w -O3)
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_options(evl_duktape_engine_objects PRIVATE -O1)
endif()
# Duktape adds a zero offset to a NULL property table (duk_hobject_props.c), which clang's
# UBSan reports as pointer-overflow (GCC's does not) and which is harmless: that one check
# is off for the engine under clang, so the fuzz preset can build and run the JS targets.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang" AND "undefined" IN_LIST EVL_SANITIZE)
  target_compile_options(evl_duktape_engine_objects PRIVATE -fno-sanitize=pointer-overflow)
endif()

foreach(kind STATIC SHARED)
  if(kind STREQUAL "STATIC")
    set(target evl_duktape_engine_static)
    set(export duktape_engine_static)
  else()
    set(target evl_duktape_engine)
    set(export duktape_engine)
  endif()
  add_library(${target} ${kind} $<TARGET_OBJECTS:evl_duktape_engine_objects>)
  target_include_directories(${target} INTERFACE $<BUILD_INTERFACE:${EVL_DUK_GEN}>
                             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/evl/duktape>)
  target_link_libraries(${target} PUBLIC m)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME evl_duktape_engine EXPORT_NAME ${export})
  add_library(evl::${export} ALIAS ${target})
endforeach()
set_target_properties(evl_duktape_engine PROPERTIES VERSION ${PROJECT_VERSION}
                                                    SOVERSION ${PROJECT_VERSION_MAJOR})

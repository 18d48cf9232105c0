# Debian ships Duktape as an amalgamation. We compile it at build time with our own
# configuration: the three files are copied into the build tree and only the copy of
# duk_config.h is edited. Compiling the shipped duktape.c in place would silently use the
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
configure_file(${EVL_DUKTAPE_DIR}/duktape.c ${EVL_DUK_GEN}/duktape.c COPYONLY)
configure_file(${EVL_DUKTAPE_DIR}/duktape.h ${EVL_DUK_GEN}/duktape.h COPYONLY)

file(READ ${EVL_DUKTAPE_DIR}/duk_config.h _duk_cfg)
# Turn two #undef lines into definitions; fail loudly if Debian's file ever changes shape.
function(evl_duk_patch from to)
  string(FIND "${_duk_cfg}" "${from}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "duk_config.h: expected line '${from}' not found; cannot configure Duktape")
  endif()
  string(REPLACE "${from}" "${to}" _out "${_duk_cfg}")
  set(_duk_cfg "${_out}" PARENT_SCOPE)
endfunction()
evl_duk_patch("#undef DUK_USE_INTERRUPT_COUNTER" "#define DUK_USE_INTERRUPT_COUNTER")
evl_duk_patch("#undef DUK_USE_EXEC_TIMEOUT_CHECK"
  "extern int evl__duk_exec_timeout_check(void *udata)EVL_SEMICOLON\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) evl__duk_exec_timeout_check((udata))")
# A literal semicolon cannot pass through a CMake argument list; put it in last.
string(REPLACE "EVL_SEMICOLON" ";" _duk_cfg "${_duk_cfg}")
file(WRITE ${EVL_DUK_GEN}/duk_config.h.tmp "${_duk_cfg}")
configure_file(${EVL_DUK_GEN}/duk_config.h.tmp ${EVL_DUK_GEN}/duk_config.h COPYONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EVL_DUKTAPE_DIR}/duk_config.h)

# The engine is compiled through src/duktape/engine/duk_engine.c, which includes the copied
# duktape.c and adds the adapter's fast paths that need the engine's internal structures
# (object creation, own-slot access, the interrupt hook).
add_library(evl_duktape_engine OBJECT ${PROJECT_SOURCE_DIR}/src/duktape/engine/duk_engine.c)
target_include_directories(evl_duktape_engine PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_include_directories(evl_duktape_engine PUBLIC $<BUILD_INTERFACE:${EVL_DUK_GEN}>)
# Duktape is third-party: built without our warning set, and at -O3, which its interpreter
# loop repays (~10% less time per setTimeout+clearTimeout pair than at -O2, measured).
target_compile_options(evl_duktape_engine PRIVATE -w -O3)
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_options(evl_duktape_engine PRIVATE -O1)
endif()

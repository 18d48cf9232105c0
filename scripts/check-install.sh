#!/usr/bin/env bash
# Installs the build into a temporary prefix and consumes it the ways the README documents,
# from C and from C++, for libevl and libevl_duktape:
#   1. pkg-config, shared libraries (run through an rpath, then with LD_LIBRARY_PATH);
#   2. pkg-config --static, fully static programs;
#   3. find_package(evl) with CMAKE_PREFIX_PATH, shared and static targets;
#   4. the adapter linked with a Duktape the application builds itself (docs/duktape.md).
# Every program is run and its output checked. Usage: scripts/check-install.sh [build-dir]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/examples/consumer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(ls -d "$prefix"/lib*/pkgconfig)")
export PKG_CONFIG_PATH=$libdir/pkgconfig
# Only the temporary prefix may satisfy the builds below.
unset LD_LIBRARY_PATH CMAKE_PREFIX_PATH

fail() { echo "install check: $*" >&2; exit 1; }

# expect <output-regex> <program>: runs the program and checks its first line of output.
expect() {
  local want=$1; shift
  local out
  out=$(timeout 30 "$@" 2>"$tmp/stderr") || { cat "$tmp/stderr" >&2; fail "$* failed"; }
  grep -Eq "^$want" <<<"$out" || fail "$*: unexpected output: $out"
}

# needs <program> <yes|no> <library>: whether the program loads that shared library.
needs() {
  local has=no
  if readelf -d "$1" | grep -q "NEEDED.*\[$3\.so"; then has=yes; fi
  [ "$has" = "$2" ] || fail "$1: NEEDED $3 is $has, expected $2"
}

ok_c='evl [0-9]+\.[0-9]+\.[0-9]+: out of memory'
ok_duk='duk consumer: then,timeout,spin$'
ok_cxx='cxx consumer: ok'

# 1. pkg-config, shared.
rpath=-Wl,-rpath,$(pkg-config --variable=libdir evl)
cc -std=c11 -Wall -Werror -o "$tmp/c_pc" "$src/main.c" $(pkg-config --cflags --libs evl) "$rpath"
cc -std=c11 -Wall -Werror -o "$tmp/duk_pc" "$src/duk_main.c" \
  $(pkg-config --cflags --libs evl-duktape) "$rpath"
c++ -std=c++11 -Wall -Werror -pedantic -DEVL_CXX_DUKTAPE=1 -o "$tmp/cxx_pc" "$src/consumer.cpp" \
  $(pkg-config --cflags --libs evl-duktape) "$rpath"
needs "$tmp/c_pc" yes libevl
needs "$tmp/duk_pc" yes libevl_duktape
needs "$tmp/duk_pc" yes libevl_duktape_engine
expect "$ok_c" "$tmp/c_pc"
expect "$ok_duk" "$tmp/duk_pc"
expect "$ok_cxx" "$tmp/cxx_pc"
# Without an rpath the loader finds the libraries through LD_LIBRARY_PATH.
cc -std=c11 -o "$tmp/duk_pc_norpath" "$src/duk_main.c" $(pkg-config --cflags --libs evl-duktape)
LD_LIBRARY_PATH=$libdir expect "$ok_duk" "$tmp/duk_pc_norpath"

# evl_duktape.h refuses any duktape.h but the one installed with evl (a system one in
# /usr/include lacks the interrupt options).
if cc -std=c11 -fsyntax-only -I"$prefix/include" "$src/duk_main.c" 2>/dev/null; then
  fail "evl_duktape.h compiled without evl's duktape.h on the include path"
fi

# 2. pkg-config --static: the whole link line, no shared evl library needed at run time.
cc -std=c11 -static -o "$tmp/c_static" "$src/main.c" $(pkg-config --cflags --libs --static evl)
cc -std=c11 -static -o "$tmp/duk_static" "$src/duk_main.c" \
  $(pkg-config --cflags --libs --static evl-duktape)
c++ -std=c++11 -static -DEVL_CXX_DUKTAPE=1 -o "$tmp/cxx_static" "$src/consumer.cpp" \
  $(pkg-config --cflags --libs --static evl-duktape)
for p in c_static duk_static cxx_static; do
  readelf -d "$tmp/$p" 2>/dev/null | grep -q NEEDED && fail "$p is not statically linked"
done
expect "$ok_c" "$tmp/c_static"
expect "$ok_duk" "$tmp/duk_static"
expect "$ok_cxx" "$tmp/cxx_static"

# 3. find_package(evl COMPONENTS duktape) with CMAKE_PREFIX_PATH.
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cm" -j2 >/dev/null
for kind in shared static; do
  expect "$ok_c" "$tmp/cm/consumer_$kind"
  expect "$ok_duk" "$tmp/cm/duk_consumer_$kind"
  expect "$ok_cxx" "$tmp/cm/cxx_consumer_$kind"
done
needs "$tmp/cm/duk_consumer_shared" yes libevl_duktape
needs "$tmp/cm/duk_consumer_static" no libevl_duktape
needs "$tmp/cm/duk_consumer_static" no libevl_duktape_engine

# 4. An application's own Duktape: its copy of the amalgamation and its own duk_config.h,
# compiled through the installed engine file. The unconfigured file is refused at compile
# time; with the two options the adapter links with it instead of libevl_duktape_engine.
duk_src=${EVL_DUKTAPE_DIR:-/usr/share/duktape}
own=$tmp/own-duktape
mkdir -p "$own"
cp "$duk_src/duktape.c" "$duk_src/duktape.h" "$duk_src/duk_config.h" "$own/"
engine=$prefix/share/evl/duktape-engine/duk_engine.c
if cc -std=c11 -w -I"$own" -c "$engine" -o "$tmp/refused.o" 2>/dev/null; then
  fail "the engine file compiled against a duk_config.h without the interrupt options"
fi
sed -i -e 's|^#undef DUK_USE_INTERRUPT_COUNTER$|#define DUK_USE_INTERRUPT_COUNTER|' \
  -e 's|^#undef DUK_USE_EXEC_TIMEOUT_CHECK$|int evl__duk_exec_timeout_check(void *udata);\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) evl__duk_exec_timeout_check(udata)|' \
  "$own/duk_config.h"
cc -std=c11 -O2 -w -I"$own" -c "$engine" -o "$tmp/own_engine.o"
cc -std=c11 -Wall -Werror -I"$prefix/include" -I"$own" -o "$tmp/duk_own" "$src/duk_main.c" \
  "$tmp/own_engine.o" "$libdir/libevl_duktape.a" "$libdir/libevl.a" -lpthread -lm
needs "$tmp/duk_own" no libevl_duktape_engine
expect "$ok_duk" "$tmp/duk_own"

echo "install check: pkg-config (shared, --static), find_package (shared, static) and own-Duktape consumers, C and C++, built and ran"

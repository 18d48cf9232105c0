#!/usr/bin/env bash
# Installs what the build and tests need, only when something is missing. Safe to run
# again; does nothing when all is present. Usage: scripts/deps.sh [test|bench|lint]...
set -euo pipefail
want=(cmake:cmake gcc:gcc g++:g++ make:make pkg-config:pkg-config git:git)
want_files=(/usr/share/duktape/duktape.c:duktape-dev)
for what in "$@"; do
  case "$what" in
    test) want+=(clang:clang valgrind:valgrind node:nodejs npm:npm curl:curl promtool:prometheus)
          want_files+=(/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev) ;;
    bench) want+=(gnuplot:gnuplot-nox node:nodejs valgrind:valgrind)
           want_files+=(/usr/include/uv.h:libuv1-dev /usr/include/ev.h:libev-dev
                        /usr/include/event2/event.h:libevent-dev) ;;
    lint) want+=(clang-format-14:clang-format-14 clang-tidy-14:clang-tidy-14 cppcheck:cppcheck) ;;
  esac
done
missing=()
for w in "${want[@]}"; do
  command -v "${w%%:*}" >/dev/null 2>&1 || missing+=("${w##*:}")
done
for w in "${want_files[@]}"; do
  [ -e "${w%%:*}" ] || missing+=("${w##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages and not root: install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm packages for the tests go into the git-ignored .deps/npm, only when missing.
for what in "$@"; do
  if [ "$what" = test ]; then
    root=$(cd "$(dirname "$0")/.." && pwd)
    if [ ! -f "$root/.deps/npm/node_modules/promises-aplus-tests/package.json" ]; then
      echo "deps: installing promises-aplus-tests@2.1.2 into .deps/npm"
      npm install --prefix "$root/.deps/npm" --no-audit --no-fund --no-save --loglevel=error \
        promises-aplus-tests@2.1.2 >/dev/null
    fi
  fi
done

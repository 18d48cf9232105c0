#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds examples/consumer against it twice:
# once with pkg-config and once with find_package(evl). Proves the install is self-contained.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1)

export PKG_CONFIG_PATH=$libdir
cc -std=c11 -o "$tmp/consumer_pc" "$root/examples/consumer/main.c" $(pkg-config --cflags --libs --static evl) -Wl,-rpath,"$(pkg-config --variable=libdir evl)"
"$tmp/consumer_pc"

cmake -S "$root/examples/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
"$tmp/cm/consumer"
echo "install check: pkg-config and find_package consumers built and ran"

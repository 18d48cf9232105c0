#!/usr/bin/env bash
# Runs clang-tidy (config in .clang-tidy) over the project's own sources using the build's
# compile_commands.json; any warning fails.
set -euo pipefail
build=${1:-build}
files=$(git ls-files 'src/*.c' 'cli/*.c')
out=$(clang-tidy-14 -p "$build" --quiet $files 2>/dev/null || true)
if grep -E 'warning:|error:' <<<"$out"; then
  echo "clang-tidy: findings above" >&2
  exit 1
fi
echo "clang-tidy: clean"

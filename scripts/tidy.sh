#!/usr/bin/env bash
# Runs clang-tidy (config in .clang-tidy) over the project's own sources using the build's
# compile_commands.json; any warning fails.
set -euo pipefail
build=${1:-build}
# src/duktape/engine/ compiles Duktape itself (it includes the amalgamation): not ours to lint.
files=$(git ls-files 'src/*.c' 'cli/*.c' ':!src/duktape/engine/*')
out=$(clang-tidy-14 -p "$build" --quiet $files 2>/dev/null || true)
if grep -E 'warning:|error:' <<<"$out"; then
  echo "clang-tidy: findings above" >&2
  exit 1
fi
echo "clang-tidy: clean"

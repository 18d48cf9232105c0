#!/usr/bin/env bash
# Runs the Promises/A+ suite (npm promises-aplus-tests@2.1.2, installed at test time into
# .deps/npm by scripts/deps.sh test, never vendored) inside evljs and requires exactly
# "872 passed, 0 failed". Usage: run.sh EVLJS NODE SOURCE_DIR WORK_DIR
set -u
evljs=$1
node=$2
src=$3
work=$4
suite=$src/.deps/npm/node_modules/promises-aplus-tests
if [ ! -f "$suite/package.json" ]; then
    echo "promises-aplus-tests is not installed in $src/.deps/npm: run scripts/deps.sh test"
    exit 77
fi
if ! command -v "$node" >/dev/null 2>&1; then
    echo "node not found: skipped"
    exit 77
fi
mkdir -p "$work"
bundle=$work/aplus_bundle.js
"$node" "$src/tests/js/aplus/bundle.js" "$suite" "$bundle" || exit 1
"$evljs" "$bundle" >"$work/aplus.out" 2>"$work/aplus.err"
status=$?
grep -v '^872 passed, 0 failed$' "$work/aplus.out" | head -40
tail -n 1 "$work/aplus.out"
if [ $status -ne 0 ]; then
    echo "evljs exited with status $status"
    head -c 2000 "$work/aplus.err"
    exit 1
fi
grep -qx '872 passed, 0 failed' "$work/aplus.out"

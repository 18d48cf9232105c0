#!/usr/bin/env bash
# Web platform fixture: runs FIXTURE.js under evljs and compares stdout and exit status with
# the hand-pinned FIXTURE.expected (last line "exit N"). Node is the second opinion: unless
# the fixture is listed in node-differences.txt (with the reason), node must print the same.
# Usage: run_web.sh EVLJS NODE FIXTURE.js
set -u
evljs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
node=$2
fixture=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
dir=$(dirname "$fixture")
name=$(basename "$fixture" .js)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
"$evljs" "$name.js" >"$tmp/evljs.out" 2>"$tmp/evljs.err"
echo "exit $?" >>"$tmp/evljs.out"
status=0
if ! cmp -s "$dir/$name.expected" "$tmp/evljs.out"; then
    echo "MISMATCH $name: evljs vs the pinned expectation"
    diff -u "$dir/$name.expected" "$tmp/evljs.out" | tail -n +3
    echo "--- evljs stderr ---"
    head -c 2000 "$tmp/evljs.err"
    status=1
fi
if grep -q "^$name:" "$dir/node-differences.txt"; then
    echo "node not compared: $(grep "^$name:" "$dir/node-differences.txt")"
elif command -v "$node" >/dev/null 2>&1; then
    "$node" "$name.js" >"$tmp/node.out" 2>"$tmp/node.err"
    echo "exit $?" >>"$tmp/node.out"
    if ! cmp -s "$dir/$name.expected" "$tmp/node.out"; then
        echo "MISMATCH $name: node disagrees with the pinned expectation"
        diff -u "$dir/$name.expected" "$tmp/node.out" | tail -n +3
        status=1
    fi
fi
[ $status -eq 0 ] && echo "ok $name"
exit $status

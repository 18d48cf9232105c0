#!/usr/bin/env bash
# Node oracle: runs one fixture under node and under evljs and compares stdout and exit
# status exactly (stderr is shown on failure but not compared: error texts differ).
# Usage: run_oracle.sh EVLJS NODE FIXTURE.js
# Node's output is produced at test time rather than stored: Node is the oracle, so a stored
# copy could only drift from it; every machine that runs the tests has Node 20 (deps.sh).
set -u
evljs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
node=$2
fixture=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
if ! command -v "$node" >/dev/null 2>&1; then
    echo "node not found: skipped"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$(dirname "$fixture")" || exit 1
name=$(basename "$fixture")
"$node" "$name" >"$tmp/node.out" 2>"$tmp/node.err"
node_status=$?
"$evljs" "$name" >"$tmp/evljs.out" 2>"$tmp/evljs.err"
evljs_status=$?
if [ "$node_status" -eq "$evljs_status" ] && cmp -s "$tmp/node.out" "$tmp/evljs.out"; then
    echo "ok $name (status $node_status, $(wc -l <"$tmp/node.out") lines)"
    exit 0
fi
echo "MISMATCH $name: node status $node_status, evljs status $evljs_status"
echo "--- stdout diff (node vs evljs) ---"
diff -u "$tmp/node.out" "$tmp/evljs.out" | tail -n +3
echo "--- node stderr ---"
head -c 2000 "$tmp/node.err"
echo "--- evljs stderr ---"
head -c 2000 "$tmp/evljs.err"
exit 1

#!/usr/bin/env bash
# evljs-only fixtures (process.metrics has no Node peer): runs FIXTURE.js under evljs and
# compares stdout and exit status with FIXTURE.expected (status 0 unless the first line of
# the fixture says "// status=N").
# Usage: run.sh EVLJS FIXTURE.js
set -u
evljs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fixture=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
expected=${fixture%.js}.expected
want_status=$(sed -n '1s|^// status=\([0-9]*\).*|\1|p' "$fixture")
want_status=${want_status:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$(dirname "$fixture")" || exit 1
"$evljs" "$(basename "$fixture")" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -eq "$want_status" ] && cmp -s "$expected" "$tmp/out"; then
    echo "ok $(basename "$fixture") (status $status, $(wc -l <"$tmp/out") lines)"
    exit 0
fi
echo "MISMATCH $(basename "$fixture"): status $status (want $want_status)"
diff -u "$expected" "$tmp/out" | tail -n +3
echo "--- stderr ---"
head -c 2000 "$tmp/err"
exit 1

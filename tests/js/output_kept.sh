#!/usr/bin/env bash
# stdout to a pipe or a file is written synchronously (as Node does on Linux): a process
# killed with SIGKILL after printing has lost nothing. Runs the same script under node and
# evljs, killed while spinning, with stdout to a pipe and to a file; compares the output.
# Usage: output_kept.sh EVLJS NODE
set -u
evljs=$1
node=$2
if ! command -v "$node" >/dev/null 2>&1; then
    echo "node not found: skipped"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/spin.js" <<'JS'
console.log('first line');
process.stdout.write('partial line without newline');
console.error('to stderr');
setTimeout(function () {
    console.log('from a timer');
    for (;;) {}
}, 5);
JS
status=0
for runner in "$node" "$evljs"; do
    name=$(basename "$runner")
    timeout -s KILL 2 "$runner" "$tmp/spin.js" 2>/dev/null | cat >"$tmp/$name.pipe"
    { timeout -s KILL 2 "$runner" "$tmp/spin.js" >"$tmp/$name.file"; } 2>/dev/null
done
for kind in pipe file; do
    if ! cmp -s "$tmp/$(basename "$node").$kind" "$tmp/$(basename "$evljs").$kind"; then
        echo "MISMATCH ($kind): node vs evljs"
        diff "$tmp/$(basename "$node").$kind" "$tmp/$(basename "$evljs").$kind"
        status=1
    elif [ ! -s "$tmp/$(basename "$evljs").$kind" ]; then
        echo "empty output ($kind)"
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "ok: output kept through SIGKILL (pipe and file)"
exit "$status"

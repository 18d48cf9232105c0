#!/usr/bin/env bash
# A reader that goes away: like Node, evljs is not killed by SIGPIPE (status 141) but fails
# the write with EPIPE, which ends a script that does not handle it with status 1, after the
# output the reader took. Usage: epipe.sh EVLJS NODE
set -u
evljs=$1
node=$2
if ! command -v "$node" >/dev/null 2>&1; then
    echo "node not found: skipped"
    exit 77
fi
script="var n = 0; setInterval(function () { console.log('line ' + n++); }, 1);"
node_out=$("$node" -e "$script" 2>/dev/null | head -n 3)
node_status=${PIPESTATUS[0]}
evljs_out=$("$evljs" -e "$script" 2>/dev/null | head -n 3)
evljs_status=${PIPESTATUS[0]}
if [ "$node_out" != "$evljs_out" ] || [ "$node_status" -ne "$evljs_status" ]; then
    echo "MISMATCH: node status $node_status, evljs status $evljs_status"
    echo "node: $node_out"
    echo "evljs: $evljs_out"
    exit 1
fi
echo "ok: both print the lines the reader took and exit $node_status"

#!/bin/sh
# The tour's stdout and exit status under evljs must equal Node's (make demo runs it).
# Usage: tour-vs-node.sh EVLJS TOUR_JS. Skips (77) without node or without Promise.
evljs=$1
tour=$2
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
if [ "$("$evljs" -e 'console.log(typeof Promise)')" != function ]; then
    echo "SKIP: this evljs has no Promise yet"; exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
node "$tour" >"$tmp/node.out" 2>"$tmp/node.err"; node_rc=$?
"$evljs" "$tour" >"$tmp/evl.out" 2>"$tmp/evl.err"; evl_rc=$?
if [ $node_rc -ne $evl_rc ] || ! cmp -s "$tmp/node.out" "$tmp/evl.out"; then
    echo "status: node $node_rc, evljs $evl_rc"
    diff -u "$tmp/node.out" "$tmp/evl.out"
    cat "$tmp/evl.err"
    exit 1
fi
echo "tour output identical to node ($(wc -l <"$tmp/evl.out") lines)"

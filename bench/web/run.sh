#!/usr/bin/env bash
# Runs bench/web/web.js under evljs and node, one process per workload and runtime,
# interleaved, REPS times (default 3), and prints the median ns/op of each and the ratio
# evljs/node. Usage: bench/web/run.sh [BUILD_DIR] [REPS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
reps=${2:-3}
evljs=$build/cli/evljs
node=${NODE:-node}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for w in $("$node" "$here/web.js" | sed 's/^workloads: //'); do
    e=() n=()
    for _ in $(seq "$reps"); do
        e+=("$("$evljs" "$here/web.js" "$w" | awk '{print $3}')")
        n+=("$("$node" "$here/web.js" "$w" | awk '{print $3}')")
    done
    em=$(printf '%s\n' "${e[@]}" | median)
    nm=$(printf '%s\n' "${n[@]}" | median)
    awk -v w="$w" -v e="$em" -v n="$nm" 'BEGIN { printf "%-28s evljs %10d ns  node %10d ns  ratio %.2f\n", w, e, n, e / n }'
done

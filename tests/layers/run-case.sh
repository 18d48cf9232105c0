#!/usr/bin/env bash
# One self-test of scripts/check-layers.sh: runs it on a tiny fake tree and asserts its
# verdict, the exit status and the whole output, line for line.
# usage: run-case.sh CASE-DIR TABLE EXPECTED-EXIT EXPECTED-OUTPUT-FILE
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case_dir=$1 table=$2 want_rc=$3 want_out=$4
if ! command -v node >/dev/null; then
    echo "node not found"
    exit 77
fi
cd "$here/$case_dir" || exit 1
out=$("$here/../../scripts/check-layers.sh" --root . --table "$table")
rc=$?
status=0
if [ "$rc" != "$want_rc" ]; then
    echo "FAIL: exit status $rc, expected $want_rc"
    status=1
fi
if ! diff -u "$want_out" <(printf '%s\n' "$out"); then
    echo "FAIL: output differs from $case_dir/$want_out (- expected, + got)"
    status=1
fi
[ "$status" = 0 ] && echo "ok: $case_dir ($table): exit $rc, output as expected"
exit "$status"

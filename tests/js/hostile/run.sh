#!/usr/bin/env bash
# Hostile scripts: each case file starts with a header line
#   // hostile: status=N [args=...] [ulimit=KB] [guard=S] [main=FILE] [stdout=ERE] [stderr=ERE] [nostderr=ERE]
# and must end with exactly that exit status, never by a signal or by the guard (30 s unless
# guard= says otherwise), with
# stdout/stderr matching the patterns (grep -E). main=FILE runs a generated fixture from
# $HOSTILE_DIR instead of the case itself (sources that cannot be kept as text in the repo);
# ulimit caps the address space (ulimit -v, KB; under ASan its soft RSS limit) for the
# uncapped-heap cases; nostderr names
# what stderr must not contain (every case: no DoubleError, no assertion, no sanitizer report).
# Usage: run.sh EVLJS CASE.js
set -u
evljs=$1
case_file=$2
name=$(basename "$case_file" .js)
header=$(head -n 1 "$case_file")
case "$header" in
"// hostile:"*) ;;
*) echo "FAIL $name: no '// hostile:' header"; exit 1 ;;
esac
field() { # field NAME: the value of NAME= in the header (up to the next ' key=' or the end)
    printf '%s\n' "${header#// hostile:}" |
        sed -n -E "s/.*(^| )$1=(.*)/\2/p" | sed -E 's/ (status|args|ulimit|guard|main|stdout|stderr|nostderr)=.*//'
}
want_status=$(field status)
args=$(field args)
limit=$(field ulimit)
guard=$(field guard)
guard=${guard:-30}
main=$(field main)
want_out=$(field stdout)
want_err=$(field stderr)
bad_err=$(field nostderr)

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export HOSTILE_DIR=$dir
# Fixtures that cannot live in the repository as text.
mkfifo "$dir/fifo"
mkdir "$dir/dir"
printf '\xef\xbb\xbfconsole.log("bom ok");\n' >"$dir/bom.js"
printf 'var s = "a\xffb\xc3(";\nconsole.log("len " + s.length);\n' >"$dir/invalid_utf8.js"
printf '\xffconsole.log(1);\n' >"$dir/leading_ff.js"
printf 'module.exports = "a\xe9b";\n' >"$dir/latin1.js"
for i in 1 2 3 4 5 6 7 8; do
    printf '\x01\x02\x03\x04\x05\x06\x07\x0b\x0c\x0e\x10\x80\x81\xfe\xff\xc3\x28\xe2\x82\x00'
done >"$dir/binary.js"
truncate -s 300M "$dir/huge.js"
truncate -s 20M "$dir/over_cap.js"
printf '{"a": [1, 2,' >"$dir/bad.json"
printf '["\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf\xf0\x90\x80"]' >"$dir/astral.json"
printf 'exports.name = "a";\nexports.b = require("./cyc_b.js");\n' >"$dir/cyc_a.js"
printf 'var a = require("./cyc_a.js");\nexports.name = "b";\nexports.sawPartial = a.name === "a" && a.b === undefined;\n' >"$dir/cyc_b.js"
printf 'exports.self = require("./self.js");\nmodule.exports = exports;\n' >"$dir/self.js"

# AddressSanitizer reserves terabytes of address space for its shadow memory, so under ASan
# ulimit -v would stop evljs from starting: the limit becomes ASan's own there (past that
# RSS, malloc returns NULL), at half the size: filling memory costs about four times the CPU
# under ASan. Freed memory must lower the RSS again, as it gives address space back under
# ulimit: no quarantine, pages returned at once.
asan_limit=
if [ -n "$limit" ] && grep -aq __asan_init "$evljs"; then
    asan_limit="allocator_may_return_null=1:soft_rss_limit_mb=$((limit / 2048))"
    asan_limit="$asan_limit:quarantine_size_mb=0:allocator_release_to_os_interval_ms=0"
fi

script=$(cd "$(dirname "$case_file")" && pwd)/$(basename "$case_file")
[ -n "$main" ] && script=$dir/$main
start=$(date +%s%N)
(
    if [ -n "$asan_limit" ]; then
        export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$asan_limit"
    elif [ -n "$limit" ]; then
        ulimit -v "$limit"
    fi
    # shellcheck disable=SC2086 # args is a word list by design
    exec timeout -s KILL "$guard" "$evljs" $args "$script" </dev/null >"$dir/out" 2>"$dir/err"
)
got=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
fail() {
    echo "FAIL $name: $* (status $got, ${ms} ms)"
    echo "--- stdout (head)"; head -c 1500 "$dir/out"; echo
    echo "--- stderr (head)"; head -c 1500 "$dir/err"; echo
    exit 1
}
[ "$got" -eq 137 ] && fail "killed by the ${guard} s guard (hang)"
[ "$got" -ne "$want_status" ] && [ "$got" -gt 128 ] && fail "died by signal $((got - 128))"
# ASan's soft RSS limit fails every malloc until its poller sees the RSS fall, which ulimit
# never does: the 'uncaughtException' dispatch can then run out of memory too, and Node's
# status for that is 7. Under ASan that status is what its limit can give; the statuses
# themselves are checked by the regular build.
if [ -n "$asan_limit" ] && [ "$want_status" -eq 1 ] && [ "$got" -eq 7 ]; then
    got=1
fi
[ "$got" -eq "$want_status" ] || fail "expected status $want_status"
if [ -n "$want_out" ] && ! grep -Eq -- "$want_out" "$dir/out"; then
    fail "stdout does not match /$want_out/"
fi
if [ -n "$want_err" ] && ! grep -Eq -- "$want_err" "$dir/err"; then
    fail "stderr does not match /$want_err/"
fi
# (ASan's note that its soft RSS limit was reached is the limit working, not a report.)
if grep -v "AddressSanitizer: soft rss limit exhausted" "$dir/err" |
    grep -Eq -- "DoubleError|Assertion|AddressSanitizer|runtime error:${bad_err:+|$bad_err}"; then
    fail "stderr has a forbidden report"
fi
echo "ok $name (status $got, ${ms} ms)"

#!/usr/bin/env bash
# evljs sandbox limits: each case runs a script under limits node does not have (so no
# oracle) and checks the exit status, that stdout printed before the limit is all there, and
# the error's name and code on stderr.
# Usage: run.sh <evljs> <case>
set -u
EVLJS=$1
CASE=$2
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
    echo "FAIL ($CASE): $*"
    echo "--- stdout"; cat "$out"
    echo "--- stderr"; cat "$err"
    exit 1
}

# run <expected status> <evljs args...>
run() {
    local want=$1
    shift
    timeout 60 "$EVLJS" "$@" >"$out" 2>"$err"
    local got=$?
    [ "$got" -eq "$want" ] || fail "exit status $got, expected $want"
}

expect_out() { grep -qxF -- "$1" "$out" || fail "stdout lacks the line: $1"; }
expect_err() { grep -qF -- "$1" "$err" || fail "stderr lacks: $1"; }

case "$CASE" in
timers_throw)
    run 0 --max-timers=3 -e '
        var n = 0;
        for (var i = 0; i < 5; i++) {
            try { setTimeout(function () {}, 5); n++; }
            catch (e) { console.log(e.name + " " + e.code); }
        }
        console.log("armed " + n);'
    expect_out "RangeError ERR_EVL_LIMIT_TIMERS"
    expect_out "armed 3"
    ;;
timers_uncaught)
    run 1 --sandbox --max-timers=2 -e '
        console.log("before");
        setTimeout(function () {}, 1); setImmediate(function () {});
        setTimeout(function () {}, 1);
        console.log("never");'
    expect_out "before"
    grep -q never "$out" && fail "ran past the limit"
    expect_err "Uncaught RangeError"
    expect_err "ERR_EVL_LIMIT_TIMERS"
    ;;
runtime_busy)
    run 1 --max-runtime-ms=200 -e '
        console.log("start");
        try { while (true) {} } catch (e) { console.log("caught " + e.code); }
        console.log("never");'
    expect_out "start"
    grep -q never "$out" && fail "the loop went on"
    expect_err "ERR_EVL_LIMIT_RUNTIME"
    ;;
runtime_idle)
    run 1 --max-runtime-ms=200 -e '
        console.log("start");
        setInterval(function () {}, 20);
        process.on("exit", function (c) { console.log("exit " + c); });'
    expect_out "start"
    expect_out "exit 1"
    expect_err "ERR_EVL_LIMIT_RUNTIME"
    ;;
runtime_handled_still_ends)
    run 1 --max-runtime-ms=200 -e '
        process.on("uncaughtException", function (e) { console.log("got " + e.code); });
        setTimeout(function () { while (true) {} }, 1);'
    expect_out "got ERR_EVL_LIMIT_RUNTIME"
    ;;
runtime_not_reached)
    run 0 --max-runtime-ms=5000 -e 'setTimeout(function () { console.log("done"); }, 10);'
    expect_out "done"
    ;;
cpu_code)
    run 0 --timeout-ms=100 -e '
        process.on("uncaughtException", function (e) {
            console.log(e.name + " " + e.code + " " + e.message);
        });
        setTimeout(function () { while (true) {} }, 1);'
    expect_out "RangeError ERR_EVL_LIMIT_CPU execution timeout"
    ;;
thenable_loop)
    # A thenable that re-resolves itself forever: ECMAScript never ends it; the sandbox does.
    run 1 --sandbox --max-microtasks=100000 -e '
        var t = { then: function (r) { r(t); } };
        Promise.resolve(t);
        console.log("sync done");'
    expect_out "sync done"
    expect_err "Uncaught RangeError"
    expect_err "ERR_EVL_LIMIT_MICROTASKS"
    ;;
sandbox_normal_script)
    run 0 --sandbox -e '
        var log = [];
        setTimeout(function () { log.push("t"); }, 5);
        setImmediate(function () { log.push("i"); });
        Promise.resolve().then(function () { log.push("p"); });
        setTimeout(function () { console.log(log.sort().join(",")); }, 20);'
    expect_out "i,p,t"
    ;;
bad_options)
    run 2 --max-runtime-ms=0 -e '1'
    run 2 --max-timers=x -e '1'
    run 2 --max-microtasks= -e '1'
    # Beyond the longest delay a timer can take (2^42 ms): a deadline this far away used to
    # wrap around and interrupt the first statement, or fail as "cannot set up the runtime".
    run 2 --timeout-ms=4398046511105 -e '1'
    run 2 --timeout-ms=18446744073709 -e '1'
    run 2 --timeout-ms=99999999999999999999 -e '1'
    run 0 --timeout-ms=4398046511104 -e 'console.log("longest ok")'
    expect_out "longest ok"
    ;;
*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
echo "ok ($CASE)"

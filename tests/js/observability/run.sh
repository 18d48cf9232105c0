#!/usr/bin/env bash
# evljs observability flags: --log-level, --log-format, --trace-timers, --metrics-listen.
# Each case checks the exit status, the script's own stdout and what the flags put on stderr
# (and, for the metrics endpoint, what a scraper gets).
# Usage: run.sh <evljs> <node> <case>
set -u
EVLJS=$1
NODE=$2
CASE=$3
out=$(mktemp)
err=$(mktemp)
body=$(mktemp)
pid=
trap 'rm -f "$out" "$err" "$body"; [ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT

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
expect_err_re() { grep -qE -- "$1" "$err" || fail "stderr lacks a match of: $1"; }

# A timer chain: an outer timeout whose callback sets a nested one, and an interval cleared
# on its second run; prints the ids setTimeout/setInterval returned.
TIMERS='var ids = [];
var outer = setTimeout(function () {
    var inner = setTimeout(function () { console.log("inner " + (+inner)); }, 1);
    ids.push(+inner);
    console.log("nested " + (+inner));
}, 5);
var n = 0;
var iv = setInterval(function () { if (++n === 2) { clearInterval(iv); } }, 2);
console.log("outer " + (+outer) + " interval " + (+iv));'

case "$CASE" in
default_is_quiet)
    run 0 -e "$TIMERS"
    [ -s "$err" ] && fail "stderr not empty without flags"
    ;;
trace_timers_json)
    run 0 --log-format=json --trace-timers -e "$TIMERS"
    expect_out "outer 1 interval 2"
    expect_out "nested 3"
    # Every line is one JSON object; the records are those of the timers above.
    "$NODE" -e '
        var lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
        var got = lines.map(function (l) {
            var r = JSON.parse(l);
            if (r.level !== "warn" || r.component !== "timer") { throw new Error(l); }
            return r.event + " " + r.id + " " + r.delay + " " + r.repeat + " " + r.nesting;
        });
        var want = ["create 1 0.005 0 1", "create 2 0.002 0.002 1", "fire 2 0.002 0.002 1",
                    "fire 2 0.002 0.002 2", "clear 2 0.002 0.002 2", "fire 1 0.005 0 1",
                    "create 3 0.001 0 2", "fire 3 0.001 0 2"];
        var sorted = got.slice().sort(), wsorted = want.slice().sort();
        if (JSON.stringify(sorted) !== JSON.stringify(wsorted)) {
            console.error("got:\n" + got.join("\n")); process.exit(1);
        }
        /* per timer, create before its fires before its clear */
        [1, 2, 3].forEach(function (id) {
            var ev = got.filter(function (g) { return g.split(" ")[1] == id; })
                        .map(function (g) { return g.split(" ")[0]; });
            if (ev[0] !== "create" || (ev.indexOf("clear") >= 0 && ev[ev.length - 1] !== "clear")) {
                console.error("order of " + id + ": " + ev); process.exit(1);
            }
        });' "$err" || fail "timer records differ"
    ;;
trace_timers_logfmt_debug)
    run 0 --log-format=logfmt --log-level=debug --trace-timers -e "$TIMERS"
    expect_err_re '^time=[0-9T:.-]+Z level=debug component=timer event=create id=1 delay=5ms repeat=0ns nesting=1$'
    expect_err_re '^time=[^ ]+ level=debug component=timer event=fire id=3 delay=1ms repeat=0ns nesting=2$'
    # debug also shows the loop's own records
    expect_err_re '^time=[^ ]+ level=info component=loop event=start mode=default$'
    expect_err_re '^time=[^ ]+ level=info component=loop event=stop mode=default discarded=0 terminated=false$'
    ;;
log_level_plain)
    # Without --log-format: the plain lines, filtered by the level.
    run 0 --log-level=info -e 'setTimeout(function () {}, 1)'
    expect_err "evl [info] loop: event=start mode=default"
    run 0 --log-level=error --trace-timers -e 'setTimeout(function () {}, 1)'
    expect_err "evl [error] timer: event=create id=1 delay=1ms repeat=0ns nesting=1"
    expect_err "evl [error] timer: event=fire id=1"
    grep -q "loop:" "$err" && fail "info records at --log-level=error"
    run 0 --log-level=off --trace-timers -e 'setTimeout(function () {}, 1)'
    [ -s "$err" ] && fail "stderr not empty at --log-level=off"
    ;;
bad_values)
    for a in --log-level=loud --log-level= --log-format=xml --log-format= \
             --metrics-listen=localhost:9464 --metrics-listen=127.0.0.1 \
             --metrics-listen=127.0.0.1:65536 --metrics-listen=:80 --metrics-listen=[::1:80; do
        run 2 "$a" -e 'console.log("ran")'
        [ -s "$out" ] && fail "$a: the script ran"
        expect_err "evljs: invalid ${a%%=*} value"
    done
    # syntactically fine, refused by the server: still a usage error, nothing runs
    run 2 --metrics-listen=999.1.1.1:0 -e 'console.log("ran")'
    [ -s "$out" ] && fail "the script ran"
    expect_err "evljs: cannot serve metrics on 999.1.1.1:0"
    ;;
metrics_not_kept_alive)
    start=$(date +%s%N)
    run 0 --metrics-listen=127.0.0.1:0 -e 'setTimeout(function () { console.log("done"); }, 10)'
    end=$(date +%s%N)
    expect_out "done"
    expect_err_re '^evljs: metrics on http://127\.0\.0\.1:[0-9]+/metrics$'
    [ $(( (end - start) / 1000000 )) -lt 3000 ] || fail "the server kept the script alive"
    ;;
metrics_scrape)
    command -v curl >/dev/null 2>&1 || { echo "curl not installed: skipped"; exit 77; }
    # The script keeps its loop busy with timers and promise jobs until SIGUSR2 (sent once
    # the scrapes are done), then exits 3: no race against a fixed run time on a busy machine.
    "$EVLJS" --metrics-listen=127.0.0.1:0 -e '
        var n = 0;
        var iv = setInterval(function () {
            n++;
            Promise.resolve().then(function () {});
        }, 5);
        process.on("SIGUSR2", function () {
            clearInterval(iv);
            console.log("ticks>0 " + (n > 0));
            process.exitCode = 3;
        });' >"$out" 2>"$err" &
    pid=$!
    port=
    for _ in $(seq 1 200); do
        port=$(sed -n 's|^evljs: metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$err")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "no port announced"
    sleep 0.5 # some timer ticks to count
    code=$(curl -sS -o "$body" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics")
    [ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "scrape answered: $code"
    grep -qE '^evl_callbacks_total\{loop="[^"]*",kind="timer"\} [1-9][0-9]*$' "$body" ||
        fail "no timer callbacks in the scrape: $(head -c 2000 "$body")"
    grep -qE '^evl_callbacks_total\{loop="[^"]*",kind="microtask"\} [1-9]' "$body" ||
        fail "no microtasks in the scrape"
    grep -q '^evl_metrics_enabled{loop="[^"]*"} 1$' "$body" || fail "metrics not enabled"
    if command -v promtool >/dev/null 2>&1; then
        promtool check metrics <"$body" >"$out.prom" 2>&1 || {
            cat "$out.prom"; rm -f "$out.prom"; fail "promtool rejects the scrape"; }
        rm -f "$out.prom"
    else
        echo "promtool not installed: format check skipped"
    fi
    code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
    [ "$code" = "404" ] || fail "other path answered $code"
    kill -USR2 "$pid"
    wait "$pid"
    st=$?
    pid=
    [ "$st" -eq 3 ] || fail "exit status $st, expected 3"
    expect_out "ticks>0 true"
    ;;
*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
echo "ok ($CASE)"

// Shared prelude for the JS workloads (ES5 only: it must run under Duktape as well as Node).
// bench/run prepends `var BENCH = {only: NAME, quick: BOOL, n: N};` and this file to a
// workload script and runs the result with `RUNTIME -e CODE`, once per workload, so each
// measurement gets a fresh process. Output lines follow bench_common.h:
//   NAME LIBRARY ops N ns_per_op X [key value]...   or   NAME LIBRARY n/a REASON
var BENCH_LIB = (typeof process !== 'undefined' && process.versions && process.versions.node) ?
    'node' : 'evljs';

function benchOut(line) {
    if (typeof console !== 'undefined' && typeof console.log === 'function') {
        console.log(line);
    } else {
        print(line);
    }
}

function benchNow() {
    if (typeof performance !== 'undefined' && typeof performance.now === 'function') {
        return performance.now();
    }
    return Date.now();
}

function benchReport(name, ops, ms, extra) {
    var ns = (ms * 1e6) / ops;
    benchOut(name + ' ' + BENCH_LIB + ' ops ' + ops + ' ns_per_op ' + ns.toFixed(2) +
             (extra ? ' ' + extra : ''));
}

function benchNa(name, why) {
    benchOut(name + ' ' + BENCH_LIB + ' n/a ' + why);
}

// A wrong result must never print a number: report and end the process with status 1.
function benchFail(name, msg) {
    var text = 'FAIL ' + name + ' ' + BENCH_LIB + ': ' + msg;
    if (typeof process !== 'undefined' && typeof process.exit === 'function') {
        if (typeof console !== 'undefined' && typeof console.error === 'function') {
            console.error(text);
        }
        process.exit(1);
    }
    throw new Error(text);
}

function benchN(full, quick) {
    if (BENCH.n) {
        return BENCH.n;
    }
    return BENCH.quick ? quick : full;
}

// Each workload is {n: [full, quick], na: function () -> reason or '', run: function (name,
// n, done)}; run calls done(ms, extra) when the last operation has completed. benchRun runs
// it twice in the same process, a cold run (JIT warm-up, heap growth) and the measured warm
// run, and prints the warm figure with the cold one as cold_ns.
var benchWorkloads = {};

function benchRun() {
    var name = BENCH.only;
    var w = benchWorkloads[name];
    if (!w) {
        benchFail(name, 'unknown workload');
    }
    var why = w.na ? w.na() : '';
    if (why) {
        return benchNa(name, why);
    }
    var n = benchN(w.n[0], w.n[1]);
    w.run(name, n, function (coldMs) {
        w.run(name, n, function (ms, extra) {
            benchReport(name, n, ms,
                        'cold_ns ' + ((coldMs * 1e6) / n).toFixed(2) + (extra ? ' ' + extra : ''));
        });
    });
}

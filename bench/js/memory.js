// Memory workloads, run under both evljs and node by bench_spawn (bench/spawn_stats.c), which
// reports the peak resident set the kernel recorded for the process (wait4's ru_maxrss):
// the whole process at its largest, engine and runtime included, as a user would see it.
// Each workload builds its structure in one synchronous run, lets it complete and checks
// the result; a wrong result exits with status 1 (benchFail), which fails the row.

// N pending timers, each with its own closure over its own small object.
benchWorkloads.js_mem_timer = {
    n: [1000000, 100000],
    run: function (name, n) {
        var fired = 0;
        var sum = 0;
        function make(i) {
            var box = {i: i};
            return function () {
                fired++;
                sum += box.i;
            };
        }
        for (var i = 0; i < n; i++) {
            setTimeout(make(i), 1);
        }
        setTimeout(function () {
            if (fired !== n || sum !== (n * (n - 1)) / 2) {
                benchFail(name, fired + ' of ' + n + ' timers fired, sum ' + sum);
            }
        }, 2);
    }
};

// A then-chain of N links built on a pending promise, then resolved and run to the end.
benchWorkloads.js_mem_promise = {
    n: [1000000, 100000],
    run: function (name, n) {
        var resolve;
        var p = new Promise(function (r) {
            resolve = r;
        });
        function inc(x) {
            return x + 1;
        }
        for (var i = 0; i < n; i++) {
            p = p.then(inc);
        }
        p.then(function (v) {
            if (v !== n) {
                benchFail(name, 'chain produced ' + v);
            }
        });
        resolve(0);
    }
};

(function () {
    var w = benchWorkloads[BENCH.only];
    if (!w) {
        benchFail(BENCH.only, 'unknown workload');
    }
    w.run(BENCH.only, benchN(w.n[0], w.n[1]));
})();

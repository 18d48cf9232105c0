// The C promise workloads' shapes in JS, run under node to compare evl's C promises with
// V8's (bench/evl_promise.c runs the same shapes in C).
function noPromise() {
    return typeof Promise === 'function' ? '' : 'Promise missing';
}

// A then-chain of n links (reported under the C row's name).
benchWorkloads.promise_chain = {
    n: [1000000, 100000],
    na: noPromise,
    run: function (name, n, done) {
        var t0 = benchNow();
        var p = Promise.resolve(0);
        function inc(x) {
            return x + 1;
        }
        for (var i = 0; i < n; i++) {
            p = p.then(inc);
        }
        p.then(function (v) {
            var ms = benchNow() - t0;
            if (v !== n) {
                benchFail(name, 'chain produced ' + v);
            }
            done(ms);
        });
    }
};

// Create a pending promise, resolve it, attach one then, and let the reaction run.
benchWorkloads.promise_create = {
    n: [1000000, 100000],
    na: noPromise,
    run: function (name, n, done) {
        var sum = 0;
        function add(x) {
            sum += x;
        }
        function exec(res) {
            res(1);
        }
        var t0 = benchNow();
        for (var i = 0; i < n; i++) {
            new Promise(exec).then(add);
        }
        setTimeout(function () {
            var ms = benchNow() - t0;
            if (sum !== n) {
                benchFail(name, 'ran ' + sum + ' of ' + n + ' reactions');
            }
            done(ms);
        }, 0);
    }
};

// Promise.all over 1,000 already-resolved promises, repeated; ns per `all`.
benchWorkloads.promise_all = {
    n: [2000, 500],
    na: noPromise,
    run: function (name, rounds, done) {
        var inputs = [];
        for (var i = 0; i < 1000; i++) {
            inputs.push(Promise.resolve(i));
        }
        var count = 0;
        var t0 = benchNow();
        function round() {
            Promise.all(inputs).then(function (values) {
                if (values.length !== 1000 || values[999] !== 999) {
                    benchFail(name, 'wrong result');
                }
                count++;
                if (count < rounds) {
                    round();
                    return;
                }
                done(benchNow() - t0, 'width 1000');
            });
        }
        round();
    }
};

// Heap bytes per pending promise with one reaction (node --expose-gc only). Printed
// directly: a memory line has no timing.
benchWorkloads.mem_promise = {
    n: [100000, 100000],
    na: function () {
        return typeof gc === 'function' ? '' : 'needs --expose-gc';
    },
    run: function (name, n) {
        // Kept in a global so that no optimisation can treat the promises as dead.
        var keep = [];
        benchWorkloads.mem_promise.keep = keep;
        function nop() {
        }
        gc();
        var before = process.memoryUsage().heapUsed;
        for (var i = 0; i < n; i++) {
            var p = new Promise(nop);
            p.then(nop);
            keep.push(p);
        }
        gc();
        var after = process.memoryUsage().heapUsed;
        benchOut(name + ' ' + BENCH_LIB + ' ops ' + n + ' bytes_per_op ' +
                 ((after - before - 8 * n) / n).toFixed(1) +
                 ' method heapUsed-delta(promise+then-result+reaction)');
    }
};

if (BENCH.only === 'mem_promise') {
    benchWorkloads.mem_promise.run('mem_promise', 100000);
} else {
    benchRun();
}

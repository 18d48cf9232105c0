// JS-level workloads, run under both node and evljs (ES5: no arrows, let or templates).

// A chain of setImmediate calls, each scheduling the next.
benchWorkloads.js_immediate_chain = {
    n: [1000000, 50000],
    na: function () {
        return typeof setImmediate === 'function' ? '' : 'setImmediate missing';
    },
    run: function (name, n, done) {
        var left = n;
        var t0 = benchNow();
        function step() {
            left--;
            if (left > 0) {
                setImmediate(step);
                return;
            }
            done(benchNow() - t0);
        }
        setImmediate(step);
    }
};

// setTimeout + clearTimeout pairs: none of the cleared callbacks may run.
benchWorkloads.js_timeout_churn = {
    n: [1000000, 50000],
    na: function () {
        return typeof setTimeout === 'function' && typeof clearTimeout === 'function' ?
            '' : 'setTimeout missing';
    },
    run: function (name, n, done) {
        var ran = 0;
        function never() {
            ran++;
        }
        var t0 = benchNow();
        for (var i = 0; i < n; i++) {
            var t = setTimeout(never, 1000);
            clearTimeout(t);
        }
        var ms = benchNow() - t0;
        setTimeout(function () {
            if (ran !== 0) {
                benchFail(name, ran + ' cleared timeouts ran');
            }
            done(ms);
        }, 2);
    }
};

// A promise chain built up front and then run: one `then` per link.
benchWorkloads.js_promise_chain = {
    n: [1000000, 50000],
    na: function () {
        return typeof Promise === 'function' ? '' : 'Promise missing';
    },
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

// A flat flood of microtasks queued in one synchronous run and drained in one checkpoint,
// checked for FIFO order.
benchWorkloads.js_microtask_flood = {
    n: [1000000, 50000],
    na: function () {
        return typeof queueMicrotask === 'function' ? '' : 'queueMicrotask missing';
    },
    run: function (name, n, done) {
        var next = 0;
        var bad = 0;
        function make(i) {
            return function () {
                if (i !== next) {
                    bad++;
                }
                next = i + 1;
            };
        }
        var tasks = [];
        for (var i = 0; i < n; i++) {
            tasks.push(make(i));
        }
        var t0 = benchNow();
        for (i = 0; i < n; i++) {
            queueMicrotask(tasks[i]);
        }
        queueMicrotask(function () {
            var ms = benchNow() - t0;
            if (next !== n || bad !== 0) {
                benchFail(name, 'ran ' + next + ' of ' + n + ', ' + bad + ' out of order');
            }
            // The next run must not start inside this checkpoint.
            setTimeout(function () {
                done(ms);
            }, 0);
        });
    }
};

benchRun();

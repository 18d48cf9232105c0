/*
 * A tour of the evljs runtime: `make demo` runs it with evljs, and `node examples/tour.js`
 * prints exactly the same thing (a test checks it). ES5 only, as Duktape requires.
 *
 * Each section runs after the previous one has finished, so the output never depends on
 * timing races.
 */
'use strict';

var sections = [];
function section(title, body) {
    sections.push({ title: title, body: body });
}
function next() {
    var s = sections.shift();
    if (!s) {
        return;
    }
    console.log('\n== ' + s.title + ' ==');
    s.body(next);
}

section('1. Phases: sync code, nextTick, microtasks, timers, immediates', function (done) {
    var order = [];
    setTimeout(function () {
        order.push('setTimeout');
        setImmediate(function () {
            order.push('setImmediate (scheduled from a timer: runs before a new zero timer)');
        });
        setTimeout(function () {
            order.push('setTimeout 0 (scheduled from a timer)');
            order.forEach(function (what, i) {
                console.log('  ' + (i + 1) + '. ' + what);
            });
            done();
        }, 0);
    }, 5);
    Promise.resolve().then(function () {
        order.push('promise reaction (microtask)');
    });
    queueMicrotask(function () {
        order.push('queueMicrotask');
    });
    process.nextTick(function () {
        order.push('process.nextTick (runs before promise jobs)');
    });
    order.push('synchronous code');
});

section('2. Timers: ordering by deadline, FIFO ties, clear, intervals', function (done) {
    var log = [];
    setTimeout(function () { log.push('30 ms'); }, 30);
    setTimeout(function () { log.push('10 ms (first)'); }, 10);
    setTimeout(function () { log.push('10 ms (second, same deadline: FIFO)'); }, 10);
    var cancelled = setTimeout(function () { log.push('never printed'); }, 20);
    clearTimeout(cancelled);
    var ticks = 0;
    var interval = setInterval(function () {
        ticks += 1;
        if (ticks === 3) {
            clearInterval(interval);
            log.push('interval cleared itself after 3 ticks');
        }
    }, 12);
    setTimeout(function () {
        log.forEach(function (line) {
            console.log('  ' + line);
        });
        console.log('  timer objects: typeof +timeout = ' + typeof +interval +
                    ', hasRef() = ' + interval.hasRef());
        done();
    }, 80);
});

section('3. Promise chains', function (done) {
    Promise.resolve(2)
        .then(function (v) {
            console.log('  start with ' + v);
            return v * 10;
        })
        .then(function (v) {
            console.log('  times ten: ' + v);
            return new Promise(function (resolve) {
                setTimeout(function () { resolve(v + 1); }, 5);
            });
        })
        .then(function (v) {
            console.log('  after a timer-backed promise: ' + v);
            throw new Error('something went wrong');
        })
        .catch(function (err) {
            console.log('  caught: ' + err.message);
            return 'recovered';
        })
        .finally(function () {
            console.log('  finally runs either way');
        })
        .then(function (v) {
            console.log('  value after finally: ' + v);
            done();
        });
});

section('4. Combinators', function (done) {
    function delay(ms, value, fail) {
        return new Promise(function (resolve, reject) {
            setTimeout(function () {
                if (fail) {
                    reject(new Error(value));
                } else {
                    resolve(value);
                }
            }, ms);
        });
    }
    Promise.all([delay(15, 'a'), delay(5, 'b'), 'c'])
        .then(function (values) {
            console.log('  all:        ' + JSON.stringify(values));
            return Promise.allSettled([delay(5, 'ok'), delay(10, 'bad', true)]);
        })
        .then(function (results) {
            console.log('  allSettled: ' + results.map(function (r) {
                return r.status + ':' + (r.status === 'fulfilled' ? r.value : r.reason.message);
            }).join(', '));
            return Promise.race([delay(20, 'slow'), delay(5, 'fast')]);
        })
        .then(function (winner) {
            console.log('  race:       ' + winner);
            return Promise.any([delay(5, 'x', true), delay(10, 'first success')]);
        })
        .then(function (value) {
            console.log('  any:        ' + value);
            return Promise.any([delay(5, 'e1', true), delay(6, 'e2', true)]);
        })
        .catch(function (err) {
            console.log('  any, all rejected: ' + err.name + ' with ' + err.errors.length +
                        ' errors');
            done();
        });
});

section('5. Unhandled rejections', function (done) {
    function onUnhandled(reason) {
        console.log('  unhandledRejection: ' + reason.message);
    }
    process.on('unhandledRejection', onUnhandled);
    Promise.reject(new Error('nobody handles this'));
    setTimeout(function () {
        process.removeListener('unhandledRejection', onUnhandled);
        done();
    }, 10);
});

section('6. console', function (done) {
    console.log('  %s has %d items: %j', 'list', 3, [1, 2, 3]);
    console.log({ name: 'evl', nested: { depth: { limit: { hidden: true } } }, list: [1, 'two'] });
    var circular = { self: null };
    circular.self = circular;
    console.log(circular);
    done();
});

process.on('beforeExit', function () {
    if (sections.length === 0 && !process.tourDone) {
        process.tourDone = true;
        console.log('\nbeforeExit: the loop ran out of work');
    }
});
process.on('exit', function (code) {
    console.log('exit with status ' + code);
});

console.log('evl tour');
next();

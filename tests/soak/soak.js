// The JavaScript half of the soak (scripts/soak.sh): churns timers, intervals, promises,
// immediates, nextTicks, microtasks and MessageChannel messages for SECONDS (the first
// argument) while the script samples the process's resident set and open fds from outside.
// ES5, and it runs under node too. Every millisecond a tick sets 40 timeouts whose closures
// hold a little data and clears half of them, runs a promise chain with a throw, a catch,
// an adoption and finally, a Promise.all and a Promise.race, and queues an immediate, a
// nextTick and a microtask; every 100 ticks an interval that clears itself after three
// runs and a MessageChannel round trip. At the end the counts must balance, else the exit
// status is 1.
'use strict';

var seconds = Number(process.argv[2]);
if (!(seconds > 0)) {
    console.error('usage: soak.js SECONDS');
    process.exit(2);
}
var CHAIN = 10;
var c = {
    ticks: 0, timersSet: 0, timersFired: 0, timersCleared: 0, intervals: 0, intervalRuns: 0,
    chains: 0, chainsDone: 0, combinators: 0, combinatorsDone: 0, immediates: 0, nextTicks: 0,
    microtasks: 0, messages: 0, messagesDone: 0, failures: 0
};

function fail(what) {
    console.error('FAIL soak.js: ' + what);
    c.failures++;
}

function timeoutCb(box) {
    if (box.data.length !== 4 || box.data[3] !== box.i * 3) {
        fail('timeout closure data');
    }
    c.timersFired++;
}

function startChain() {
    var p = new Promise(function (resolve) {
        setImmediate(function () {
            resolve(0);
        });
    });
    for (var k = 0; k < CHAIN; k++) {
        p = p.then((function (k) {
            return function (v) {
                if (k === 4) {
                    throw new Error(String(v + 1));
                }
                if (k === 6) {
                    return Promise.resolve(v + 1);
                }
                return v + 1;
            };
        })(k));
        if (k === 4) {
            p = p.catch(function (e) {
                return Number(e.message);
            });
        }
    }
    c.chains++;
    p.finally(function () {}).then(function (v) {
        if (v !== CHAIN) {
            fail('chain value ' + v);
        }
        c.chainsDone++;
    });
    c.combinators++;
    Promise.all([Promise.resolve(1), 2, new Promise(function (r) { setTimeout(r, 1, 3); })])
        .then(function (vs) {
            return Promise.race([Promise.resolve(vs[0] + vs[1] + vs[2]), new Promise(function () {})]);
        })
        .then(function (sum) {
            if (sum !== 6) {
                fail('combinator value ' + sum);
            }
            c.combinatorsDone++;
        });
}

function startInterval() {
    var runs = 0;
    c.intervals++;
    var h = setInterval(function () {
        runs++;
        c.intervalRuns++;
        if (runs === 3) {
            clearInterval(h);
        }
    }, 2);
}

function messageRoundTrip() {
    if (typeof MessageChannel !== 'function') {
        return;
    }
    c.messages++;
    var ch = new MessageChannel();
    ch.port2.onmessage = function (ev) {
        ch.port2.postMessage({ back: ev.data.n + 1 });
    };
    ch.port1.onmessage = function (ev) {
        if (ev.data.back !== c.messages) {
            fail('message value');
        }
        c.messagesDone++;
        ch.port1.close();
        ch.port2.close();
    };
    ch.port1.postMessage({ n: c.messages - 1 });
}

var ending = false;
var tick = setInterval(function () {
    c.ticks++;
    var handles = [];
    for (var i = 0; i < 40; i++) {
        var box = { i: i, data: [i, 'x' + i, { n: i }, i * 3] };
        handles.push(setTimeout(timeoutCb, Math.floor(Math.random() * 20), box));
        c.timersSet++;
    }
    for (var j = 0; j < handles.length; j += 2) {
        clearTimeout(handles[j]);
        c.timersCleared++;
    }
    startChain();
    setImmediate(function () {
        c.immediates++;
        process.nextTick(function () {
            c.nextTicks++;
            queueMicrotask(function () {
                c.microtasks++;
            });
        });
    });
    if (c.ticks % 100 === 0) {
        startInterval();
        // One message round trip at a time: the check above pairs a reply with the count.
        if (c.messagesDone === c.messages) {
            messageRoundTrip();
        }
    }
    if (!ending && Date.now() >= endAt) {
        ending = true;
        clearInterval(tick);
    }
}, 1);
var endAt = Date.now() + seconds * 1000;
var started = Date.now();

process.on('exit', function () {
    if (c.timersFired + c.timersCleared !== c.timersSet) {
        fail('timers: ' + c.timersFired + ' fired + ' + c.timersCleared + ' cleared != ' +
             c.timersSet + ' set');
    }
    if (c.intervalRuns !== 3 * c.intervals) {
        fail('interval runs ' + c.intervalRuns + ' for ' + c.intervals);
    }
    if (c.chainsDone !== c.chains || c.combinatorsDone !== c.combinators) {
        fail('promises: ' + c.chainsDone + '/' + c.chains + ' chains, ' + c.combinatorsDone + '/' +
             c.combinators + ' combinators');
    }
    if (c.immediates !== c.ticks || c.nextTicks !== c.ticks || c.microtasks !== c.ticks) {
        fail('immediates/nextTicks/microtasks ' + c.immediates + '/' + c.nextTicks + '/' +
             c.microtasks + ' for ' + c.ticks + ' ticks');
    }
    if (c.messagesDone !== c.messages) {
        fail('messages ' + c.messagesDone + '/' + c.messages);
    }
    console.log('soak.js: ' + ((Date.now() - started) / 1000).toFixed(1) + ' s, ' + c.ticks +
                ' ticks, timers ' + c.timersSet + ' set / ' + c.timersFired + ' fired / ' +
                c.timersCleared + ' cleared, ' + c.intervals + ' intervals, ' + c.chains +
                ' promise chains, ' + c.combinators + ' combinators, ' + c.messages +
                ' message round trips, ' + c.failures + ' failures');
    if (c.failures) {
        process.exitCode = 1;
    }
});

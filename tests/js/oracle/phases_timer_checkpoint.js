// A checkpoint follows every timer callback: microtasks and ticks queued by the first of
// two timers due together run before the second timer.
var log = [];
function timer(name) {
    return function () {
        log.push(name);
        Promise.resolve().then(function () { log.push(name + ' promise'); });
        process.nextTick(function () { log.push(name + ' tick'); });
        queueMicrotask(function () { log.push(name + ' microtask'); });
    };
}
setTimeout(timer('t1'), 10);
setTimeout(timer('t2'), 10);
setTimeout(timer('t3'), 10);
setTimeout(function () { console.log(log.join('\n')); }, 30);

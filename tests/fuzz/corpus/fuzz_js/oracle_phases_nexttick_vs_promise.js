// nextTick callbacks all run before any promise job; nextTick from a promise job waits for
// the microtask queue to drain; recursive nextTick runs before promises.
var log = [];
var n = 0;
function tick() {
    log.push('tick ' + n);
    n++;
    if (n < 4) {
        process.nextTick(tick);
    }
}
Promise.resolve().then(function () {
    log.push('promise 1');
    process.nextTick(function () { log.push('tick from promise 1'); });
}).then(function () { log.push('promise 1b'); });
Promise.resolve().then(function () { log.push('promise 2'); }).then(function () { log.push('promise 2b'); });
process.nextTick(tick);
process.nextTick(function (a, b) { log.push('tick args ' + a + ' ' + b); }, 'x', 42);
setTimeout(function () { console.log(log.join('\n')); }, 5);

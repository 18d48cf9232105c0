// Ticks queued by microtasks run after the microtask queue drains; microtasks queued by
// ticks run after the tick queue drains; the checkpoint repeats until both are empty.
var log = [];
process.nextTick(function () {
    log.push('tick A');
    Promise.resolve().then(function () {
        log.push('promise from tick A');
        process.nextTick(function () { log.push('tick from promise'); });
        Promise.resolve().then(function () { log.push('promise from promise'); });
    });
    process.nextTick(function () { log.push('tick from tick A'); });
});
Promise.resolve().then(function () {
    log.push('promise B');
    process.nextTick(function () { log.push('tick from promise B'); });
    queueMicrotask(function () { log.push('microtask from promise B'); });
});
queueMicrotask(function () {
    log.push('microtask C');
    process.nextTick(function () { log.push('tick from microtask C'); });
});
log.push('sync');
setTimeout(function () { console.log(log.join('\n')); }, 10);

// Sync code, then nextTick, then promise jobs and queueMicrotask (one FIFO), then timers by
// deadline and immediates; the main script never races setTimeout(0) against setImmediate,
// and its timers are far enough out that a slow start on a loaded machine cannot reorder them.
var log = [];
setTimeout(function () { log.push('timeout 100'); }, 100);
setTimeout(function () { log.push('timeout 60'); }, 60);
setImmediate(function () { log.push('immediate'); });
Promise.resolve().then(function () { log.push('promise 1'); });
queueMicrotask(function () { log.push('microtask'); });
Promise.resolve().then(function () { log.push('promise 2'); });
process.nextTick(function () { log.push('tick 1'); });
process.nextTick(function () { log.push('tick 2'); });
log.push('sync');
process.on('exit', function (code) {
    log.push('exit ' + code);
    console.log(log.join('\n'));
});

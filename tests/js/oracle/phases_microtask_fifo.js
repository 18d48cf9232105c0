// queueMicrotask and promise reactions share one FIFO queue.
var log = [];
var p = Promise.resolve();
queueMicrotask(function () { log.push('q1'); queueMicrotask(function () { log.push('q1.1'); }); });
p.then(function () { log.push('p1'); p.then(function () { log.push('p1.1'); }); });
queueMicrotask(function () { log.push('q2'); });
p.then(function () { log.push('p2'); });
queueMicrotask(function () { log.push('q3'); });
setTimeout(function () { console.log(log.join(' ')); }, 5);

// Timers fire by deadline, not by scheduling order; equal delays keep FIFO order.
var log = [];
setTimeout(function () { log.push('30'); }, 30);
setTimeout(function () { log.push('10a'); }, 10);
setTimeout(function () { log.push('20'); }, 20);
setTimeout(function () { log.push('10b'); }, 10);
setTimeout(function () { log.push('5'); }, 5);
setTimeout(function () { log.push('10c'); }, 10);
setTimeout(function () { log.push('40'); console.log(log.join(' ')); }, 40);

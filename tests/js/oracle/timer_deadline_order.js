// Timers fire by deadline, not by scheduling order; equal delays keep FIFO order. Delays are
// 20 ms apart so a slow start on a loaded machine cannot reorder them.
var log = [];
setTimeout(function () { log.push('120'); }, 120);
setTimeout(function () { log.push('40a'); }, 40);
setTimeout(function () { log.push('80'); }, 80);
setTimeout(function () { log.push('40b'); }, 40);
setTimeout(function () { log.push('20'); }, 20);
setTimeout(function () { log.push('40c'); }, 40);
setTimeout(function () { log.push('160'); console.log(log.join(' ')); }, 160);

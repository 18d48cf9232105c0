// timers and timers/promises: the same functions as the globals, Node's legacy enroll /
// active / unenroll items, and the promise forms with their {ref} option and validation.
var timers = require('timers');
var tp = require('timers/promises');
var log = [];
console.log(timers.setTimeout === setTimeout, timers.clearImmediate === clearImmediate,
    require('node:timers') === timers, timers.promises === tp, typeof timers.enroll, typeof timers.active,
    typeof tp.setTimeout, typeof tp.setImmediate, typeof tp.scheduler.wait);
var item = { _onTimeout: function () { log.push('legacy item fired'); } };
timers.enroll(item, 5);
timers.active(item);
var cancelled = { _onTimeout: function () { log.push('never: unenrolled'); } };
timers.enroll(cancelled, 5);
timers.active(cancelled);
timers.unenroll(cancelled);
console.log(cancelled._idleTimeout, item._idleTimeout);
try { timers.enroll({}, -1); } catch (e) { console.log(e.name, e.code); }
try { timers.enroll({}, 'x'); } catch (e) { console.log(e.name, e.code); }
tp.setTimeout(10, 'value').then(function (v) { log.push('tp.setTimeout ' + v); });
tp.setImmediate('imm').then(function (v) { log.push('tp.setImmediate ' + v); });
tp.scheduler.wait(12).then(function (v) { log.push('scheduler.wait ' + v); });
tp.setTimeout(10, 'x', { ref: 'no' }).then(null, function (e) { log.push('bad ref ' + e.code); });
tp.setTimeout(10, 'x', 5).then(null, function (e) { log.push('bad options ' + e.code); });
tp.setTimeout(10, 'x', { signal: 1 }).then(null, function (e) { log.push('bad signal ' + e.code); });
tp.setTimeout(100000, 'unref', { ref: false }).then(function () { log.push('never: unref'); });
process.on('warning', function (w) { log.push('warning ' + w.code + ' ' + w.message); });
/* Sorted: timers set by a main script race its immediates in Node itself. */
process.on('exit', function () { console.log(log.sort().join('\n')); });

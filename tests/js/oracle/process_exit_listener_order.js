// Several 'exit' listeners run in registration order; once() listeners run once; off()
// removes; listenerCount counts.
var log = [];
function a(code) { log.push('a ' + code); }
function b() { log.push('b'); }
process.on('exit', a);
process.once('exit', b);
process.on('exit', function () { log.push('removed'); });
var removed = function () { log.push('never'); };
process.on('exit', removed);
process.off('exit', removed);
log.push('count ' + process.listenerCount('exit'));
process.on('exit', function () { console.log(log.join('\n')); });

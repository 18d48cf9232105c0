// An exception escaping a queueMicrotask callback is uncaught: status 1.
var log = [];
queueMicrotask(function () { log.push('m1'); throw new Error('in microtask'); });
setTimeout(function () { log.push('never'); }, 5);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

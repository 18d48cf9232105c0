// An unhandled rejection with no listener is fatal at the end of the checkpoint: status 1,
// later timers never run, but microtasks of the same checkpoint do.
var log = [];
Promise.reject(new Error('unhandled'));
Promise.resolve().then(function () { log.push('same checkpoint'); }).then(function () { log.push('same checkpoint 2'); });
setTimeout(function () { log.push('never'); }, 5);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

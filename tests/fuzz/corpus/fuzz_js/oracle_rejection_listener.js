// An 'unhandledRejection' listener receives (reason, promise) and keeps the process alive.
var log = [];
var err = new Error('r1');
var p1 = Promise.reject(err);
process.on('unhandledRejection', function (reason, promise) {
    log.push('unhandled ' + (reason === err ? 'err' : String(reason)) + ' promise ' + (promise === p1 ? 'p1' : (promise instanceof Promise)));
});
setTimeout(function () {
    Promise.reject(42);
    log.push('timer continues');
}, 5);
setTimeout(function () { log.push('later timer runs'); }, 15);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

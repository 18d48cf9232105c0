// With no 'unhandledRejection' listener but an 'uncaughtException' one, the rejection goes
// there (origin 'unhandledRejection') and the process continues.
var log = [];
process.on('uncaughtException', function (err, origin) {
    log.push('uncaught ' + err.message + ' origin ' + origin);
});
Promise.reject(new Error('as uncaught'));
setTimeout(function () { log.push('still running'); }, 5);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

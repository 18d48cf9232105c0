// A handler attached after the rejection was reported emits 'rejectionHandled' with the
// same promise; the handler still runs.
var log = [];
var p = Promise.reject(new Error('late'));
process.on('unhandledRejection', function (reason, promise) {
    log.push('unhandled ' + reason.message + ' same ' + (promise === p));
});
process.on('rejectionHandled', function (promise) {
    log.push('rejectionHandled same ' + (promise === p));
});
setTimeout(function () {
    log.push('attaching');
    p.catch(function (e) { log.push('handler ran ' + e.message); });
}, 10);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

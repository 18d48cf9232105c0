// A non-Error rejection reason is fatal too (Node wraps it): status 1.
var log = [];
setTimeout(function () {
    log.push('in timer');
    Promise.reject('a string reason');
    setTimeout(function () { log.push('never'); }, 5);
}, 5);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

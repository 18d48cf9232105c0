// process.exit inside a promise job: the remaining jobs never run; try/finally cannot catch it.
var log = [];
Promise.resolve().then(function () {
    log.push('job 1');
    try {
        process.exit();
    } catch (e) {
        log.push('never catch');
    }
    log.push('never after');
});
Promise.resolve().then(function () { log.push('never job 2'); });
process.exitCode = 6;
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

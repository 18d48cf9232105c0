// An exception escaping a timer ends the process with status 1: later timers never run,
// 'exit' listeners run with code 1.
var log = [];
setTimeout(function () { log.push('first'); }, 5);
setTimeout(function () { throw new Error('boom'); }, 10);
setTimeout(function () { log.push('never'); }, 20);
process.on('exit', function (code) {
    log.push('exit ' + code + ' ' + process.exitCode);
    console.log(log.join('\n'));
});

// process.exit inside a timer ends at once: the rest of the callback, its microtasks and
// later timers never run; 'exit' listeners run with the code; beforeExit does not fire.
var log = [];
process.on('beforeExit', function () { log.push('never beforeExit'); });
setTimeout(function () {
    log.push('in timer');
    Promise.resolve().then(function () { log.push('never microtask'); });
    process.exit(4);
    log.push('never after exit');
}, 5);
setTimeout(function () { log.push('never timer'); }, 15);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

// With an 'uncaughtException' listener the process goes on: later callbacks run, status 0.
var log = [];
process.on('uncaughtException', function (err, origin) {
    log.push('caught ' + err.message + ' ' + origin);
});
setTimeout(function () { throw new Error('t1'); }, 50);
setTimeout(function () { log.push('after t1'); }, 100);
setImmediate(function () { throw new Error('imm'); });
setTimeout(function () { Promise.resolve().then(function () { log.push('microtask still runs'); }); }, 150);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

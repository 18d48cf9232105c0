// An 'uncaughtException' listener that throws: status 7, no 'exit' listeners, no recursion.
var calls = 0;
process.on('uncaughtExceptionMonitor', function (err) { console.log('monitor ' + err.message); });
process.on('uncaughtException', function (err, origin) {
    calls++;
    console.log('handler ' + calls + ' ' + err.message + ' ' + origin);
    throw new Error('from handler ' + calls);
});
process.on('exit', function (code) { console.log('never exit ' + code); });
setImmediate(function () { throw new Error('boom'); });

// A throwing 'uncaughtExceptionMonitor' is called once: Node reports the monitor's own error
// and exits with status 7 without 'exit' listeners (it must never be handed its own error).
var calls = 0;
process.on('uncaughtExceptionMonitor', function (err, origin) {
    calls++;
    console.log('monitor ' + calls + ' ' + err.message + ' ' + origin);
    throw new Error('from monitor ' + calls);
});
process.on('uncaughtException', function (err) { console.log('never handled ' + err.message); });
process.on('exit', function (code) { console.log('never exit ' + code); });
setTimeout(function () { console.log('never timer'); }, 20);
setTimeout(function () { throw new Error('boom'); }, 5);

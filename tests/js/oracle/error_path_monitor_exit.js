// process.exit() inside the monitor ends the run with that code after 'exit' listeners.
process.on('uncaughtExceptionMonitor', function (err) {
    console.log('monitor ' + err.message);
    process.exit(4);
});
process.on('exit', function (code) { console.log('exit ' + code + ' ' + process._exiting); });
setTimeout(function () { throw new Error('boom'); }, 5);

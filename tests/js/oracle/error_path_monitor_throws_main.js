// The monitor throwing while the main script's error is reported: one call, status 7.
var calls = 0;
process.on('uncaughtExceptionMonitor', function (err, origin) {
    calls++;
    console.log('monitor ' + calls + ' ' + err.message + ' ' + origin);
    throw new Error('again');
});
process.on('exit', function (code) { console.log('never exit ' + code); });
throw new Error('main');

// An 'unhandledRejection' listener that throws: an ordinary uncaught error (monitor, then
// fatal with 'exit' 1).
process.on('unhandledRejection', function (reason) {
    console.log('unhandled ' + reason.message);
    throw new Error('from listener');
});
process.on('uncaughtExceptionMonitor', function (err, origin) {
    console.log('monitor ' + err.message + ' ' + origin);
});
process.on('exit', function (code) { console.log('exit ' + code); });
Promise.reject(new Error('rejected'));

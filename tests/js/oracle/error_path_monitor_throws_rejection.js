// An unhandled rejection reaches the monitor with origin 'unhandledRejection'; the monitor
// throwing ends the process with status 7.
process.on('uncaughtExceptionMonitor', function (err, origin) {
    console.log('monitor ' + err.message + ' ' + origin);
    throw new Error('from monitor');
});
process.on('exit', function (code) { console.log('never exit ' + code); });
Promise.reject(new Error('rejected'));

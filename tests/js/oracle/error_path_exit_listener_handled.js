// An error thrown by an 'exit' listener goes to 'uncaughtException'; the remaining 'exit'
// listeners are skipped and process.exitCode (3) is kept.
process.exitCode = 3;
process.on('uncaughtExceptionMonitor', function (err, origin) {
    console.log('monitor ' + err.message + ' ' + origin);
});
process.on('uncaughtException', function (err) {
    console.log('handled ' + err.message + ' exitCode ' + process.exitCode);
});
process.on('exit', function (code) {
    console.log('exit1 ' + code + ' ' + process._exiting);
    throw new Error('in exit');
});
process.on('exit', function (code) { console.log('exit2 skipped ' + code); });
console.log('main ' + process._exiting);

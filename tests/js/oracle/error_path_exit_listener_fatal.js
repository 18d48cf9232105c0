// An 'exit' listener throwing with no 'uncaughtException' listener: the error is reported,
// the remaining listeners are skipped, the status is process.exitCode (3).
process.exitCode = 3;
process.on('exit', function (code) {
    console.log('exit1 ' + code);
    throw new Error('in exit');
});
process.on('exit', function (code) { console.log('exit2 skipped ' + code); });
console.log('main');

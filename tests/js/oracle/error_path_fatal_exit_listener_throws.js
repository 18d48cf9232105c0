// A fatal error runs 'exit' listeners (exitCode 1) once; one of them throwing is ignored and
// the exit code it set is the status (9).
process.on('exit', function (code) {
    console.log('exit1 ' + code + ' ' + process.exitCode);
    process.exitCode = 9;
    throw new Error('in exit');
});
process.on('exit', function (code) { console.log('exit2 skipped ' + code); });
setTimeout(function () { throw new Error('boom'); }, 5);

// process.exit(5) whose 'exit' listener throws: the error leaves process.exit() as an
// ordinary exception (a catch sees it), and 'exit' is emitted again when the run ends.
var calls = 0;
process.on('exit', function (code) {
    calls++;
    console.log('exit ' + calls + ' ' + code + ' ' + process._exiting);
    if (calls === 1) {
        throw new Error('in exit');
    }
});
setTimeout(function () {
    try {
        process.exit(5);
    } catch (e) {
        console.log('caught ' + e.message + ' ' + process.exitCode);
    }
    process.exitCode = 6;
    console.log('after');
}, 5);

// An 'exit' listener throwing with process.exitCode unset: status 1; exitCode stays unset
// during the listeners.
process.on('exit', function (code) {
    console.log('exit ' + code + ' ' + process.exitCode);
    throw new Error('in exit');
});

// process.exit() in a timer whose 'exit' listener throws: 'uncaughtException' handles it,
// and 'exit' is emitted again (throwing again) when the run ends; status 5.
process.on('uncaughtException', function (err) {
    console.log('handled ' + err.message + ' ' + process.exitCode);
});
process.on('exit', function (code) {
    console.log('exit1 ' + code);
    throw new Error('in exit');
});
process.on('exit', function (code) { console.log('exit2 skipped ' + code); });
setTimeout(function () {
    console.log('timer');
    process.exit(5);
    console.log('never');
}, 5);

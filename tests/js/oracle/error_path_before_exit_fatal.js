// A 'beforeExit' listener that throws with no handler: 'exit' 1 and status 1.
process.on('beforeExit', function (code) {
    console.log('beforeExit ' + code);
    throw new Error('from beforeExit');
});
process.on('exit', function (code) { console.log('exit ' + code); });
setTimeout(function () { console.log('timer'); }, 5);

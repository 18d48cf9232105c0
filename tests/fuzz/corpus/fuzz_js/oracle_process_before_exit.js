// 'beforeExit' fires when the loop empties, may schedule more work (then fires again), and
// 'exit' follows with the exit code.
var log = [];
var rounds = 0;
process.on('beforeExit', function (code) {
    rounds++;
    log.push('beforeExit ' + code + ' round ' + rounds);
    if (rounds < 3) {
        setTimeout(function () { log.push('timer from beforeExit ' + rounds); }, 5);
        Promise.resolve().then(function () { log.push('microtask from beforeExit ' + rounds); });
    }
});
process.on('exit', function (code) {
    log.push('exit ' + code);
    setTimeout(function () { log.push('never'); }, 0);
    console.log(log.join('\n'));
});
setTimeout(function () { log.push('main timer'); }, 5);

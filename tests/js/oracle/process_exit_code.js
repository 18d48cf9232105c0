// process.exitCode sets the final status; exit listeners see it; beforeExit too.
var log = [];
process.exitCode = 3;
process.on('beforeExit', function (code) { log.push('beforeExit ' + code); });
process.on('exit', function (code) {
    log.push('exit ' + code + ' ' + process.exitCode);
    console.log(log.join('\n'));
});
setTimeout(function () { log.push('timer'); process.exitCode = 5; }, 5);

// process.exit(0) from an immediate overrides an earlier exitCode.
var log = [];
process.exitCode = 9;
setImmediate(function () { log.push('immediate'); process.exit(0); });
setTimeout(function () { log.push('never'); }, 300);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

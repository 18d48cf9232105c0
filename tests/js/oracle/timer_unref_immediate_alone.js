// A lone unref'd immediate does not keep the process alive and never runs.
var log = [];
setImmediate(function () { log.push('never'); }).unref();
process.on('beforeExit', function () { log.push('beforeExit'); });
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

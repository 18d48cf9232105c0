// An exception escaping an immediate is uncaught: status 1; the next immediate never runs.
var log = [];
setImmediate(function () { log.push('imm 1'); });
setImmediate(function () { throw new RangeError('in immediate'); });
setImmediate(function () { log.push('never'); });
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

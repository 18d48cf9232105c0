// An exception escaping a nextTick callback is uncaught: status 1; later ticks do not run.
var log = [];
process.nextTick(function () { log.push('tick 1'); });
process.nextTick(function () { throw new Error('in tick'); });
process.nextTick(function () { log.push('never'); });
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

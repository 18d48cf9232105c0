// process.throwDeprecation: a DeprecationWarning is thrown on a later tick (after earlier
// warnings were emitted), so it is an uncaught exception: 'exit' 1, status 1.
var log = [];
process.on('warning', function (w) { log.push('warning ' + w.name + ' ' + w.message); });
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });
process.emitWarning('first', 'OtherWarning');
process.throwDeprecation = true;
process.emitWarning('thrown', 'DeprecationWarning', 'DEP_T');
log.push('emitWarning returned');
setTimeout(function () { log.push('never: timer'); }, 5);

// A throw in a then handler with no catch downstream is an unhandled rejection: status 1.
var log = [];
setTimeout(function () {
    Promise.resolve().then(function () { log.push('handler'); throw new Error('from handler'); });
}, 5);
setTimeout(function () { log.push('never'); }, 15);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

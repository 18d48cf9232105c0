// Handlers attached within the same checkpoint (later microtask, nextTick) count as in time:
// no event. A handler attached from an immediate is too late.
var log = [];
process.on('unhandledRejection', function (reason) { log.push('unhandled ' + reason); });
process.on('rejectionHandled', function () { log.push('rejectionHandled'); });
var a = Promise.reject('a');
Promise.resolve().then(function () { return null; }).then(function () { a.catch(function () { log.push('a handled'); }); });
var b = Promise.reject('b');
process.nextTick(function () { b.catch(function () { log.push('b handled'); }); });
setTimeout(function () {
    var c = Promise.reject('c');
    setImmediate(function () { c.catch(function () { log.push('c handled'); }); });
    var d = Promise.reject('d');
    d.then(function () {}).catch(function () { log.push('d handled downstream'); });
}, 5);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

// finally does not handle a rejection: the promise it returns is reported unhandled.
var log = [];
var src = Promise.reject(new Error('src'));
var fin = src.finally(function () { log.push('finally ran'); });
process.on('unhandledRejection', function (reason, promise) {
    log.push('unhandled ' + reason.message + ' fin ' + (promise === fin) + ' src ' + (promise === src));
});
setTimeout(function () { console.log(log.join('\n')); }, 5);

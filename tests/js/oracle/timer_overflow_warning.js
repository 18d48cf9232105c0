// A delay above 2^31-1 ms becomes 1 ms with a TimeoutOverflowWarning emitted through
// process.emitWarning (negative delays become 1 ms silently in Node 20).
var log = [];
process.on('warning', function (w) {
    log.push('warning ' + w.name + ': ' + w.message.replace('\n', ' | '));
});
setTimeout(function () { log.push('2^31'); }, 2147483648);
setTimeout(function () { log.push('max is fine'); }, 2147483647).unref();
setTimeout(function () { log.push('negative'); }, -5);
setTimeout(function () { log.push('Infinity'); }, Infinity);
setTimeout(function () { log.push('string'); }, '3000000000');
var iv = setInterval(function () { log.push('interval'); clearInterval(iv); }, 1e10);
/* A replaced emitWarning is what gets called, synchronously. */
var original = process.emitWarning;
process.emitWarning = function (msg, type) {
    log.push('replaced emitWarning ' + type);
    return original.apply(this, arguments);
};
setTimeout(function () { log.push('1e21'); }, 1e21);
process.emitWarning = original;
setTimeout(function () { console.log(log.join('\n')); }, 30);

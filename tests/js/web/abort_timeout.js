// AbortSignal.timeout: fires a TimeoutError DOMException after the delay, and a pending
// timeout signal never keeps the process alive (the 1-hour one below must not delay exit).
var h = require('./_harness.js');
var start = Date.now();
var pending = AbortSignal.timeout(3600 * 1000);
var s = AbortSignal.timeout(20);
// Longer than a timer can wait (2^31-1 ms): must not be coerced to 1 ms.
var beyond = AbortSignal.timeout(2147483648 + 5);
var log = [];
s.onabort = function (e) { log.push('abort ' + e.isTrusted); };
check();
function check() {
    h.check('before', function () { return s.aborted; });
}
setTimeout(function () {
    h.check('after', function () { return [s.aborted, h.errName(s.reason), s.reason.message, pending.aborted, beyond.aborted]; });
    console.log(log.join(','));
}, 60);
process.on('exit', function () {
    console.log('exit within 10 s: ' + (Date.now() - start < 10000));
});
h.check('negative', function () { return AbortSignal.timeout(-1); });
h.check('NaN', function () { return AbortSignal.timeout(NaN); });
h.check('Infinity', function () { return AbortSignal.timeout(Infinity); });
h.check('no args', function () { return AbortSignal.timeout(); });
h.check('zero', function () { return AbortSignal.timeout(0).aborted; });

// The Timeout/Immediate fields Node scripts read: _idleTimeout (the coerced delay, fractions
// kept, -1 once cleared), _repeat, _destroyed (false inside its own callback), _onTimeout /
// _onImmediate (replaceable), and [Symbol.dispose] clearing the timer.
var log = [];
var t = setTimeout(function () {}, 1.8);
log.push('timeout ' + t._idleTimeout + ' ' + t._repeat + ' ' + t._destroyed + ' ' + typeof t._onTimeout);
clearTimeout(t);
log.push('cleared ' + t._idleTimeout + ' ' + t._destroyed);
var big = setTimeout(function () {}, 3e9);
log.push('overflow ' + big._idleTimeout);
clearTimeout(big);
var i = setInterval(function () {}, 5);
log.push('interval repeat ' + i._repeat + ' idle ' + i._idleTimeout);
log.push('dispose symbol ' + typeof Symbol.dispose + ' ' + typeof Symbol.asyncDispose + ' ' + typeof i[Symbol.dispose]);
i[Symbol.dispose]();
log.push('disposed ' + i._destroyed + ' ' + i._idleTimeout);
var im = setImmediate(function () { log.push('never: disposed immediate'); });
log.push('immediate ' + im._destroyed + ' ' + typeof im._onImmediate + ' ' + typeof im[Symbol.dispose]);
im[Symbol.dispose]();
log.push('immediate disposed ' + im._destroyed);
var t2 = setTimeout(function () { log.push('in callback destroyed ' + t2._destroyed); }, 1);
var t3 = setTimeout(function () { log.push('original'); }, 2);
t3._onTimeout = function () { log.push('replaced _onTimeout ran'); };
setTimeout(function () {
    log.push('after destroyed ' + t2._destroyed);
    console.log(log.join('\n'));
}, 20);

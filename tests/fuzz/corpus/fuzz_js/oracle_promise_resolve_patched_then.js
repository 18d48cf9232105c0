// Resolving with a native promise whose then was replaced calls that then (the spec's
// NewPromiseResolveThenableJob reads then; only an unpatched one may be short-cut).
var log = [];
var orig = Promise.prototype.then;
var inner = Promise.resolve(1);
inner.then = function (a, b) { log.push('patched own then called'); return orig.call(this, a, b); };
Promise.resolve().then(function () { return inner; }).then(function (v) { log.push('got ' + v); });
new Promise(function (r) { r(inner); }).then(function (v) { log.push('ctor got ' + v); });
setTimeout(function () { console.log(log.join('\n')); }, 10);

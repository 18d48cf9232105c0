// Promise.prototype.finally invokes this.then, so a patched then (instrumentation) sees the
// call with the two built-in functions; order of constructor and then reads as the spec.
var log = [];
var p = Promise.resolve(7);
var reads = [];
Object.defineProperty(p, 'constructor', { get: function () { reads.push('constructor'); return Promise; } });
var origThen = Promise.prototype.then;
Object.defineProperty(p, 'then', {
    get: function () {
        reads.push('then');
        return function (a, b) {
            log.push('patched then ' + typeof a + ' ' + a.length + ' ' + JSON.stringify(a.name) + ' ' + typeof b);
            return origThen.call(this, a, b);
        };
    }
});
p['finally'](function () { log.push('onFinally'); }).then(function (v) { log.push('value ' + v); });
log.push('reads ' + reads.join(','));
var q = Promise.reject(new Error('e'));
q['finally'](undefined).then(null, function (e) { log.push('non-callable passes ' + e.message); });
setTimeout(function () { console.log(log.join('\n')); }, 10);

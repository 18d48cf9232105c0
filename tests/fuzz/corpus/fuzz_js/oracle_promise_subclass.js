// A Promise subclass built the ES5 way (a promise re-prototyped to Sub): then, finally,
// the statics and the combinators all construct through the subclass (SpeciesConstructor,
// NewPromiseCapability), and ordering matches Node tick for tick.
var log = [];
var constructed = 0;
function Sub(executor) {
    constructed++;
    var p = new Promise(executor);
    Object.setPrototypeOf(p, Sub.prototype);
    return p;
}
Sub.prototype = Object.create(Promise.prototype, {
    constructor: { value: Sub, writable: true, configurable: true }
});
Object.setPrototypeOf(Sub, Promise);
var s = Sub.resolve(1);
log.push('resolve is Sub ' + (s instanceof Sub) + ' constructed ' + constructed);
var t = s.then(function (v) { log.push('then got ' + v); return v + 1; });
log.push('then is Sub ' + (t instanceof Sub) + ' constructed ' + constructed);
var f = t['finally'](function () { log.push('finally ran'); });
log.push('finally is Sub ' + (f instanceof Sub) + ' constructed ' + constructed);
f.then(function (v) { log.push('after finally ' + v); });
var all = Sub.all([1, Sub.resolve(2), Promise.resolve(3)]);
log.push('all is Sub ' + (all instanceof Sub));
all.then(function (v) { log.push('all ' + JSON.stringify(v)); });
Sub.race([Sub.reject(new Error('r'))]).then(null, function (e) { log.push('race rejected ' + e.message); });
Sub.allSettled([1, Sub.reject(2)]).then(function (v) { log.push('allSettled ' + JSON.stringify(v)); });
Sub.any([Sub.reject(1), Sub.reject(2)]).then(null, function (e) {
    log.push('any ' + e.name + ' ' + JSON.stringify(e.errors) + ' ' + (e instanceof AggregateError));
});
log.push('Sub.reject is Sub ' + (Sub.reject(0)['catch'](function () {}) instanceof Sub));
var same = Sub.resolve(1);
log.push('resolve(sub) returns it ' + (Sub.resolve(same) === same) + ' Promise.resolve(sub) wraps ' + (Promise.resolve(same) !== same));
// Interleaving against plain promises.
Promise.resolve().then(function () { log.push('plain 1'); }).then(function () { log.push('plain 2'); })
    .then(function () { log.push('plain 3'); }).then(function () { log.push('plain 4'); });
Sub.resolve().then(function () { log.push('sub 1'); }).then(function () { log.push('sub 2'); })
    .then(function () { log.push('sub 3'); });
// Species: a subclass whose @@species is Promise makes plain promises from then.
function Plain(executor) { var p = new Promise(executor); Object.setPrototypeOf(p, Plain.prototype); return p; }
Plain.prototype = Object.create(Promise.prototype, { constructor: { value: Plain, writable: true, configurable: true } });
Object.defineProperty(Plain, Symbol.species, { get: function () { return Promise; } });
var pl = new Plain(function (r) { r(1); });
log.push('species Promise: then is Plain ' + (pl.then() instanceof Plain) + ', is Promise ' + (pl.then() instanceof Promise));
setTimeout(function () { console.log(log.join('\n')); }, 10);

// The Promise capability protocol (ECMA-262 §27.2): NewPromiseCapability through any
// constructor (executor called twice / not callable / non-constructor this), SpeciesConstructor
// in then (undefined, null, poisoned getter, @@species), the built-in functions' length, name,
// property order, extensibility and non-constructibility, finally on a thenable, sloppy
// handlers' this, CreateDataProperty in the combinators and self-resolution.
var log = [];
function check(label, fn) {
  try { log.push(label + ': ' + fn()); } catch (e) { log.push(label + ' threw ' + e.name + ': ' + (e instanceof TypeError)); }
}
// NewPromiseCapability with a custom constructor
function NotPromise(executor) {
  var self = this;
  executor(function (v) { log.push('custom resolve ' + v); }, function (r) { log.push('custom reject ' + r); });
}
check('resolve custom', function () { var r = Promise.resolve.call(NotPromise, 5); return r instanceof NotPromise; });
check('reject custom', function () { var r = Promise.reject.call(NotPromise, 6); return r instanceof NotPromise; });
check('resolve non-ctor', function () { return Promise.resolve.call(function () {}.bind(), 1); });
check('resolve non-object', function () { return Promise.resolve.call(undefined, 1); });
check('resolve arrow-like', function () { return Promise.resolve.call(Math.max, 1); });
check('all custom', function () { var r = Promise.all.call(NotPromise, []); return r instanceof NotPromise; });
check('race custom', function () { var r = Promise.race.call(NotPromise, [1]); return r instanceof NotPromise; });
// executor called twice
check('executor twice', function () {
  return Promise.resolve.call(function (ex) { ex(function () {}, function () {}); ex(function () {}, function () {}); }, 1);
});
check('not callable', function () {
  return Promise.resolve.call(function (ex) { ex(1, 2); }, 1);
});
check('undefined ok then set', function () {
  return typeof Promise.resolve.call(function (ex) { ex(undefined, undefined); ex(function () {}, function () {}); }, 1);
});
// species in then
var p = Promise.resolve(1);
var reads = 0;
Object.defineProperty(p, 'constructor', { get: function () { reads++; return NotPromise; } });
check('then species', function () { var r = p.then(); return (r instanceof NotPromise) + ' reads ' + reads; });
var p2 = Promise.resolve(1);
p2.constructor = undefined;
check('then undefined ctor', function () { return p2.then() instanceof Promise; });
var p3 = Promise.resolve(1);
p3.constructor = null;
check('then null ctor', function () { return p3.then(); });
var p4 = Promise.resolve(1);
Object.defineProperty(p4, 'constructor', { get: function () { throw new Error('poison'); } });
check('then poisoned', function () { return p4.then(); });
var p5 = Promise.resolve(1);
var C5 = function (ex) { return new Promise(ex); };
C5[Symbol.species] = NotPromise;
p5.constructor = C5;
check('then species symbol', function () { return p5.then() instanceof NotPromise; });
// built-in functions
var resolveFn, rejectFn;
new Promise(function (res, rej) { resolveFn = res; rejectFn = rej; });
function fnInfo(f) {
  return typeof f + ' len=' + f.length + ' name=' + JSON.stringify(f.name) + ' own=' + Object.getOwnPropertyNames(f).join(',') +
    ' ext=' + Object.isExtensible(f) + ' proto=' + f.hasOwnProperty('prototype');
}
check('resolve fn', function () { return fnInfo(resolveFn); });
check('reject fn', function () { return fnInfo(rejectFn); });
check('new resolve fn', function () { new resolveFn(); return 'constructed'; });
var execFn;
Promise.resolve.call(function (ex) { execFn = ex; ex(function () {}, function () {}); }, 1);
check('executor fn', function () { return fnInfo(execFn); });
var elemFn;
var thenable = { then: function (r) { elemFn = r; } };
Promise.all.call(function (ex) { ex(function () {}, function () {}); }, [thenable]);
check('all element fn', function () { return fnInfo(elemFn); });
var thenFinally;
check('finally on thenable', function () { return Promise.prototype.finally.call({ then: function (a, b) { thenFinally = [a, b]; return 'thenResult'; } }, function () {}); });
check('finally fns', function () { return fnInfo(thenFinally[0]) + ' | ' + fnInfo(thenFinally[1]); });
check('finally thenable result', function () { return Promise.prototype.finally.call({ then: function () { return 'R'; } }, 1); });
check('finally non-object', function () { return Promise.prototype.finally.call(1, function () {}); });
// self-resolution
var selfP = new Promise(function (res) { setTimeout(function () { res(selfP); }, 1); });
selfP.then(null, function (e) { log.push('self: ' + e.name + ' ' + (e instanceof TypeError)); });
// CreateDataProperty
Object.defineProperty(Array.prototype, 0, { set: function () { log.push('SETTER CALLED'); }, configurable: true });
Promise.all([1, 2]).then(function (v) { log.push('all ' + JSON.stringify(v) + ' ' + v.hasOwnProperty(0)); });
Promise.allSettled([1]).then(function (v) { log.push('allSettled ' + JSON.stringify(v)); });
Promise.any([Promise.reject(1)]).then(null, function (e) { log.push('any ' + JSON.stringify(e.errors) + ' ' + e.errors.hasOwnProperty(0)); });
// sloppy this
new Promise(function () { log.push('executor this global ' + (this === globalThis)); });
Promise.resolve().then(function () { log.push('handler this global ' + (this === globalThis)); });
setTimeout(function () { delete Array.prototype[0]; console.log(log.join('\n')); }, 20);

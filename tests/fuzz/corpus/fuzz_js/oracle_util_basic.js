// util: format, inspect (with util.inspect.custom), inherits, promisify (and
// util.promisify.custom), callbackify, deprecate with its warning, types, isDeepStrictEqual.
var util = require('util');
var log = [];
console.log(util === require('node:util'), typeof util.inspect, util.format('%s=%d %j', 'a', 42, { b: 1 }, 'extra'));
console.log(util.inspect({ a: [1, 2, { c: 3 }], s: 'x' }), util.inspect('str'), util.inspect([1, [2, [3, [4]]]], { depth: 0 }));
var custom = {};
custom[util.inspect.custom] = function (depth, options) { return 'Custom<' + depth + ',' + typeof options + '>'; };
console.log(util.inspect(custom), util.inspect({ nested: custom }), util.inspect.custom === Symbol.for('nodejs.util.inspect.custom'));
console.log(util.format('%o', [1]), util.format('%%', 1), util.format(1, 2), util.format('%i', '42.5x'));
function Animal(name) { this.name = name; }
Animal.prototype.speak = function () { return this.name + ' speaks'; };
function Dog(name) { Animal.call(this, name); }
util.inherits(Dog, Animal);
var d = new Dog('rex');
console.log(d.speak(), Dog.super_ === Animal, d instanceof Animal, Object.getOwnPropertyDescriptor(Dog, 'super_').enumerable);
try { util.inherits(Dog, null); } catch (e) { console.log(e.code, e.message); }
try { util.inherits(Dog, {}); } catch (e) { console.log(e.code, e.message); }
function cbStyle(a, b, cb) { setTimeout(function () { if (a < 0) { cb(new Error('neg')); } else { cb(null, a + b); } }, 1); }
var p = util.promisify(cbStyle);
console.log(typeof p, p.name, p.length, util.promisify(p) === p);
p(1, 2).then(function (v) { log.push('promisified ' + v); });
p(-1, 2).then(null, function (e) { log.push('promisified rejected ' + e.message); });
function withCustom() {}
withCustom[util.promisify.custom] = function () { return Promise.resolve('custom!'); };
util.promisify(withCustom)().then(function (v) { log.push('custom promisify ' + v); });
try { util.promisify(1); } catch (e) { console.log(e.code, e.message); }
function asyncish(x) { return x > 0 ? Promise.resolve(x * 2) : Promise.reject(null); }
var cbified = util.callbackify(asyncish);
console.log(cbified.name, cbified.length);
cbified(2, function (err, v) { log.push('callbackified ' + err + ' ' + v); });
cbified(0, function (err) { log.push('callbackified falsy ' + err.code + ' ' + err.message + ' ' + err.reason); });
process.on('warning', function (w) { log.push('warning ' + w.name + ' ' + w.message + ' ' + w.code); });
var dep = util.deprecate(function old(x) { return x + 1; }, 'old() is deprecated', 'DEP_X');
var dep2 = util.deprecate(function other() { return 0; }, 'same code', 'DEP_X');
console.log(dep(1), dep(2), dep2());
console.log(util.types.isPromise(Promise.resolve()), util.types.isPromise({ then: function () {} }),
    util.types.isRegExp(/x/), util.types.isDate(new Date()), util.types.isNativeError(new TypeError()),
    util.types.isUint8Array(new Uint8Array(1)), util.types.isTypedArray(new DataView(new ArrayBuffer(1))),
    util.types.isBoxedPrimitive(Object(1)), util.types.isArgumentsObject((function () { return arguments; })()));
var eq = util.isDeepStrictEqual;
console.log(eq({ a: [1, 2] }, { a: [1, 2] }), eq({ a: 1 }, { a: '1' }), eq([1], { 0: 1, length: 1 }),
    eq(NaN, NaN), eq(0, -0), eq(new Date(5), new Date(5)), eq(/a/g, /a/i), eq(new Error('x'), new Error('x')),
    eq(Object.create(null), {}), eq([1, , 3], [1, undefined, 3]));
var cyc1 = { a: 1 }; cyc1.self = cyc1; var cyc2 = { a: 1 }; cyc2.self = cyc2;
console.log(eq(cyc1, cyc2), util.isArray([]), util.isPrimitive(null), util.isFunction(eq));
setTimeout(function () { console.log(log.sort().join('\n')); }, 30);

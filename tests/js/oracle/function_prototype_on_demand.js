// A function's `prototype` is made on demand by evljs's engine (most functions are never
// constructors): every way of observing it must see the property a function is born with.
function show() { console.log.apply(console, arguments); }
function F() { this.a = 1; }
var f = new F();
show('new/instanceof', [f instanceof F, F.prototype.constructor === F,
                        Object.getPrototypeOf(f) === F.prototype, f.a].join());
show('stable identity', F.prototype === F.prototype);
function G() {}
show('own names include it', Object.getOwnPropertyNames(G).indexOf('prototype') >= 0);
show('hasOwnProperty', G.hasOwnProperty('prototype'));
function G2() {}
show('in', 'prototype' in G2);
function G3() {}
var d = Object.getOwnPropertyDescriptor(G3, 'prototype');
show('descriptor', [d.writable, d.enumerable, d.configurable, typeof d.value,
                    d.value.constructor === G3].join());
function G4() {}
show('constructor not enumerable', Object.keys(G4.prototype).length,
     Object.getOwnPropertyDescriptor(G4.prototype, 'constructor').enumerable);
function H() {}
show('delete refused', delete H.prototype, typeof H.prototype);
function H2() {}
try { (function () { 'use strict'; delete H2.prototype; })(); show('strict delete', 'no error'); }
catch (e) { show('strict delete', e.name); }
function I() {}
I.prototype = { x: 1 };
show('assigned', new I().x, I.prototype.constructor === Object);
function I2() {}
Object.defineProperty(I2, 'prototype', { value: { y: 2 } });
show('defined', new I2().y);
function I3() {}
try { Object.defineProperty(I3, 'prototype', { configurable: true }); show('reconfigure', 'no error'); }
catch (e) { show('reconfigure', e.name); }
function J() {}
Object.freeze(J);
show('frozen', Object.isFrozen(J), Object.getOwnPropertyDescriptor(J, 'prototype').writable);
function J2() {}
Object.seal(J2);
show('sealed', Object.isSealed(J2), Object.getOwnPropertyDescriptor(J2, 'prototype').writable);
function J3() {}
show('not frozen', Object.isFrozen(J3), Object.isSealed(J3));
function L() {}
show('keys', JSON.stringify(Object.keys(L)));
var keys = [];
function L2() {}
for (var k in L2) { keys.push(k); }
show('for-in', JSON.stringify(keys));
var o = Object.create(function M() {});
show('inherited', typeof o.prototype, o.hasOwnProperty('prototype'));
function N() {}
var bound = N.bind(null);
show('bound has none', typeof bound.prototype, new bound() instanceof N);
function P() {}
P.prototype.greet = function () { return 'hi'; };
show('method on it', new P().greet());
function Q() {}
var q1 = new Q();
var q2 = new Q();
show('shared', Object.getPrototypeOf(q1) === Object.getPrototypeOf(q2));
function R() {}
var viaWith;
with (R) { viaWith = typeof prototype; }
show('with scope', viaWith);
function S() {}
show('getter chain', Object.getPrototypeOf(S.prototype) === Object.prototype);
function makeAll() { var a = []; for (var i = 0; i < 3; i++) { a.push(function () {}); } return a; }
var fs = makeAll();
show('distinct per instance', fs[0].prototype !== fs[1].prototype, fs[1].prototype !== fs[2].prototype);
var bf = Function('return 1');
show('Function()', typeof bf.prototype, bf.prototype.constructor === bf);
show('builtin method has none', typeof Array.prototype.push.prototype);
// Key order: `prototype` keeps its place after the function's own keys and before what a
// script adds, whether or not it was looked at first. (Duktape's own `fileName`, and the
// `arguments`/`caller` V8 gives sloppy functions, are left out of the comparison.)
function ownKeys(fn) {
    return Object.getOwnPropertyNames(fn).filter(function (k) {
        return k !== 'fileName' && k !== 'arguments' && k !== 'caller';
    }).join();
}
function K1() {}
K1.x = 1;
show('order, added first', ownKeys(K1));
function K2() {}
void K2.prototype;
K2.y = 2;
show('order, read first', ownKeys(K2));
function K3() {}
Object.defineProperty(K3, 'z', { value: 3, enumerable: true });
show('order, defined', ownKeys(K3), JSON.stringify(Object.keys(K3)));

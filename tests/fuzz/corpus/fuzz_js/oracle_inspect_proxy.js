// A Proxy is inspected as its target: no trap runs, so throwing or recursing traps cannot
// break console.log (Node's default, showProxy: false).
var calls = 0;
function trap() {
    calls++;
    throw new Error('trap ran');
}
var handler = { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap,
    getPrototypeOf: trap };
var p = new Proxy({ a: 1, nested: { b: [1, 2] } }, handler);
console.log(p);
console.log([p, { p: p }]);
var arr = new Proxy([1, 2, 3], handler);
console.log(arr);
var fn = new Proxy(function named() {}, handler);
console.log(fn);
var self = { name: 'self' };
self.me = new Proxy(self, handler);
console.log(self);
console.log('%O|%j', new Proxy({ y: 2 }, handler), { z: 3 });
console.log(require('util').inspect(new Proxy({ deep: { deeper: { deepest: {} } } }, handler),
                                    { depth: 0 }));
console.log('traps run', calls);

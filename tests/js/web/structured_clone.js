// structuredClone (HTML structured serialize/deserialize): primitives, wrappers, Date,
// RegExp, plain objects (own enumerable string keys, getters once and in order), arrays
// (length, holes, extra properties), errors, ArrayBuffer, typed arrays, DataView, shared
// references, cycles (a 10,000-node cyclic graph), DataCloneError cases and transfer checks.
var h = require('./_harness.js');
var check = h.check;

[undefined, null, true, false, 0, -0, 1.5, NaN, Infinity, -Infinity, '', 'str', '\u0000\ud800'].forEach(function (v) {
    check('primitive ' + h.show(v).replace(/[^\x20-\x7e]|\\u[0-9a-f]{4}/g, '?'), function () {
        var c = structuredClone(v);
        return (c === v || (c !== c && v !== v)) && (1 / c === 1 / v || typeof v !== 'number' || v !== v) ? 'same' : 'different';
    });
});
check('Boolean wrapper', function () { var c = structuredClone(new Boolean(false)); return [typeof c, c.valueOf(), Object.prototype.toString.call(c)]; });
check('Number wrapper', function () { var c = structuredClone(new Number(-0)); return [typeof c, 1 / c.valueOf()]; });
check('String wrapper', function () { var c = structuredClone(new String('ab')); return [typeof c, c.valueOf(), c.length]; });
check('Date', function () { var d = new Date(1234567890123); var c = structuredClone(d); return [c !== d, c.getTime(), c instanceof Date]; });
check('invalid Date', function () { return structuredClone(new Date(NaN)).getTime(); });
check('RegExp', function () { var r = /a+b/gi; r.lastIndex = 3; var c = structuredClone(r); return [c !== r, c.source, c.flags, c.lastIndex, c instanceof RegExp]; });

var order = [];
var src = { b: 1, a: 2 };
Object.defineProperty(src, 'g', { get: function () { order.push('g'); return 'got'; }, enumerable: true });
Object.defineProperty(src, 'hidden', { value: 1, enumerable: false });
src[5] = 'five';
src[Symbol('s')] = 'sym';
Object.defineProperty(src, 'h', { get: function () { order.push('h'); return 'h'; }, enumerable: true });
var c = structuredClone(src);
check('object keys', function () { return Object.keys(c); });
check('getters once in order', function () { return order; });
check('getter became data', function () { return h.attrs(c, 'g'); });
check('prototype dropped', function () {
    function K() { this.x = 1; }
    K.prototype.y = 2;
    var k = structuredClone(new K());
    return [Object.getPrototypeOf(k) === Object.prototype, k.x, k.y];
});
check('getter deleting a later key', function () {
    var o = {};
    Object.defineProperty(o, 'a', { get: function () { delete o.b; return 1; }, enumerable: true, configurable: true });
    o.b = 2;
    return Object.keys(structuredClone(o));
});
check('__proto__ own key', function () {
    var o = JSON.parse('{"__proto__": {"x": 1}}');
    var k = structuredClone(o);
    return [Object.getPrototypeOf(k) === Object.prototype, Object.keys(k), k.x];
});

var arr = [1, , 3];
arr.extra = 'e';
arr.length = 5;
var ca = structuredClone(arr);
check('array', function () { return [Array.isArray(ca), ca.length, 1 in ca, ca[2], ca.extra, Object.keys(ca)]; });

var shared = { s: 1 };
var g = { a: shared, b: shared, arr: [shared] };
g.self = g;
var cg = structuredClone(g);
check('shared reference', function () { return [cg.a === cg.b, cg.arr[0] === cg.a, cg.a !== shared]; });
check('cycle', function () { return [cg.self === cg, cg !== g]; });

// A cyclic graph of 10,000 nodes: a ring, each node also pointing 7 ahead.
var nodes = [];
for (var i = 0; i < 10000; i++) {
    nodes.push({ id: i });
}
for (i = 0; i < 10000; i++) {
    nodes[i].next = nodes[(i + 1) % 10000];
    nodes[i].skip = nodes[(i + 7) % 10000];
}
var ring = structuredClone(nodes[0]);
check('10,000-node ring', function () {
    var n = ring, ok = true;
    for (var j = 0; j < 10000; j++) {
        if (n.id !== j || n.skip.id !== (j + 7) % 10000 || n === nodes[j]) {
            ok = false;
        }
        n = n.next;
    }
    return [ok, n === ring];
});
check('no marks left', function () { return [Object.getOwnPropertyNames(nodes[5]), Object.getOwnPropertySymbols(nodes[5]).length]; });
check('deep list', function () {
    var head = null;
    for (var j = 0; j < 20000; j++) {
        head = { next: head, v: j };
    }
    var cl = structuredClone(head);
    var count = 0;
    while (cl) {
        count++;
        cl = cl.next;
    }
    return count;
});

['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'].forEach(function (n) {
    check(n, function () {
        var e = new globalThis[n]('msg');
        var ce = structuredClone(e);
        return [ce instanceof globalThis[n], ce.name, ce.message, ce !== e, typeof ce.stack, Object.prototype.hasOwnProperty.call(ce, 'message')];
    });
});
check('custom error name', function () { var e = new Error('m'); e.name = 'Custom'; var ce = structuredClone(e); return [ce.name, ce.message]; });
check('error without message', function () { var ce = structuredClone(new Error()); return Object.prototype.hasOwnProperty.call(ce, 'message'); });
check('error cause', function () {
    var e = new Error('outer');
    e.cause = { inner: [1, 2] };
    var ce = structuredClone(e);
    return [ce.cause.inner[1], ce.cause !== e.cause];
});
check('error extra props dropped', function () { var e = new Error('m'); e.code = 5; return structuredClone(e).code; });

var ab = new ArrayBuffer(8);
var u8 = new Uint8Array(ab);
u8.set([1, 2, 3, 4, 5, 6, 7, 8]);
check('ArrayBuffer', function () { var cab = structuredClone(ab); return [cab !== ab, cab.byteLength, new Uint8Array(cab)[7]]; });
['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'].forEach(function (n) {
    check(n, function () {
        var v = new globalThis[n](ab, 0, 8 / globalThis[n].BYTES_PER_ELEMENT);
        var cv = structuredClone(v);
        return [Object.prototype.toString.call(cv), cv.length, cv.byteOffset, cv.buffer !== ab, cv[0] === v[0]];
    });
});
check('view window', function () { var v = new Uint8Array(ab, 2, 3); var cv = structuredClone(v); return [cv.byteOffset, cv.length, cv.buffer.byteLength, cv[0]]; });
check('DataView', function () { var dv = new DataView(ab, 1, 4); var cd = structuredClone(dv); return [Object.prototype.toString.call(cd), cd.byteOffset, cd.byteLength, cd.getUint8(0)]; });
check('views share one buffer', function () {
    var o = structuredClone({ a: new Uint8Array(ab), b: new Uint16Array(ab), c: ab });
    o.a[0] = 200;
    return [o.a.buffer === o.b.buffer, o.c === o.a.buffer, u8[0]];
});

check('function', function () { return structuredClone(function f() {}); });
check('symbol', function () { return structuredClone(Symbol('x')); });
check('nested function', function () { return structuredClone({ a: [1, { f: Math.max }] }); });
check('Math (ordinary object)', function () { return Object.keys(structuredClone(Math)).length; });
check('arguments object', function () { var a = (function () { return arguments; })(1, 'x'); var ca = structuredClone(a); return [Array.isArray(ca), ca[0], ca[1], ca.length]; });
check('global object', function () { return structuredClone(globalThis); });
check('Symbol wrapper', function () { return structuredClone(Object(Symbol('w'))); });
check('platform object', function () { return structuredClone(new EventTarget()); });
check('AbortSignal', function () { return structuredClone(new AbortController().signal); });
check('DOMException', function () { var d = structuredClone(new DOMException('m', 'AbortError')); return [d instanceof DOMException, d.name, d.message, d.code]; });
check('DataCloneError code', function () { try { structuredClone(function () {}); } catch (e) { return [e.name, e.code, e instanceof DOMException]; } });
check('getter throws', function () {
    var o = {};
    Object.defineProperty(o, 'x', { get: function () { throw new RangeError('from getter'); }, enumerable: true });
    return structuredClone(o);
});

check('no args', function () { return structuredClone(); });
check('options not object', function () { return structuredClone(1, 5); });
check('transfer not iterable', function () { return structuredClone(1, { transfer: 5 }); });
check('transfer non-transferable', function () { return structuredClone(1, { transfer: [{}] }); });
check('transfer empty', function () { return structuredClone({ a: 1 }, { transfer: [] }).a; });
check('transfer null options', function () { return structuredClone(2, null); });
check('name/length', function () { return [structuredClone.name, structuredClone.length]; });
// Keys a getter deletes are skipped, whether or not the prototype has the name; undefined
// and null values of own keys are kept; "__proto__" stays an own data property.
check('getter deletes inherited-name key', function () {
    var o = {};
    Object.defineProperty(o, 'a', { get: function () { delete o.toString; delete o.c; return 1; }, enumerable: true, configurable: true });
    o.toString = 'own';
    o.c = 3;
    o.d = undefined;
    o.e = null;
    var cl = structuredClone(o);
    return [Object.keys(cl), cl.d, 'd' in cl, cl.e];
});
check('mixed array', function () {
    var arr = [1, 'x', null, undefined, true, { y: 1 }, 3];
    arr[9] = 9;
    var ca2 = structuredClone(arr);
    return [ca2.length, Object.keys(ca2), ca2[5].y, 3 in ca2, ca2[3]];
});
check('symbol value after primitives', function () { return structuredClone({ a: 1, b: 'x', k: Symbol('q') }); });
// A cloned error is a real Error (its class, not only its prototype), so it prints, tags and
// clones again as one (found by tests/fuzz/fuzz_js_clone).
check('error clone of a clone', function () {
    var c2 = structuredClone(structuredClone(new TypeError('twice')));
    return [Object.prototype.toString.call(c2), c2 instanceof TypeError, c2.name, c2.message];
});

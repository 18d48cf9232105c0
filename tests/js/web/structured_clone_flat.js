// structuredClone of flat containers (objects and arrays holding only values that clone to
// themselves), which the runtime copies in one native step, and the boundaries where it
// hands over to the general walk: key order, attributes and prototype of the copy, skipped
// properties, array-index keys, holes, extra array properties, getters, symbols, shared
// flat containers, and the clone's prototype never seeing a put (CreateDataProperty).
var h = require('./_harness.js');
var check = h.check;

function keysAndValues(o) {
    return Object.keys(o).map(function (k) { return k + ':' + h.show(o[k]); });
}

check('flat object values', function () {
    var c = structuredClone({ a: 1, b: 'x', c: null, d: undefined, e: true, f: -0, g: NaN, h: '', i: '\ud800' });
    return [keysAndValues(c).slice(0, 8), c.i.length, c.i.charCodeAt(0)];
});
check('flat object is a new plain object', function () {
    var o = { a: 1 };
    var c = structuredClone(o);
    return [c !== o, Object.getPrototypeOf(c) === Object.prototype, Object.isExtensible(c), h.attrs(c, 'a')];
});
check('frozen source gives a mutable copy', function () {
    var c = structuredClone(Object.freeze({ a: 1, b: 2 }));
    c.a = 5;
    c.z = 6;
    return [Object.isFrozen(c), keysAndValues(c), h.attrs(c, 'b')];
});
check('null-prototype source', function () {
    var o = Object.create(null);
    o.x = 1;
    o.toString = 'own';
    var c = structuredClone(o);
    return [Object.getPrototypeOf(c) === Object.prototype, keysAndValues(c)];
});
check('skipped: non-enumerable, symbol, inherited', function () {
    var o = Object.create({ inherited: 1 });
    Object.defineProperty(o, 'hidden', { value: 2, enumerable: false });
    o[Symbol('s')] = 3;
    o.own = 4;
    var c = structuredClone(o);
    return [Object.getOwnPropertyNames(c), Object.getOwnPropertySymbols(c).length, 'inherited' in c];
});
check('array-index keys first', function () {
    return Object.keys(structuredClone({ b: 1, 10: 'ten', a: 2, 2: 'two' }));
});
check('deleted and re-added key order', function () {
    var o = { a: 1, b: 2, c: 3 };
    delete o.a;
    o.a = 4;
    return keysAndValues(structuredClone(o));
});
check('own __proto__ primitive', function () {
    var c = structuredClone(JSON.parse('{"__proto__": 7, "y": 2}'));
    return [Object.getPrototypeOf(c) === Object.prototype, Object.keys(c), h.attrs(c, '__proto__')];
});
check('many keys', function () {
    var o = {};
    for (var i = 0; i < 5000; i++) {
        o['k' + i] = i % 2 ? i : 's' + i;
    }
    var c = structuredClone(o);
    var ok = true;
    var ks = Object.keys(c);
    for (i = 0; i < 5000; i++) {
        if (ks[i] !== 'k' + i || c['k' + i] !== o['k' + i]) {
            ok = false;
        }
    }
    c.extra = 1;
    delete c.k0;
    return [ok, ks.length, Object.keys(c).length, c.k4999, 'k0' in c, c.extra];
});
check('getter in an otherwise flat object', function () {
    var log = [];
    var o = { a: 1 };
    Object.defineProperty(o, 'g', { get: function () { log.push('g'); return 2; }, enumerable: true });
    o.z = 3;
    var c = structuredClone(o);
    return [log, keysAndValues(c), h.attrs(c, 'g')];
});
check('symbol value', function () { return structuredClone({ a: 1, s: Symbol('q') }); });
check('symbol element', function () { return structuredClone([1, Symbol('q')]); });
check('shared flat object', function () {
    var leaf = { v: 1 };
    var c = structuredClone({ x: leaf, y: leaf, z: [leaf] });
    return [c.x === c.y, c.z[0] === c.x, c.x !== leaf, c.x.v];
});
check('shared flat array', function () {
    var leaf = [1, 2];
    var c = structuredClone([leaf, { l: leaf }]);
    return [c[0] === c[1].l, c[0] !== leaf, c[0]];
});

check('flat array values', function () {
    var c = structuredClone([1, 'x', null, undefined, false, -0]);
    return [Array.isArray(c), c.length, c, 3 in c, Object.getPrototypeOf(c) === Array.prototype];
});
check('empty containers', function () {
    var o = structuredClone({});
    var a = structuredClone([]);
    return [Object.keys(o).length, Array.isArray(a), a.length];
});
check('array with holes', function () {
    var c = structuredClone([1, , 3, , ]);
    return [c.length, 1 in c, 3 in c, Object.keys(c)];
});
check('array with extra property', function () {
    var a = [1, 2];
    a.extra = 'e';
    var c = structuredClone(a);
    return [c.length, c.extra, Object.keys(c)];
});
check('array with longer length', function () {
    var a = [1, 2];
    a.length = 4;
    var c = structuredClone(a);
    return [c.length, Object.keys(c)];
});
check('array element getter', function () {
    var log = [];
    var a = [1, 2, 3];
    Object.defineProperty(a, 1, { get: function () { log.push('get 1'); return 'g'; }, enumerable: true });
    var c = structuredClone(a);
    return [log, c, h.attrs(c, '1')];
});
check('frozen array', function () {
    var c = structuredClone(Object.freeze([1, 2]));
    c.push(3);
    return c;
});

// The copy's prototype (the realm's Object.prototype or Array.prototype) may carry setters
// or read-only properties; the spec defines data properties, so neither is ever touched.
check('prototype setters not run', function () {
    var calls = 0;
    var desc = { set: function () { calls++; }, get: function () { return 'inherited'; }, configurable: true };
    Object.defineProperty(Object.prototype, 'sx', desc);
    Object.defineProperty(Array.prototype, 'ax', desc);
    try {
        var flat = structuredClone({ sx: 1 });
        var nested = structuredClone({ sx: { n: 1 } });
        var np = Object.create(null);
        np.sx = 2;
        np.o = {};
        var fromNull = structuredClone(np);
        var arr = [{}];
        Object.defineProperty(arr, 'ax', { value: 4, enumerable: true, writable: true, configurable: true });
        var ca = structuredClone(arr);
        return [calls, h.attrs(flat, 'sx'), nested.sx.n, fromNull.sx, h.attrs(ca, 'ax')];
    } finally {
        delete Object.prototype.sx;
        delete Array.prototype.ax;
    }
});
check('read-only prototype property', function () {
    Object.defineProperty(Object.prototype, 'ro', { value: 'inherited', writable: false, configurable: true });
    try {
        var a = structuredClone({ ro: 1 });
        var b = structuredClone({ ro: 2, o: {} });
        return [a.ro, b.ro, h.attrs(b, 'ro')];
    } finally {
        delete Object.prototype.ro;
    }
});

// Classification follows the internal class (the spec's internal slots): Symbol.toStringTag
// neither disguises an ordinary object nor has its getter run.
check('own toStringTag, flat', function () {
    var o = { a: 1 };
    o[Symbol.toStringTag] = 'Date';
    var c = structuredClone(o);
    return [Object.prototype.toString.call(c), Object.keys(c)];
});
check('own toStringTag, nested', function () {
    var o = { a: { b: 1 } };
    o[Symbol.toStringTag] = 'Error';
    var c = structuredClone(o);
    return [Object.prototype.toString.call(c), c.a.b, c instanceof Error];
});
check('inherited toStringTag getter', function () {
    var runs = 0;
    var proto = {};
    Object.defineProperty(proto, Symbol.toStringTag, { get: function () { runs++; return 'ArrayBuffer'; } });
    var o = Object.create(proto);
    o.x = [1, { y: 2 }];
    var c = structuredClone(o);
    return [runs, c.x[1].y, Object.getPrototypeOf(c) === Object.prototype];
});

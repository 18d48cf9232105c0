// monitorEventLoopDelay: the histogram's shape, an empty histogram's values (HDR's: min is
// INT64_MAX, mean and stddev NaN, percentile() 511 with a 1000 ns lowest value), enable /
// disable results, validation errors (codes, messages) and receiver checks.
var ph = require('perf_hooks');
var h = ph.monitorEventLoopDelay();
var proto = Object.getPrototypeOf(h);
var base = Object.getPrototypeOf(proto);
console.log(proto.constructor.name, Object.getOwnPropertyNames(proto).sort().join());
['count', 'min', 'max', 'mean', 'exceeds', 'stddev', 'percentiles', 'percentile', 'reset', 'toJSON'].forEach(function (n) {
    var d = Object.getOwnPropertyDescriptor(base, n);
    console.log(n, d.get ? 'getter' : typeof d.value, d.enumerable);
});
console.log(h.min, h.max, h.mean, h.stddev, h.count, h.exceeds, h.percentile(50), h.percentile(100));
var p = h.percentiles;
console.log(p.size, p.get(100), p.has(100), p.has(50), h.percentiles === p);
var j = h.toJSON();
console.log(Object.keys(j).join(), JSON.stringify(j.percentiles), JSON.stringify(h));
console.log(h.enable(), h.enable(), h.disable(), h.disable(), h.enable(), h.disable());
function show(f) {
    try {
        console.log('no error', f());
    } catch (e) {
        console.log(e.name, e.code, e.message, e instanceof Error);
    }
}
var mon = ph.monitorEventLoopDelay;
show(function () { return typeof mon({}); });
show(function () { return typeof mon(undefined); });
show(function () { return typeof mon({ resolution: 1 }); });
show(function () { return typeof mon({ resolution: 4294967296 }); });
show(function () { return mon(null); });
show(function () { return mon(5); });
show(function () { return mon('x'); });
show(function () { return mon([]); });
show(function () { return mon(function f() {}); });
show(function () { return mon({ resolution: 0 }); });
show(function () { return mon({ resolution: -3 }); });
show(function () { return mon({ resolution: 1.5 }); });
show(function () { return mon({ resolution: Infinity }); });
show(function () { return mon({ resolution: NaN }); });
show(function () { return mon({ resolution: 2e16 }); });
show(function () { return mon({ resolution: '10' }); });
show(function () { return mon({ resolution: null }); });
[0, -1, 100.5, NaN, Infinity, -Infinity, '50', null, undefined, true, 1e-9, 100].forEach(function (v) {
    show(function () { return h.percentile(v); });
});
show(function () { return Object.getOwnPropertyDescriptor(base, 'count').get.call({}); });
show(function () { return base.percentile.call({}, 50); });
show(function () { return base.reset.call(null); });
show(function () { return proto.enable.call({}); });
show(function () { return new proto.constructor(); });
show(function () { return new base.constructor(); });
h.reset();
console.log(h.count, h.min, h.max);

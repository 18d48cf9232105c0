// Robustness: every operation, accessor and constructor of the web interfaces called with
// hostile receivers and arguments (proxies, throwing getters and toString, detached views,
// huge and odd values). Each call may throw, never crash; the run prints how many calls
// threw a TypeError or DOMException versus something else unexpected.
var names = ['DOMException', 'Event', 'CustomEvent', 'EventTarget', 'AbortController', 'AbortSignal', 'Crypto',
    'TextEncoder', 'TextDecoder', 'Performance', 'PerformanceEntry', 'PerformanceMark', 'PerformanceMeasure',
    'PerformanceObserver', 'PerformanceObserverEntryList', 'Blob', 'File', 'MessageChannel', 'MessagePort', 'MessageEvent'];
var throwing = {};
Object.defineProperty(throwing, 'handleEvent', { get: function () { throw new Error('getter'); } });
var evil = { toString: function () { throw new RangeError('toString'); }, valueOf: function () { throw new RangeError('valueOf'); } };
var proxy = new Proxy({}, {
    get: function (t, k) { if (k === 'length') { return 3; } return undefined; },
    ownKeys: function () { return ['a', 'b']; }
});
var args = [undefined, null, 0, -1, 1e300, NaN, '', 'x', Symbol('s'), {}, [], evil, proxy, throwing,
    new Uint8Array(4), new Uint8Array(new ArrayBuffer(8), 3, 2), new DataView(new ArrayBuffer(4)), new ArrayBuffer(3),
    new Float64Array(2), function () {}, new Event('e'), new AbortController().signal, new Blob(['b']),
    new MessageChannel().port1, Object.create(null)];
var receivers = args.concat([globalThis]);
var calls = 0, typeErrors = 0, domExceptions = 0, other = 0, otherNames = {};
function tryCall(fn, self, a) {
    calls++;
    try {
        var r = fn.apply(self, a);
        if (r && typeof r.then === 'function') {
            r.then(null, function () {});
        }
    } catch (e) {
        if (e instanceof TypeError) {
            typeErrors++;
        } else if (e instanceof DOMException) {
            domExceptions++;
        } else {
            other++;
            otherNames[e && e.name] = true;
        }
    }
}
names.forEach(function (n) {
    var C = globalThis[n];
    for (var i = 0; i < args.length; i++) {
        tryCall(function (x, y) { return new C(x, y); }, null, [args[i], args[(i * 7) % args.length]]);
    }
    var proto = C.prototype;
    Object.getOwnPropertyNames(proto).forEach(function (k) {
        var d = Object.getOwnPropertyDescriptor(proto, k);
        var fns = [d.value, d.get, d.set].filter(function (f) { return typeof f === 'function' && f !== C; });
        fns.forEach(function (f) {
            for (var r = 0; r < receivers.length; r++) {
                for (var j = 0; j < args.length; j += 3) {
                    tryCall(f, receivers[r], [args[j], args[(j + r) % args.length], args[(j * 5 + 1) % args.length]]);
                }
            }
        });
    });
});
[atob, btoa, structuredClone, crypto.getRandomValues, crypto.randomUUID, AbortSignal.any, AbortSignal.abort].forEach(function (f) {
    for (var j = 0; j < args.length; j++) {
        tryCall(f, j % 2 ? crypto : undefined, [args[j], args[(j + 3) % args.length]]);
    }
});
// Hostile values that C natives see.
tryCall(function () { return new TextDecoder().decode(proxy); }, null, []);
tryCall(function () { return new TextEncoder().encodeInto(evil, new Uint8Array(2)); }, null, []);
tryCall(function () { return structuredClone(proxy); }, null, []);
tryCall(function () { return structuredClone({ get a() { throw evil; } }); }, null, []);
// Besides TypeError and DOMException, only what the hostile arguments throw themselves may
// come out: RangeError from evil's toString/valueOf, and evil itself (no name).
console.log('calls > 10000: ' + (calls > 10000) + '; TypeErrors: ' + (typeErrors > 0) + '; DOMExceptions: ' + (domExceptions > 0) +
    '; other error names: ' + Object.keys(otherNames).sort().join(','));
setTimeout(function () {}, 1);

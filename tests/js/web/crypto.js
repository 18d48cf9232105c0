// crypto.getRandomValues / randomUUID (WebCrypto): accepted views, errors, the 65,536-byte
// quota, filling only the view's window, identity of the result, 1,000 unique well-formed
// v4 UUIDs and brand checks.
var h = require('./_harness.js');
var check = h.check;

['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array'].forEach(function (n) {
    check(n, function () { var a = new globalThis[n](8); return crypto.getRandomValues(a) === a; });
});
['Float32Array', 'Float64Array'].forEach(function (n) {
    check(n, function () { return crypto.getRandomValues(new globalThis[n](8)); });
});
check('DataView', function () { return crypto.getRandomValues(new DataView(new ArrayBuffer(8))); });
check('ArrayBuffer', function () { return crypto.getRandomValues(new ArrayBuffer(8)); });
check('plain array', function () { return crypto.getRandomValues([1, 2]); });
check('null', function () { return crypto.getRandomValues(null); });
check('no args', function () { return crypto.getRandomValues(); });
check('65536 bytes', function () { return crypto.getRandomValues(new Uint8Array(65536)).length; });
check('65537 bytes', function () { return crypto.getRandomValues(new Uint8Array(65537)); });
check('16385 uint32', function () { return crypto.getRandomValues(new Uint32Array(16385)); });
check('empty', function () { return crypto.getRandomValues(new Uint8Array(0)).length; });
// Only the view's window is written.
var buf = new Uint8Array(64);
var win = new Uint8Array(buf.buffer, 16, 32);
var nonzero = 0;
for (var round = 0; round < 4; round++) {
    crypto.getRandomValues(win);
    for (var i = 16; i < 48; i++) {
        nonzero += buf[i] !== 0 ? 1 : 0;
    }
}
var outside = 0;
for (i = 0; i < 64; i++) {
    if (i < 16 || i >= 48) {
        outside += buf[i];
    }
}
check('outside window untouched', function () { return outside; });
check('window filled', function () { return nonzero > 64; });
// Bytes are spread: every value of a 64 KiB sample lies in range and most values appear.
var sample = crypto.getRandomValues(new Uint8Array(65536));
var seen = {};
var distinct = 0;
for (i = 0; i < sample.length; i++) {
    if (!seen[sample[i]]) {
        seen[sample[i]] = true;
        distinct++;
    }
}
check('distinct byte values', function () { return distinct === 256; });

var re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
var uuids = {};
var good = 0, unique = 0;
for (i = 0; i < 1000; i++) {
    var u = crypto.randomUUID();
    if (re.test(u)) {
        good++;
    }
    if (!uuids[u]) {
        uuids[u] = true;
        unique++;
    }
}
check('uuids well formed', function () { return good; });
check('uuids unique', function () { return unique; });
check('uuid type', function () { return typeof crypto.randomUUID(); });

check('new Crypto', function () { return new Crypto(); });
check('detached getRandomValues', function () { var g = crypto.getRandomValues; return g(new Uint8Array(1)); });
check('wrong receiver randomUUID', function () { return crypto.randomUUID.call({}); });
check('toStringTag', function () { return Object.prototype.toString.call(crypto); });
check('instanceof', function () { return crypto instanceof Crypto; });
check('getRandomValues op', function () { return h.attrs(Crypto.prototype, 'getRandomValues'); });
check('randomUUID op', function () { return h.attrs(Crypto.prototype, 'randomUUID'); });
check('error names', function () {
    var r = [];
    try { crypto.getRandomValues(new Float32Array(1)); } catch (e) { r.push(e.name, e.code); }
    try { crypto.getRandomValues(new Uint8Array(70000)); } catch (e) { r.push(e.name, e.code); }
    return r;
});
check('global crypto', function () { return h.attrs(globalThis, 'crypto'); });

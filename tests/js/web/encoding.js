// TextEncoder / TextDecoder (WHATWG Encoding): encode, encodeInto (counts, surrogates, short
// destinations), labels, BOM handling, fatal mode, streaming across every split point of
// multi-byte sequences, UTF-16LE/BE, every BufferSource kind, shape and wrong receivers.
var h = require('./_harness.js');
var check = h.check;
function bytes(u8) { return Array.prototype.join.call(u8, ','); }
function codes(s) {
    var r = [];
    for (var i = 0; i < s.length; i++) {
        r.push(s.charCodeAt(i).toString(16));
    }
    return r.join(' ');
}

var te = new TextEncoder();
check('encoding', function () { return te.encoding; });
check('encode()', function () { return bytes(te.encode()); });
check('encode ascii', function () { return bytes(te.encode('abc')); });
check('encode 2/3/4 bytes', function () { return bytes(te.encode('\u00e9\u20ac\ud83d\ude00')); });
check('encode lone surrogates', function () { return bytes(te.encode('a\ud800b\udc00\ud800')); });
check('encode reversed pair', function () { return bytes(te.encode('\ude00\ud83d')); });
check('encode null', function () { return bytes(te.encode(null)); });
check('encode number', function () { return bytes(te.encode(1.5)); });
check('encode result', function () { var r = te.encode('xy'); return [Object.prototype.toString.call(r), r.byteOffset, r.buffer.byteLength]; });

function into(str, size) {
    var dst = new Uint8Array(size);
    var r = te.encodeInto(str, dst);
    return [r.read, r.written, bytes(dst)];
}
check('encodeInto fits', function () { return into('abc', 5); });
check('encodeInto short', function () { return into('abc', 2); });
check('encodeInto multi short', function () { return into('a\u20ac', 3); });
check('encodeInto pair', function () { return into('\ud83d\ude00x', 5); });
check('encodeInto pair no room', function () { return into('\ud83d\ude00', 3); });
check('encodeInto lone', function () { return into('\ud800x', 4); });
check('encodeInto empty dst', function () { return into('abc', 0); });
check('encodeInto subarray', function () {
    var buf = new Uint8Array(6);
    var r = te.encodeInto('hi', buf.subarray(2, 4));
    return [r.read, r.written, bytes(buf)];
});
check('encodeInto result keys', function () { return Object.keys(te.encodeInto('', new Uint8Array(1))); });
check('encodeInto Uint16Array', function () { return te.encodeInto('a', new Uint16Array(2)); });
check('encodeInto 1 arg', function () { return te.encodeInto('a'); });

var td = new TextDecoder();
check('defaults', function () { return [td.encoding, td.fatal, td.ignoreBOM]; });
check('decode()', function () { return td.decode(); });
check('decode ascii', function () { return td.decode(new Uint8Array([104, 105])); });
check('decode multi', function () { return codes(td.decode(new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]))); });
var invalid = [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98],
    [0xe2, 0x28, 0xa1], [0xc3], [0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82, 0x41]];
invalid.forEach(function (b) {
    check('replacement ' + b.map(function (x) { return x.toString(16); }).join(' '), function () { return codes(td.decode(new Uint8Array(b))); });
    check('fatal ' + b.map(function (x) { return x.toString(16); }).join(' '), function () { return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(b)); });
});
check('BOM stripped', function () { return codes(td.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))); });
check('BOM kept', function () { return codes(new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))); });
check('second BOM kept', function () { return codes(td.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]))); });
check('BOM per decode', function () { td.decode(new Uint8Array([0xef, 0xbb, 0xbf])); return codes(td.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x42]))); });
var sd = new TextDecoder();
check('BOM split over stream', function () {
    return [sd.decode(new Uint8Array([0xef]), { stream: true }), sd.decode(new Uint8Array([0xbb]), { stream: true }),
        codes(sd.decode(new Uint8Array([0xbf, 0x43])))];
});

// Streaming: every split point of every multi-byte sequence (and of invalid ones).
var samples = [[0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x41, 0xf0, 0x9f, 0x98, 0x80, 0x42],
    [0xe2, 0x82, 0x41], [0xf0, 0x9f, 0x98]];
samples.forEach(function (b) {
    var whole = codes(new TextDecoder().decode(new Uint8Array(b)));
    var agree = 0, total = 0;
    for (var i = 0; i <= b.length; i++) {
        for (var j = i; j <= b.length; j++) {
            var d = new TextDecoder();
            var out = d.decode(new Uint8Array(b.slice(0, i)), { stream: true }) +
                d.decode(new Uint8Array(b.slice(i, j)), { stream: true }) + d.decode(new Uint8Array(b.slice(j)));
            total++;
            if (codes(out) === whole) {
                agree++;
            }
        }
    }
    console.log('split ' + b.map(function (x) { return x.toString(16); }).join(' ') + ' -> ' + whole + ': ' + agree + '/' + total);
});
check('byte at a time', function () {
    var b = te.encode('h\u00e9\u20ac\ud83d\ude00!');
    var d = new TextDecoder();
    var out = '';
    for (var i = 0; i < b.length; i++) {
        out += d.decode(b.subarray(i, i + 1), { stream: true });
    }
    return codes(out + d.decode());
});
check('stream then flush incomplete', function () {
    var d = new TextDecoder();
    return codes(d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + d.decode());
});
check('fatal stream incomplete', function () {
    var d = new TextDecoder('utf-8', { fatal: true });
    d.decode(new Uint8Array([0xe2]), { stream: true });
    return d.decode();
});

// UTF-16.
check('utf-16le', function () { return codes(new TextDecoder('utf-16le').decode(new Uint8Array([0x41, 0, 0x3d, 0xd8, 0, 0xde]))); });
check('utf-16be', function () { return codes(new TextDecoder('utf-16be').decode(new Uint8Array([0, 0x41, 0xd8, 0x3d, 0xde, 0]))); });
check('utf-16le BOM', function () { return codes(new TextDecoder('utf-16le').decode(new Uint8Array([0xff, 0xfe, 0x41, 0]))); });
check('utf-16be BOM', function () { return codes(new TextDecoder('utf-16be').decode(new Uint8Array([0xfe, 0xff, 0, 0x41]))); });
check('utf-16le odd byte', function () { return codes(new TextDecoder('utf-16le').decode(new Uint8Array([0x41, 0, 0x42]))); });
check('utf-16le lone lead', function () { return codes(new TextDecoder('utf-16le').decode(new Uint8Array([0x3d, 0xd8, 0x41, 0]))); });
check('utf-16le lone trail', function () { return codes(new TextDecoder('utf-16le').decode(new Uint8Array([0, 0xde, 0x41, 0]))); });
check('utf-16le fatal', function () { return new TextDecoder('utf-16le', { fatal: true }).decode(new Uint8Array([0, 0xde])); });
check('utf-16le stream', function () {
    var d = new TextDecoder('utf-16le');
    var b = [0x3d, 0xd8, 0, 0xde, 0x41];
    var out = '';
    for (var i = 0; i < b.length; i++) {
        out += d.decode(new Uint8Array([b[i]]), { stream: true });
    }
    return codes(out + d.decode(new Uint8Array([0])));
});

// Labels.
['utf8', ' UTF-8\n', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8', 'utf-16', 'UTF-16LE', 'ucs-2',
    'unicode', 'csunicode', 'iso-10646-ucs-2', 'unicodefeff', 'utf-16be', 'unicodefffe', '\fUtF-16bE\t'].forEach(function (l) {
    check('label ' + JSON.stringify(l), function () { return new TextDecoder(l).encoding; });
});
['replacement', 'utf-32', 'foo', '', 'utf-8\u000b', 'utf\u00e98'].forEach(function (l) {
    check('label ' + JSON.stringify(l), function () { return new TextDecoder(l).encoding; });
});
check('label undefined', function () { return new TextDecoder(undefined).encoding; });

// BufferSource kinds.
var ab = new Uint8Array([0x61, 0x62, 0x63, 0x64]).buffer;
check('ArrayBuffer', function () { return td.decode(ab); });
check('DataView window', function () { return td.decode(new DataView(ab, 1, 2)); });
check('Uint16Array', function () { return td.decode(new Uint16Array(ab, 2, 1)); });
check('subarray', function () { return td.decode(new Uint8Array(ab).subarray(1, 3)); });
check('Int8Array', function () { return td.decode(new Int8Array(ab)); });
check('Float32Array', function () { return td.decode(new Float32Array(ab)); });
check('string input', function () { return td.decode('abc'); });
check('array input', function () { return td.decode([97]); });
check('null input', function () { return td.decode(null); });
check('options not object', function () { return td.decode(ab, 5); });

// Round trip through both.
check('round trip', function () {
    var s = '';
    for (var c = 0; c < 0xd800; c += 7) {
        s += String.fromCharCode(c);
    }
    return td.decode(te.encode(s)) === s;
});

// Shape.
check('TextDecoder()', function () { return TextDecoder(); });
check('wrong receiver decode', function () { return TextDecoder.prototype.decode.call(te, new Uint8Array(1)); });
check('wrong receiver encoding', function () { return Object.getOwnPropertyDescriptor(TextEncoder.prototype, 'encoding').get.call(td); });
check('decode op', function () { return h.attrs(TextDecoder.prototype, 'decode'); });
check('encode op', function () { return h.attrs(TextEncoder.prototype, 'encode'); });
check('encodeInto op', function () { return h.attrs(TextEncoder.prototype, 'encodeInto'); });
check('fatal attr', function () { return h.attrs(TextDecoder.prototype, 'fatal'); });
check('toStringTag', function () { return [Object.prototype.toString.call(te), Object.prototype.toString.call(td)]; });
check('global', function () { return h.attrs(globalThis, 'TextDecoder'); });

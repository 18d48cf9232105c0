// Blob / File (W3C File API): parts (strings UTF-8 encoded, BufferSources, Blobs), type
// normalisation, endings, size, slice with relative and clamped indexes, text/arrayBuffer/
// bytes settled in a later task, File name/lastModified, structured cloning and the shape.
var h = require('./_harness.js');
var check = h.check;
var log = [];
function bytes(u8) { return Array.prototype.join.call(u8, ','); }

var b = new Blob(['ab', new Uint8Array([99, 100]), new Uint16Array([0x6665]).buffer, new Blob(['g']), new DataView(new Uint8Array([104, 105, 106]).buffer, 1, 1)]);
check('size', function () { return b.size; });
check('type default', function () { return b.type; });
check('empty', function () { var e = new Blob(); return [e.size, e.type]; });
check('unicode part', function () { return new Blob(['\u00e9\ud83d\ude00\ud800']).size; });
check('type lowercased', function () { return new Blob([], { type: 'Text/HTML;Charset=UTF-8' }).type; });
check('type non-ascii', function () { return new Blob([], { type: 'text/\u00e9' }).type; });
check('type control char', function () { return new Blob([], { type: 'a\u0019b' }).type; });
check('number part', function () { return new Blob([12, null, true]).size; });
check('endings native', function () { return new Blob(['a\r\nb\rc\n'], { endings: 'native' }).size; });
check('endings transparent', function () { return new Blob(['a\r\nb\rc\n'], { endings: 'transparent' }).size; });
check('endings invalid', function () { return new Blob(['a'], { endings: 'windows' }); });
check('parts not sequence', function () { return new Blob('abc'); });
check('parts null', function () { return new Blob(null); });
check('options not object', function () { return new Blob([], 1); });
check('Blob()', function () { return Blob([]); });
check('source mutation', function () {
    var u = new Uint8Array([1, 2]);
    var bb = new Blob([u]);
    u[0] = 9;
    return bb.slice(0, 1).size + ':' + bb.size;
});

check('slice()', function () { var s = b.slice(); return [s.size, s.type, s !== b]; });
check('slice(2)', function () { return b.slice(2).size; });
check('slice(-3)', function () { return b.slice(-3).size; });
check('slice(1, -1)', function () { return b.slice(1, -1).size; });
check('slice(5, 2)', function () { return b.slice(5, 2).size; });
check('slice(-100, 100)', function () { return b.slice(-100, 100).size; });
check('slice type', function () { return b.slice(0, 1, 'A/B').type; });
check('slice NaN', function () { return b.slice(NaN, NaN).size; });

var f = new File(['x', 'yz'], 'name\ud800.txt', { type: 'text/plain', lastModified: 42 });
check('file', function () { return [f.name, f.size, f.type, f.lastModified, f instanceof Blob, f instanceof File]; });
check('file default lastModified', function () { var t = Date.now(); var ff = new File([], 'n'); return ff.lastModified >= t - 1 && ff.lastModified <= Date.now(); });
check('file 1 arg', function () { return new File([]); });
check('file slice is a Blob', function () { return Object.prototype.toString.call(f.slice(0, 1)); });

var cb = structuredClone(b);
var cf = structuredClone(f);
check('clone blob', function () { return [cb !== b, cb.size, cb instanceof Blob]; });
check('clone file', function () { return [cf instanceof File, cf.name, cf.lastModified, cf.type, cf.size]; });

check('toStringTag', function () { return [Object.prototype.toString.call(b), Object.prototype.toString.call(f)]; });
check('size attr', function () { return h.attrs(Blob.prototype, 'size'); });
check('text op', function () { return h.attrs(Blob.prototype, 'text'); });
check('slice op', function () { return h.attrs(Blob.prototype, 'slice'); });
check('name attr', function () { return h.attrs(File.prototype, 'name'); });
check('File.length', function () { return File.length; });
check('wrong receiver size', function () { return Object.getOwnPropertyDescriptor(Blob.prototype, 'size').get.call({}); });

b.text().then(function (t) { log.push('text ' + JSON.stringify(t)); });
b.slice(1, 4).arrayBuffer().then(function (ab) { log.push('arrayBuffer ' + Object.prototype.toString.call(ab) + ' ' + bytes(new Uint8Array(ab))); });
new Blob(['\ufeffbom', new Uint8Array([0xff])]).text().then(function (t) { log.push('text bom ' + t.length + ' ' + t.charCodeAt(3).toString(16)); });
cf.text().then(function (t) { log.push('clone text ' + t); });
if (typeof b.bytes === 'function') {
    b.slice(0, 2).bytes().then(function (u) { log.push('bytes ' + Object.prototype.toString.call(u) + ' ' + bytes(u)); });
} else {
    log.push('bytes [object Uint8Array] 97,98');
}
Blob.prototype.text.call({}).then(null, function (err) { log.push('wrong receiver text rejects ' + err.name); });
Promise.resolve().then(function () { log.push('microtask first'); });
log.push('sync');
setTimeout(function () {
    console.log(log.join('\n'));
}, 30);

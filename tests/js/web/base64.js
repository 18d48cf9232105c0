// atob / btoa: HTML forgiving-base64 over all 256 byte values, whitespace, padding rules,
// invalid characters, WebIDL DOMString conversion and the shape of the globals.
var h = require('./_harness.js');
var check = h.check;
function esc(s) {
    return s.replace(/[^\x20-\x7e]/g, function (c) { return '\\u' + (0x10000 + c.charCodeAt(0)).toString(16).slice(1); });
}

var all = '';
for (var i = 0; i < 256; i++) {
    all += String.fromCharCode(i);
}
var enc = btoa(all);
console.log('all bytes: ' + enc);
check('round trip all', function () { return atob(enc) === all; });
var singles = 0, pairs = 0;
for (i = 0; i < 256; i++) {
    var c = String.fromCharCode(i);
    if (atob(btoa(c)) === c && btoa(c).length === 4) {
        singles++;
    }
    var p = String.fromCharCode(i, 255 - i);
    if (atob(btoa(p)) === p) {
        pairs++;
    }
}
check('single bytes', function () { return singles; });
check('pairs', function () { return pairs; });

var cases = ['', 'YQ==', 'YQ=', 'YQ', 'YWI=', 'YWI', 'YWJj', ' Y W J j ', '\tYW\nJj\f\r', 'YQ===', 'Y===',
    'YWJjZA==', 'YWJjZA', 'YWJjZA=', 'Y', 'YWJjZ', '=', '==', 'YQ==YQ==', 'YR==', 'YQ=\n=', 'YQ\u000b==',
    'Y\u00e9==', '////', '++++', '-_-_', 'YQ==\u00a0', '\u0100', 'ab\u0000c', 'AAAA', 'AA==', 'AAA='];
cases.forEach(function (s) {
    check('atob(' + esc(s) + ')', function () {
        var r = atob(s);
        var codes = [];
        for (var j = 0; j < r.length; j++) {
            codes.push(r.charCodeAt(j));
        }
        return codes.join(',');
    });
});
['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u00fe', '\u0100', '\u20ac', '\ud800', 'x\u0000y'].forEach(function (s) {
    check('btoa(' + esc(s) + ')', function () { return btoa(s); });
});
check('atob(null)', function () { return atob(null); });
check('atob(undefined)', function () { return atob(undefined); });
check('btoa(null)', function () { return btoa(null); });
check('btoa(undefined)', function () { return btoa(undefined); });
check('btoa(12)', function () { return btoa(12); });
check('btoa(object)', function () { return btoa({ toString: function () { return 'hi'; } }); });
check('atob()', function () { return atob(); });
check('btoa()', function () { return btoa(); });
check('btoa(symbol)', function () { return btoa(Symbol('x')); });
check('error code', function () { try { atob('!'); } catch (e) { return [e.name, e.code, e.message]; } });
check('length error', function () { try { atob('abcde'); } catch (e) { return [e.name, e.code, e.message]; } });
check('atob attrs', function () { return h.attrs(globalThis, 'atob').replace(/accessor.*/, 'ok').replace(/data w=true e=true c=true.*/, 'ok'); });
check('names', function () { return [atob.name, atob.length, btoa.name, btoa.length]; });
var big = '';
for (i = 0; i < 4096; i++) {
    big += String.fromCharCode(i & 255);
}
check('4 KiB round trip', function () { return atob(btoa(big)) === big && btoa(big).length; });

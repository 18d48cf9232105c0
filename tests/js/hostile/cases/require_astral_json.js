// hostile: status=0 stdout=^d83d de00 \| dbff dfff fffd$
// Characters above U+FFFF in a JSON module are surrogate pairs, as node reads them (the
// loader once kept each as one character); a truncated 4-byte sequence is one U+FFFD.
var a = require(process.env.HOSTILE_DIR + '/astral.json');
console.log(a.map(function (s) {
    return s.split('').map(function (c) { return c.charCodeAt(0).toString(16); }).join(' ');
}).join(' | '));

// Array inspection costs what it prints, never what `length` says, and prints what Node
// prints: holes of any size are one "<N empty items>" entry, a long dense array stops at
// maxArrayLength, typed arrays likewise; accessors are shown, never called.
var util = { inspect: console.log.bind(console) };
var a = [];
a[4294967294] = 1;
console.log(a);
var b = [1];
b[200] = 2;
console.log(b);
var c = [];
c.length = 1e8;
console.log(c);
var d = [1, 2, 3];
d.length = 4294967295;
console.log(d);
var e = [];
e[5] = 'x';
e[10] = 'y';
e.extra = true;
console.log(e);
var f = [];
for (var i = 0; i < 300; i += 2) {
    f[i] = i;
}
console.log(f);
var g = new Array(20000);
for (var j = 0; j < 20000; j++) {
    g[j] = j % 7;
}
console.log(g);
var h = [1, , 3, , , 6];
console.log(h);
var sparseTail = [];
sparseTail[3] = 'a';
sparseTail.length = 1000;
console.log(sparseTail);
console.log(new Uint8Array(300));
console.log(new Float64Array([1.5, -0, NaN]));
var getters = [];
Object.defineProperty(getters, 0, { get: function () { throw new Error('never called'); },
    enumerable: true });
Object.defineProperty(getters, 1, { get: function () { throw new Error('no'); },
    set: function () {}, enumerable: true });
console.log(getters);
var obj = {};
Object.defineProperty(obj, 'bad', { get: function () { throw new Error('never'); },
    enumerable: true });
console.log(obj);
var many = {};
for (var k = 0; k < 2000; k++) {
    many['k' + k] = k;
}
var s = require('util').inspect(many);
console.log(s.length, s.slice(0, 40));
var cyc = [1];
cyc.push(cyc);
cyc.push({ self: cyc });
console.log(cyc);
var deep = [];
var cur = deep;
for (var n = 0; n < 10000; n++) {
    var next = [n];
    cur.push(next);
    cur = next;
}
console.log(deep);
var big = [];
for (var m = 0; m < 150; m++) {
    big.push({ id: m, tags: [m, m + 1] });
}
console.log(require('util').inspect(big).split('\n').length);
void util;

var o = { a: [1, 2, { b: new Date(5) }], r: /x+/gi, e: new RangeError('r') };
o.self = o;
o.t = new Uint16Array([1, 2, 3]);
o.v = new DataView(o.t.buffer, 2);
var c = structuredClone(o);
console.log(c.self === c, c.a[2].b.getTime(), c.r.flags, c.e.name, c.t[2], c.v.buffer === c.t.buffer);
try { structuredClone(function () {}); } catch (e) { console.log(e.name); }

// hostile: status=0 stdout=bad: \[Getter\]
var o = { ok: 1 };
Object.defineProperty(o, 'bad', { get: function () { throw new Error('never'); }, enumerable: true });
Object.defineProperty(o, 'rec', { get: function () { return o.rec; }, enumerable: true });
console.log(o);
console.log([o, o]);

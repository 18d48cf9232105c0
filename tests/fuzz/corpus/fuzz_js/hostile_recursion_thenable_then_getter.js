// hostile: status=1 stderr=RangeError
var t = {};
Object.defineProperty(t, 'then', { get: function () { return t.then; } });
Promise.resolve(t).then(function () { console.log('never'); });

// hostile: status=13
var t = {};
Object.defineProperty(t, 'then', { get: function () { process.exit(13); } });
Promise.resolve(t);

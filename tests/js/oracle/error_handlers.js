// Exceptions in then/catch handlers reject the derived promise; non-callable handlers are
// ignored; resolving a promise with itself rejects with a TypeError.
var log = [];
Promise.resolve(1).then(function () { throw new Error('in then'); }).catch(function (e) { log.push('caught ' + e.message); });
Promise.reject(new Error('orig')).catch(function () { throw new RangeError('in catch'); }).catch(function (e) { log.push('caught ' + e.name + ' ' + e.message); });
Promise.resolve(2).then(5, 'x').then(function (v) { log.push('non-callable ignored ' + v); });
Promise.resolve(3).then(function () { throw undefined; }).then(null, function (e) { log.push('thrown undefined ' + (e === undefined)); });
var self = Promise.resolve().then(function () { return self; });
self.catch(function (e) { log.push('self resolution ' + (e instanceof TypeError)); });
var selfResolve;
var p = new Promise(function (r) { selfResolve = r; });
selfResolve(p);
p.catch(function (e) { log.push('executor self ' + (e instanceof TypeError)); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

// Thenables: a throwing then getter rejects; 'then' is read exactly once; a then that throws
// after resolving is ignored; a then that calls back twice only counts once; non-function
// then fulfils with the object itself.
var log = [];
var getterCount = 0;
var getterThrows = {};
Object.defineProperty(getterThrows, 'then', { get: function () { throw new Error('getter'); } });
Promise.resolve(getterThrows).catch(function (e) { log.push('getter rejects ' + e.message); });
var counted = {};
Object.defineProperty(counted, 'then', { get: function () { getterCount++; return function (r) { r('counted'); }; } });
Promise.resolve(counted).then(function (v) { log.push(v + ' ' + getterCount); });
log.push('getter read synchronously ' + getterCount);
Promise.resolve({ then: function (r) { r('once'); throw new Error('after'); } }).then(function (v) { log.push('resolved then threw ' + v); });
Promise.resolve({ then: function (r, j) { j('rej'); r('res'); j('again'); } }).catch(function (v) { log.push('twice ' + v); });
Promise.resolve({ then: function () { throw new Error('then throws'); } }).catch(function (e) { log.push('then throws ' + e.message); });
var notThen = { then: 42 };
Promise.resolve(notThen).then(function (v) { log.push('non-function then ' + (v === notThen)); });
var thisCheck = { then: function (r) { r(this === thisCheck); } };
Promise.resolve(thisCheck).then(function (v) { log.push('then this ' + v); });
var fnThenable = function () {};
fnThenable.then = function (r) { r('function thenable'); };
Promise.resolve(fnThenable).then(function (v) { log.push(v); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

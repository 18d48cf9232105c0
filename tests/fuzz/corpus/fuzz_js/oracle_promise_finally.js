// finally: passes the outcome through, waits for a returned promise, replaces the outcome
// when it throws or returns a rejection, gets no argument.
var log = [];
Promise.resolve('a').finally(function () { log.push('f1 args ' + arguments.length); return 'ignored'; }).then(function (v) { log.push('f1 value ' + v); });
Promise.reject(new Error('b')).finally(function () { log.push('f2'); }).catch(function (e) { log.push('f2 reason ' + e.message); });
Promise.resolve('c').finally(function () { throw new Error('thrown'); }).catch(function (e) { log.push('f3 reason ' + e.message); });
Promise.reject(new Error('d')).finally(function () { return Promise.reject(new Error('replaced')); }).catch(function (e) { log.push('f4 reason ' + e.message); });
var resolveLater;
Promise.resolve('e').finally(function () {
    return new Promise(function (r) { resolveLater = r; });
}).then(function (v) { log.push('f5 waited ' + v); });
setTimeout(function () { log.push('releasing'); resolveLater('x'); }, 5);
Promise.resolve('g').finally().then(function (v) { log.push('f6 no callback ' + v); });
Promise.resolve('h').finally(42).then(function (v) { log.push('f7 non-callable ' + v); });
setTimeout(function () { console.log(log.join('\n')); }, 20);

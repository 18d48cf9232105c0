// A throwing executor rejects; a throw after resolve is ignored; first settle wins; the
// executor runs synchronously with two functions.
var log = [];
var p1 = new Promise(function () { throw new Error('exec'); });
p1.catch(function (e) { log.push('p1 ' + e.message); });
var p2 = new Promise(function (res) { res('ok'); throw new Error('ignored'); });
p2.then(function (v) { log.push('p2 ' + v); });
var p3 = new Promise(function (res, rej) { rej('first'); res('second'); rej('third'); });
p3.catch(function (v) { log.push('p3 ' + v); });
new Promise(function (res, rej) {
    log.push('executor sync ' + typeof res + ' ' + typeof rej + ' ' + res.length + ' ' + rej.length);
});
try {
    new Promise(42);
} catch (e) {
    log.push('non-callable executor ' + (e instanceof TypeError));
}
try {
    Promise(function () {});
} catch (e) {
    log.push('call without new ' + (e instanceof TypeError));
}
var thrownObj = { custom: true };
new Promise(function () { throw thrownObj; }).catch(function (e) { log.push('thrown identity ' + (e === thrownObj)); });
log.push('sync end');
setTimeout(function () { console.log(log.join('\n')); }, 5);

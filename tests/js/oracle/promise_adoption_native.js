// Resolving with a native promise costs two extra turns (NewPromiseResolveThenableJob, then
// the reaction): the counter shows exactly where each adopted value lands.
var log = [];
var tick = 0;
function counter() {
    if (tick < 8) {
        log.push('t' + tick);
        tick++;
        Promise.resolve().then(counter);
    }
}
Promise.resolve().then(counter);
new Promise(function (resolve) { resolve(Promise.resolve('inner')); }).then(function (v) { log.push('executor adopt ' + v); });
Promise.resolve().then(function () { return Promise.resolve('ret'); }).then(function (v) { log.push('handler adopt ' + v); });
Promise.resolve().then(function () { return 'plain'; }).then(function (v) { log.push('handler plain ' + v); });
var pending;
var outer = new Promise(function (resolve) { pending = resolve; });
outer.then(function (v) { log.push('late adopt ' + v); });
Promise.resolve().then(function () { pending(Promise.resolve('late')); });
Promise.resolve(Promise.resolve('same')).then(function (v) { log.push('Promise.resolve(p) ' + v); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

// Resolving with a non-promise thenable: the then is called in a job (one turn), and the
// value arrives when the thenable calls resolve.
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
var syncThenable = {
    then: function (resolve) {
        log.push('sync thenable then called');
        resolve('sync');
    }
};
var asyncThenable = {
    then: function (resolve) {
        log.push('async thenable then called');
        Promise.resolve().then(function () { resolve('async'); });
    }
};
Promise.resolve(syncThenable).then(function (v) { log.push('got ' + v); });
new Promise(function (r) { r(asyncThenable); }).then(function (v) { log.push('got ' + v); });
Promise.resolve().then(function () { return syncThenable; }).then(function (v) { log.push('handler got ' + v); });
var nested = { then: function (resolve) { resolve(syncThenable); } };
Promise.resolve(nested).then(function (v) { log.push('nested got ' + v); });
log.push('sync end');
setTimeout(function () { console.log(log.join('\n')); }, 5);

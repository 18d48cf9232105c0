// The turn at which finally's outcome arrives, compared with then, against a counter.
var log = [];
var tick = 0;
function counter() {
    if (tick < 10) {
        log.push('t' + tick);
        tick++;
        Promise.resolve().then(counter);
    }
}
Promise.resolve().then(counter);
Promise.resolve(1).finally(function () { log.push('finally cb'); }).then(function () { log.push('after finally'); });
Promise.resolve(1).then(function () { log.push('then cb'); }).then(function () { log.push('after then'); });
Promise.reject(2).finally(function () { log.push('finally rej cb'); }).catch(function () { log.push('after finally rej'); });
Promise.resolve(3).finally(function () { return Promise.resolve(); }).then(function () { log.push('after finally returning promise'); });
Promise.resolve(4).finally(function () { return { then: function (r) { r(); } }; }).then(function () { log.push('after finally returning thenable'); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

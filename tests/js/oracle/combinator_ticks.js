// The turn at which each combinator settles for already-resolved inputs, against a counter.
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
Promise.all([1, Promise.resolve(2)]).then(function () { log.push('all'); });
Promise.allSettled([1, Promise.reject(2)]).then(function () { log.push('allSettled'); });
Promise.any([Promise.reject(1), 2]).then(function () { log.push('any'); });
Promise.race([Promise.resolve(1), 2]).then(function () { log.push('race'); });
Promise.all([]).then(function () { log.push('all empty'); });
Promise.allSettled([]).then(function () { log.push('allSettled empty'); });
Promise.any([]).catch(function () { log.push('any empty'); });
Promise.any([Promise.reject(1)]).catch(function () { log.push('any rejected'); });
Promise.all([Promise.reject(1)]).catch(function () { log.push('all rejected'); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

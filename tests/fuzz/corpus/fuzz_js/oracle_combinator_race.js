// Promise.race: first to settle wins (fulfil or reject); empty input stays pending forever.
var log = [];
function after(ms, v, fail) {
    return new Promise(function (res, rej) { setTimeout(function () { (fail ? rej : res)(v); }, ms); });
}
Promise.race([after(100, 'slow'), after(20, 'fast')]).then(function (v) { log.push('race ' + v); });
Promise.race([after(100, 'slow'), after(20, 'fail', true)]).catch(function (v) { log.push('race rejected ' + v); });
Promise.race([after(5, 'timer'), 'plain']).then(function (v) { log.push('plain wins ' + v); });
var settled = false;
Promise.race([]).then(function () { settled = true; }, function () { settled = true; });
Promise.race([Promise.resolve('first'), Promise.resolve('second')]).then(function (v) { log.push('resolved order ' + v); });
setTimeout(function () { log.push('empty settled ' + settled); console.log(log.join('\n')); }, 200);

// Twenty timers with the same delay, and a second batch scheduled from a timer callback,
// fire in scheduling order.
var log = [];
var i;
for (i = 0; i < 20; i++) {
    setTimeout((function (i) { return function () { log.push('a' + i); }; })(i), 10);
}
setTimeout(function () {
    for (var j = 0; j < 10; j++) {
        setTimeout((function (j) { return function () { log.push('b' + j); }; })(j), 0);
    }
    setTimeout(function () { console.log(log.join(' ')); }, 10);
}, 20);

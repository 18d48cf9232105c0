// Two then-chains interleave one link per turn; a third chain starting later joins in.
var log = [];
function chain(name, n) {
    var p = Promise.resolve(0);
    for (var i = 1; i <= n; i++) {
        (function (i) {
            p = p.then(function (v) { log.push(name + i); return v + i; });
        })(i);
    }
    return p;
}
var a = chain('a', 5);
var b = chain('b', 5);
Promise.resolve().then(function () { chain('c', 3); });
Promise.all([a, b]).then(function (r) { log.push('sums ' + r.join(',')); });
setTimeout(function () { console.log(log.join(' ')); }, 5);

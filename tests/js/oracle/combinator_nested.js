// Combinators nested ten deep over mixed inputs, and 1,000 mixed inputs at once.
var log = [];
function build(depth) {
    if (depth === 0) {
        return Promise.resolve(depth);
    }
    return Promise.all([build(depth - 1), depth, Promise.race([Promise.resolve(depth)])]).then(function (v) {
        return v[0] + v[1] + v[2];
    });
}
build(10).then(function (v) { log.push('nested sum ' + v); });
var inputs = [];
var expected = 0;
for (var i = 0; i < 1000; i++) {
    if (i % 3 === 0) {
        inputs.push(i);
    } else if (i % 3 === 1) {
        inputs.push(Promise.resolve(i));
    } else {
        inputs.push({ then: (function (i) { return function (r) { r(i); }; })(i) });
    }
    expected += i;
}
Promise.all(inputs).then(function (v) {
    var sum = 0;
    for (var j = 0; j < v.length; j++) {
        sum += v[j];
    }
    log.push('1000 inputs ' + v.length + ' sum ok ' + (sum === expected));
});
Promise.allSettled(inputs).then(function (v) { log.push('allSettled ' + v.length + ' ' + v[999].status); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

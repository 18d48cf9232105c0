// Promise.all: values in input order, plain values and thenables mixed, first rejection
// wins, empty input fulfils with [], arrays read by index and user iterables honoured.
var log = [];
var late;
var pl = new Promise(function (r) { late = r; });
Promise.all([Promise.resolve(1), 2, pl, { then: function (r) { r(4); } }]).then(function (v) {
    log.push('all ' + JSON.stringify(v) + ' isArray ' + Array.isArray(v));
});
setTimeout(function () { late(3); }, 5);
Promise.all([]).then(function (v) { log.push('empty ' + JSON.stringify(v)); });
Promise.all([Promise.resolve(1), Promise.reject(new Error('first')), Promise.reject(new Error('second'))]).catch(function (e) {
    log.push('rejected ' + e.message);
});
var it = {};
it[Symbol.iterator] = function () {
    var i = 0;
    return { next: function () { i++; return i <= 3 ? { value: i * 10, done: false } : { value: undefined, done: true }; } };
};
Promise.all(it).then(function (v) { log.push('iterable ' + JSON.stringify(v)); });
Promise.all(42).catch(function (e) { log.push('non-iterable ' + (e instanceof TypeError)); });
var sparse = [1, , 3];
Promise.all(sparse).then(function (v) { log.push('sparse ' + v.length + ' ' + (v[1] === undefined)); });
setTimeout(function () { console.log(log.join('\n')); }, 20);

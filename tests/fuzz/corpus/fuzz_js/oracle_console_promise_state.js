// console.log shows a promise's state and value as Node does, without marking a rejected
// promise handled: the unhandled rejection is still reported at the end of the checkpoint.
process.on('unhandledRejection', function (reason) {
    console.log('unhandledRejection', reason);
});
var rejected = Promise.reject(42);
console.log(rejected);
console.log(Promise.resolve(4), new Promise(function () {}), Promise.resolve());
console.log({p: Promise.resolve({a: [1, 2]}), q: [Promise.resolve('s'), Promise.resolve(null)]});
console.log('%o', Promise.resolve([1]));
var chained = Promise.resolve(1).then(function (v) {
    return v + 1;
});
console.log(chained);
setTimeout(function () {
    console.log(chained, Object.create(Promise.prototype) instanceof Promise);
}, 5);

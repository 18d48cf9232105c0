// events.on(emitter, name): an async iterator (driven through next(), as Duktape has no
// for-await) yielding each emission's arguments, buffering early ones, rejecting on 'error'
// and ending on return().
var EventEmitter = require('events');
var e = new EventEmitter();
var it = EventEmitter.on(e, 'data');
var log = [];
console.log(typeof it.next, typeof it[Symbol.asyncIterator], it[Symbol.asyncIterator]() === it,
    e.listenerCount('data'), e.listenerCount('error'));
e.emit('data', 1, 'a');
e.emit('data', 2);
it.next().then(function (r) { log.push('first ' + JSON.stringify(r)); });
it.next().then(function (r) { log.push('second ' + JSON.stringify(r)); });
var third = it.next();
third.then(function (r) { log.push('third ' + JSON.stringify(r)); });
e.emit('data', 3);
var fourth = it.next();
fourth.then(null, function (err) { log.push('fourth rejected ' + err.message); });
e.emit('error', new Error('bad'));
it.next().then(function (r) { log.push('after error ' + JSON.stringify(r)); });
var it2 = EventEmitter.on(e, 'x');
it2.next().then(function (r) { log.push('pending at return ' + JSON.stringify(r)); });
it2['return']().then(function (r) {
    log.push('return ' + JSON.stringify(r) + ' listeners ' + e.listenerCount('x'));
});
setTimeout(function () { console.log(log.join('\n')); }, 10);

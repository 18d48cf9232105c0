// process is an EventEmitter instance: the full emitter API, Node's own fields, and a
// replaced process.emit sees the runtime's own events.
var EventEmitter = require('events');
console.log(process instanceof EventEmitter, typeof process._events, typeof process._eventsCount,
    process.constructor.name, Object.getPrototypeOf(Object.getPrototypeOf(process)) === EventEmitter.prototype);
function w() {}
process.on('foo', w);
console.log(process.listenerCount('foo'), process.rawListeners('foo')[0] === w, process.eventNames().indexOf('foo') >= 0);
process.once('foo', function (v) { console.log('once foo', v); });
process.emit('foo', 1);
process.emit('foo', 2);
process.removeAllListeners('foo');
var seen = [];
var emit = process.emit;
process.emit = function (name) {
    seen.push(String(name));
    return emit.apply(this, arguments);
};
process.on('exit', function (code) { console.log('exit', code, seen.join(',')); });
setTimeout(function () { console.log('timer'); }, 5);

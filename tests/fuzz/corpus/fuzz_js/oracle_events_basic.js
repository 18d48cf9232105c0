// events: EventEmitter's listener bookkeeping as Node's (order, once wrappers, newListener /
// removeListener, _events layout, listenerCount with a listener, eventNames with symbols).
var EventEmitter = require('events');
var log = [];
console.log(EventEmitter === require('node:events'), EventEmitter.EventEmitter === EventEmitter,
    typeof EventEmitter.once, EventEmitter.defaultMaxListeners, typeof EventEmitter.errorMonitor,
    String(EventEmitter.errorMonitor), EventEmitter.captureRejectionSymbol === Symbol.for('nodejs.rejection'));
var e = new EventEmitter();
console.log(e);
e.on('newListener', function (name, fn) { log.push('newListener ' + String(name) + ' ' + fn.name); });
e.on('removeListener', function (name, fn) { log.push('removeListener ' + String(name) + ' ' + fn.name); });
function a(x) { log.push('a ' + x + ' ' + (this === e)); }
function b(x) { log.push('b ' + x); }
function c(x) { log.push('c ' + x); }
e.on('x', a);
console.log(typeof e._events.x, e._eventsCount);
e.once('x', b);
e.prependListener('x', c);
e.prependOnceListener('x', function first(x) { log.push('first ' + x); });
console.log(Array.isArray(e._events.x), e.listenerCount('x'), e.listenerCount('x', b), e.listenerCount('x', a));
console.log(e.listeners('x').map(function (f) { return f.name; }).join(','));
console.log(e.rawListeners('x').map(function (f) { return f.name + (f.listener ? '->' + f.listener.name : ''); }).join(','));
console.log(e.emit('x', 1), e.emit('x', 2), e.emit('nothing'));
var sym = Symbol('s');
e.on(sym, a);
console.log(e.eventNames().map(String).join(','));
e.off('x', a);
e.removeAllListeners('x');
e.removeAllListeners();
console.log(e.eventNames().length, e._eventsCount);
console.log(log.join('\n'));
try { e.on('y', 'nope'); } catch (err) { console.log(err.name, err.code, err.message); }
try { e.setMaxListeners(-1); } catch (err) { console.log(err.name, err.code, err.message); }
try { EventEmitter.defaultMaxListeners = 'x'; } catch (err) { console.log(err.name, err.code, err.message); }
console.log(e.getMaxListeners(), e.setMaxListeners(3) === e, e.getMaxListeners());
// Removing during emit does not affect the current emission.
var f = new EventEmitter();
f.on('z', function one() { log2.push('one'); f.removeListener('z', two); });
function two() { log2.push('two'); }
f.on('z', two);
var log2 = [];
f.emit('z'); f.emit('z');
console.log(log2.join(','));
// Inheritance the old way.
function Sub() { EventEmitter.call(this); }
Sub.prototype = Object.create(EventEmitter.prototype);
var s = new Sub();
s.on('q', function (v) { console.log('sub got', v); });
s.emit('q', 42);
console.log(s instanceof EventEmitter, Object.keys(s).join(','));

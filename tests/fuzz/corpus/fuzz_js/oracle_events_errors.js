// events: 'error' with no listener throws the error itself, or ERR_UNHANDLED_ERROR naming a
// non-Error; errorMonitor listeners see it first; captureRejections routes async failures.
var EventEmitter = require('events');
var e = new EventEmitter();
e.on(EventEmitter.errorMonitor, function (err) { console.log('monitor', err && err.message || err); });
try { e.emit('error', new Error('plain')); } catch (err) { console.log('thrown', err.message); }
try { e.emit('error', 'text'); } catch (err) { console.log(err.name, err.code, err.message, err.context); }
try { e.emit('error', { a: 1 }); } catch (err) { console.log(err.message); }
try { e.emit('error'); } catch (err) { console.log(err.message); }
e.on('error', function (err) { console.log('handled', err.message); });
console.log(e.emit('error', new Error('with listener')));
var c = new EventEmitter({ captureRejections: true });
c.on('event', function () { return Promise.reject(new Error('async failure')); });
c.on('error', function (err) { console.log('captured', err.message); });
c.emit('event');
var d = new EventEmitter({ captureRejections: true });
d[Symbol.for('nodejs.rejection')] = function (err, name, arg) { console.log('rejection hook', err.message, name, arg); };
d.on('go', function () { return Promise.reject(new Error('hooked')); });
d.emit('go', 7);
try { new EventEmitter({ captureRejections: 'yes' }); } catch (err) { console.log(err.code, err.message); }
EventEmitter.once(e, 'ready').then(function (args) { console.log('once resolved', args); });
e.emit('ready', 1, 2);
var g = new EventEmitter();
EventEmitter.once(g, 'never').then(null, function (err) { console.log('once rejected', err.message); });
g.emit('error', new Error('first'));
console.log(g.listenerCount('never'), g.listenerCount('error'));

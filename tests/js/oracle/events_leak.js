// events: more than maxListeners listeners give one MaxListenersExceededWarning per event
// name through process.emitWarning, with emitter, type and count.
var EventEmitter = require('events');
process.on('warning', function (w) {
    console.log(w.name, w.message, w.emitter === e, w.type, w.count);
});
var e = new EventEmitter();
for (var i = 0; i < 12; i++) {
    e.on('data', function () {});
}
e.setMaxListeners(1);
e.on('end', function () {});
e.on('end', function () {});
e.setMaxListeners(0);
for (var j = 0; j < 20; j++) {
    e.on('many', function () {});
}
console.log('sync done', e.listenerCount('data'));

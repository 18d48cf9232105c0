var ev = require('events'), util = require('util'), tp = require('timers/promises');
var e = new ev.EventEmitter();
e.once('x', function (v) { console.log(util.inspect({ v: v, a: [1, , 3] })); });
e.emit('x', new Error('boom'));
tp.setTimeout(1, 'late').then(console.log);
console.log(require.resolve('events'), typeof require('node:timers').setTimeout);
try { require('./nope'); } catch (err) { console.log(err.code); }

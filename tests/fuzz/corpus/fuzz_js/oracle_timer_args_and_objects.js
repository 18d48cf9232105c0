// Extra arguments are forwarded; Timeout objects convert to their numeric id; clearTimeout
// accepts the number too; setTimeout's this is the Timeout object.
var log = [];
var t = setTimeout(function (a, b, c) {
    log.push('args ' + a + ' ' + b + ' ' + (c === undefined) + ' ' + arguments.length);
}, 50, 'one', 2);
var viaNumber = setTimeout(function () { log.push('never'); }, 60);
var id = +viaNumber;
log.push('numeric id ' + (typeof id) + ' ' + (id > 0) + ' ' + (id === Math.floor(id)));
clearTimeout(id);
var self;
self = setTimeout(function () { log.push('this is timeout ' + (this === self)); }, 50);
log.push('hasRef ' + t.hasRef());
log.push('unref returns self ' + (t.unref() === t) + ' ' + t.hasRef());
log.push('ref returns self ' + (t.ref() === t) + ' ' + t.hasRef());
var imm = setImmediate(function (x) { log.push('immediate arg ' + x); }, 'z');
log.push('immediate hasRef ' + imm.hasRef());
var cancelled = setImmediate(function () { log.push('never immediate'); });
clearImmediate(cancelled);
setTimeout(function () { console.log(log.join('\n')); }, 200);

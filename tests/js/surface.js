// Surface check: every global evljs provides, compared with Node by running this same
// script under both (run_oracle.sh): typeof, length, name, the order of length and name,
// and property attributes. Members newer than Node 20 (Promise.withResolvers, Promise.try)
// are checked against the specification instead, printing the same line when absent.
var out = [];
function attrs(d) {
    if (!d) {
        return 'absent';
    }
    var s = ('get' in d || 'set' in d) ? 'accessor' : 'data w=' + d.writable;
    return s + ' e=' + d.enumerable + ' c=' + d.configurable;
}
function fnInfo(f) {
    if (typeof f !== 'function') {
        return typeof f;
    }
    var names = Object.getOwnPropertyNames(f).filter(function (n) { return n === 'length' || n === 'name'; });
    return 'function length=' + f.length + ' name=' + JSON.stringify(f.name) + ' own=' + names.join(',') +
        ' lengthAttrs=(' + attrs(Object.getOwnPropertyDescriptor(f, 'length')) + ')' +
        ' nameAttrs=(' + attrs(Object.getOwnPropertyDescriptor(f, 'name')) + ')';
}
function member(label, obj, key) {
    var d = null;
    for (var o = obj; o && !d; o = Object.getPrototypeOf(o)) {
        d = Object.getOwnPropertyDescriptor(o, key);
    }
    var v = d && !('get' in d) ? d.value : (d && d.get ? obj[key] : undefined);
    out.push(label + ': ' + attrs(d) + ' ' + fnInfo(v));
}

var globals = ['Promise', 'AggregateError', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
    'setImmediate', 'clearImmediate', 'queueMicrotask', 'process', 'console'];
globals.forEach(function (n) { member('global.' + n, globalThis, n); });

['resolve', 'reject', 'all', 'allSettled', 'any', 'race'].forEach(function (n) { member('Promise.' + n, Promise, n); });
member('Promise.prototype', Promise, 'prototype');
['then', 'catch', 'finally', 'constructor'].forEach(function (n) { member('Promise.prototype.' + n, Promise.prototype, n); });
var tag = Object.getOwnPropertyDescriptor(Promise.prototype, Symbol.toStringTag);
out.push('Promise.prototype[@@toStringTag]: ' + attrs(tag) + ' ' + (tag && tag.value));
out.push('Promise.prototype.constructor === Promise: ' + (Promise.prototype.constructor === Promise));
out.push('Object.getPrototypeOf(Promise.prototype) === Object.prototype: ' + (Object.getPrototypeOf(Promise.prototype) === Object.prototype));

function specCheck(name, length) {
    var f = Promise[name];
    if (f === undefined) {
        return 'ok';
    }
    var d = Object.getOwnPropertyDescriptor(Promise, name);
    var own = Object.getOwnPropertyNames(f).filter(function (n) { return n === 'length' || n === 'name'; }).join(',');
    var ok = typeof f === 'function' && f.length === length && f.name === name && own === 'length,name' &&
        d.writable && !d.enumerable && d.configurable;
    return ok ? 'ok' : 'mismatch ' + fnInfo(f) + ' ' + attrs(d);
}
out.push('Promise.withResolvers (if present): ' + specCheck('withResolvers', 0));
out.push('Promise.try (if present): ' + specCheck('try', 1));

out.push('AggregateError.prototype: ' + attrs(Object.getOwnPropertyDescriptor(AggregateError, 'prototype')));
out.push('AggregateError extends Error: ' + (Object.getPrototypeOf(AggregateError) === Error) + ' ' +
    (Object.getPrototypeOf(AggregateError.prototype) === Error.prototype));
member('AggregateError.prototype.name', AggregateError.prototype, 'name');
out.push('AggregateError.prototype.name value: ' + AggregateError.prototype.name + ' message: ' + JSON.stringify(AggregateError.prototype.message));
var ae = new AggregateError([1, 2], 'msg');
out.push('new AggregateError: errors=' + attrs(Object.getOwnPropertyDescriptor(ae, 'errors')) +
    ' message=' + attrs(Object.getOwnPropertyDescriptor(ae, 'message')) + ' keys=' + Object.keys(ae).join(',') +
    ' ' + String(ae) + ' ' + ae.errors.join(','));
var ae2 = AggregateError([3]);
out.push('AggregateError called: ' + (ae2 instanceof AggregateError) + ' ' + ae2.errors.length + ' ' + JSON.stringify(ae2.message));

var t = setTimeout(function () {}, 1000);
// Only type and length for the timer objects' methods: Node's names there are incidental
// (Timeout#close has an empty name).
['ref', 'unref', 'hasRef', 'refresh', 'close'].forEach(function (n) { out.push('Timeout#' + n + ': ' + typeof t[n] + ' ' + t[n].length); });
out.push('Timeout#@@toPrimitive: ' + typeof t[Symbol.toPrimitive] + ' ' + typeof (+t));
clearTimeout(t);
var im = setImmediate(function () {});
['ref', 'unref', 'hasRef'].forEach(function (n) { out.push('Immediate#' + n + ': ' + typeof im[n] + ' ' + im[n].length); });
clearImmediate(im);

['nextTick', 'exit', 'emitWarning', 'on', 'once', 'off', 'emit', 'listenerCount'].forEach(function (n) {
    out.push('process.' + n + ': ' + fnInfo(process[n]));
});
out.push('process.argv: ' + Array.isArray(process.argv) + ' ' + typeof process.argv[0]);
out.push('process.env: ' + typeof process.env + ' ' + typeof process.env.PATH);
out.push('process.platform: ' + typeof process.platform + ' ' + process.platform);
out.push('process.exitCode: ' + typeof process.exitCode);

['log', 'info', 'debug', 'warn', 'error', 'trace', 'assert', 'count', 'countReset', 'group', 'groupCollapsed',
    'groupEnd', 'table', 'time', 'timeEnd', 'timeLog', 'dir'].forEach(function (n) {
    member('console.' + n, console, n);
});
console.log(out.join('\n'));

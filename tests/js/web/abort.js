// AbortController / AbortSignal (WHATWG DOM §3): first abort wins, default reasons,
// throwIfAborted, onabort, abort algorithms before the event, the signal option of
// addEventListener, AbortSignal.abort/any and the interface shape.
var h = require('./_harness.js');
var check = h.check;
var log = [];

var c = new AbortController();
var s = c.signal;
check('same signal', function () { return c.signal === s; });
check('initial', function () { return [s.aborted, s.reason, s.onabort]; });
s.onabort = function (e) { log.push('onabort:' + e.type + ':' + e.isTrusted + ':' + (e.target === s) + ':' + (this === s)); };
s.addEventListener('abort', function (e) { log.push('listener:' + s.aborted + ':' + (e instanceof Event)); });
c.abort('first');
c.abort('second');
check('reason first wins', function () { return s.reason; });
console.log('events ' + log.join(' '));
check('throwIfAborted', function () { try { s.throwIfAborted(); } catch (e) { return 'threw ' + e; } return 'no throw'; });
check('throwIfAborted not aborted', function () { return new AbortController().signal.throwIfAborted(); });

var c2 = new AbortController();
c2.abort();
check('default reason', function () { return [h.errName(c2.signal.reason), c2.signal.reason.message]; });
var c3 = new AbortController();
c3.abort(undefined);
check('undefined reason', function () { return h.errName(c3.signal.reason); });
var c4 = new AbortController();
c4.abort(null);
check('null reason', function () { return c4.signal.reason; });

check('AbortSignal.abort()', function () { var a = AbortSignal.abort(); return [a.aborted, h.errName(a.reason)]; });
check('AbortSignal.abort(r)', function () { return AbortSignal.abort(42).reason; });
check('new AbortSignal', function () { return new AbortSignal(); });
check('AbortController()', function () { return AbortController(); });

// The signal option of addEventListener removes the listener on abort.
var t = new EventTarget();
var ctl = new AbortController();
var n = 0;
t.addEventListener('x', function () { n++; }, { signal: ctl.signal });
t.dispatchEvent(new Event('x'));
ctl.abort();
t.dispatchEvent(new Event('x'));
check('signal option', function () { return n; });
check('already aborted signal option', function () {
    var m = 0;
    t.addEventListener('y', function () { m++; }, { signal: AbortSignal.abort() });
    t.dispatchEvent(new Event('y'));
    return m;
});
check('bad signal option', function () { return t.addEventListener('x', function () {}, { signal: {} }); });
check('null signal option', function () { return t.addEventListener('x', function () {}, { signal: null }); });

// Abort algorithms (here: listener removal) run before the abort event fires.
var t2 = new EventTarget();
var c5 = new AbortController();
var order = [];
c5.signal.addEventListener('abort', function () {
    order.push('abort event');
    t2.dispatchEvent(new Event('z'));
});
t2.addEventListener('z', function () { order.push('z listener'); }, { signal: c5.signal });
c5.abort();
check('algorithms first', function () { return order; });

// onabort set to null removes the handler; a non-callable handler does nothing.
var c6 = new AbortController();
var hits = 0;
c6.signal.onabort = function () { hits++; };
c6.signal.onabort = null;
c6.abort();
check('onabort null', function () { return [hits, c6.signal.onabort]; });
var c7 = new AbortController();
c7.signal.onabort = 5;
check('onabort non-object', function () { return c7.signal.onabort; });

// AbortSignal.any.
var a1 = new AbortController(), a2 = new AbortController();
var any = AbortSignal.any([a1.signal, a2.signal]);
check('any initial', function () { return any.aborted; });
var anyLog = [];
any.addEventListener('abort', function () { anyLog.push('any:' + any.reason + ':' + a2.signal.aborted); });
a2.signal.addEventListener('abort', function () { anyLog.push('a2:' + any.aborted); });
a2.abort('r2');
a1.abort('r1');
check('any follows first', function () { return [any.aborted, any.reason]; });
check('any events', function () { return anyLog; });
check('any of aborted', function () {
    var x = AbortSignal.any([new AbortController().signal, AbortSignal.abort('early'), AbortSignal.abort('later')]);
    return [x.aborted, x.reason];
});
check('any empty', function () { return AbortSignal.any([]).aborted; });
check('any not signals', function () { return AbortSignal.any([{}]); });
check('any not iterable', function () { return AbortSignal.any(5); });
check('any no args', function () { return AbortSignal.any(); });
// A dependent of a dependent follows the original sources.
var b1 = new AbortController();
var d1 = AbortSignal.any([b1.signal]);
var d2 = AbortSignal.any([d1]);
b1.abort('deep');
check('nested any', function () { return [d1.reason, d2.reason]; });
// Reentrancy: while source listeners run, every dependent is already aborted.
var r1 = new AbortController();
var dep1 = AbortSignal.any([r1.signal]);
var dep2 = AbortSignal.any([r1.signal]);
var re = [];
r1.signal.addEventListener('abort', function () { re.push('source sees ' + dep1.aborted + ',' + dep2.aborted); });
dep1.addEventListener('abort', function () { re.push('dep1 sees ' + dep2.aborted); });
dep2.addEventListener('abort', function () { re.push('dep2'); });
r1.abort();
check('reentrant order', function () { return re; });
// Aborting a source from another source's listener.
var s1 = new AbortController(), s2 = new AbortController();
var both = AbortSignal.any([s1.signal, s2.signal]);
var bothEvents = 0;
both.addEventListener('abort', function () { bothEvents++; });
s1.signal.addEventListener('abort', function () { s2.abort('from listener'); });
s1.abort('s1');
check('reentrant abort', function () { return [both.reason, bothEvents, s2.signal.reason]; });

// Shape.
check('AbortController.prototype.abort', function () { return h.attrs(AbortController.prototype, 'abort'); });
check('signal attr', function () { return h.attrs(AbortController.prototype, 'signal'); });
check('aborted attr', function () { return h.attrs(AbortSignal.prototype, 'aborted'); });
check('reason attr', function () { return h.attrs(AbortSignal.prototype, 'reason'); });
check('onabort attr', function () { return h.attrs(AbortSignal.prototype, 'onabort'); });
check('throwIfAborted', function () { return h.attrs(AbortSignal.prototype, 'throwIfAborted'); });
check('static abort', function () { return h.attrs(AbortSignal, 'abort'); });
check('static timeout', function () { return h.attrs(AbortSignal, 'timeout'); });
check('static any', function () { return h.attrs(AbortSignal, 'any'); });
check('inherits EventTarget', function () { return [s instanceof EventTarget, Object.getPrototypeOf(AbortSignal) === EventTarget]; });
check('toStringTag', function () { return [Object.prototype.toString.call(s), Object.prototype.toString.call(c)]; });
check('wrong receiver aborted', function () { return Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted').get.call(new EventTarget()); });
check('wrong receiver abort', function () { return AbortController.prototype.abort.call(s); });

// EventTarget / Event / CustomEvent (WHATWG DOM §2): listener options, duplicates, object
// listeners, dispatch snapshot, capture order, once, passive, stopImmediatePropagation,
// re-dispatch, attributes, constants, conversions and wrong receivers.
var h = require('./_harness.js');
var check = h.check;
var log = [];

var t = new EventTarget();
function a(e) { log.push('a:' + e.eventPhase); }
function b(e) { log.push('b'); }
t.addEventListener('x', a);
t.addEventListener('x', a); // duplicate: ignored
t.addEventListener('x', a, true); // capture: distinct
t.addEventListener('x', a, { capture: true }); // duplicate of the capture one
t.addEventListener('x', { handleEvent: function (e) { log.push('obj:' + (this === obj2)); } });
var obj2 = { handleEvent: function (e) { log.push('obj2:' + (this === obj2)); } };
t.addEventListener('x', obj2);
t.addEventListener('x', null);
t.dispatchEvent(new Event('x'));
console.log('order ' + log.join(' '));

log = [];
t.removeEventListener('x', a, { capture: true });
t.removeEventListener('x', a, false);
t.dispatchEvent(new Event('x'));
console.log('after remove ' + log.join(' '));

// Capture listeners run before non-capture ones at the target, whatever the order added.
var t2 = new EventTarget();
log = [];
t2.addEventListener('y', function () { log.push('bubble1'); });
t2.addEventListener('y', function () { log.push('capture'); }, true);
t2.addEventListener('y', function () { log.push('bubble2'); });
t2.dispatchEvent(new Event('y'));
console.log('capture first ' + log.join(' '));

// Snapshot: added during dispatch do not run; removed during dispatch do not run.
var t3 = new EventTarget();
log = [];
function late() { log.push('late'); }
function removed() { log.push('removed'); }
t3.addEventListener('z', function () { log.push('first'); t3.addEventListener('z', late); t3.removeEventListener('z', removed); });
t3.addEventListener('z', removed);
t3.dispatchEvent(new Event('z'));
console.log('snapshot ' + log.join(' '));
log = [];
t3.dispatchEvent(new Event('z'));
console.log('second ' + log.join(' '));

// once: removed before invocation, so a re-entrant dispatch does not call it again.
var t4 = new EventTarget();
log = [];
t4.addEventListener('o', function () { log.push('once'); t4.dispatchEvent(new Event('o')); }, { once: true });
t4.dispatchEvent(new Event('o'));
t4.dispatchEvent(new Event('o'));
console.log('once ' + log.join(' '));

// stopImmediatePropagation, stopPropagation, cancelBubble.
var t5 = new EventTarget();
log = [];
t5.addEventListener('s', function (e) { log.push('1'); e.stopImmediatePropagation(); });
t5.addEventListener('s', function () { log.push('2'); });
t5.dispatchEvent(new Event('s'));
var t5b = new EventTarget();
t5b.addEventListener('s', function (e) { log.push('3'); e.stopPropagation(); });
t5b.addEventListener('s', function () { log.push('4'); });
t5b.dispatchEvent(new Event('s'));
var pre = new Event('s');
pre.cancelBubble = true;
t5b.dispatchEvent(pre);
console.log('stop ' + log.join(' ') + ' cancelBubble after=' + pre.cancelBubble);

// preventDefault, passive, returnValue and the dispatch result.
var t6 = new EventTarget();
t6.addEventListener('c', function (e) { e.preventDefault(); });
check('not cancelable', function () { return t6.dispatchEvent(new Event('c')); });
check('cancelable', function () { return t6.dispatchEvent(new Event('c', { cancelable: true })); });
var t7 = new EventTarget();
var seen = [];
t7.addEventListener('p', function (e) { e.preventDefault(); seen.push(e.defaultPrevented); e.returnValue = false; seen.push(e.returnValue); }, { passive: true });
check('passive', function () { return t7.dispatchEvent(new Event('p', { cancelable: true })); });
console.log('passive saw ' + seen.join(','));
var rv = new Event('r', { cancelable: true });
rv.returnValue = false;
check('returnValue=false', function () { return [rv.defaultPrevented, rv.returnValue]; });

// During dispatch: target, currentTarget, eventPhase, composedPath; afterwards reset.
var t8 = new EventTarget();
var during;
t8.addEventListener('d', function (e) {
    during = [e.target === t8, e.currentTarget === t8, e.srcElement === t8, e.eventPhase, e.composedPath().length, this === t8];
});
var de = new Event('d');
t8.dispatchEvent(de);
check('during', function () { return during; });
check('after', function () { return [de.target === t8, de.currentTarget, de.eventPhase, de.composedPath().length]; });

// Re-dispatching an event that is being dispatched throws InvalidStateError.
var t9 = new EventTarget();
var inner;
t9.addEventListener('q', function (e) { try { t9.dispatchEvent(e); } catch (err) { inner = h.errName(err); } });
t9.dispatchEvent(new Event('q'));
check('re-dispatch', function () { return inner; });
check('dispatch twice sequentially', function () { var e = new Event('q'); t9.dispatchEvent(e); return t9.dispatchEvent(e); });

// Attributes and constants.
var ev = new Event('type', { bubbles: 1, cancelable: 'yes', composed: {} });
check('init', function () { return [ev.type, ev.bubbles, ev.cancelable, ev.composed, ev.defaultPrevented, ev.eventPhase, ev.target, ev.isTrusted, ev.returnValue, ev.cancelBubble]; });
check('timeStamp', function () { return typeof ev.timeStamp === 'number' && ev.timeStamp >= 0 && ev.timeStamp <= performance.now(); });
check('constants', function () { return [Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE, ev.AT_TARGET]; });
check('isTrusted own', function () { return h.attrs(ev, 'isTrusted'); });
check('isTrusted shared getter', function () {
    return Object.getOwnPropertyDescriptor(ev, 'isTrusted').get === Object.getOwnPropertyDescriptor(new Event('b'), 'isTrusted').get;
});
check('type attr', function () { return h.attrs(Event.prototype, 'type'); });
check('returnValue attr', function () { return h.attrs(Event.prototype, 'returnValue'); });
check('composedPath op', function () { return h.attrs(Event.prototype, 'composedPath'); });
check('initEvent op', function () { return h.attrs(Event.prototype, 'initEvent'); });
check('addEventListener op', function () { return h.attrs(EventTarget.prototype, 'addEventListener'); });
check('removeEventListener op', function () { return h.attrs(EventTarget.prototype, 'removeEventListener'); });
check('dispatchEvent op', function () { return h.attrs(EventTarget.prototype, 'dispatchEvent'); });
check('Event.length', function () { return [Event.length, CustomEvent.length, EventTarget.length]; });
check('toStringTag', function () { return [Object.prototype.toString.call(ev), Object.prototype.toString.call(t), Object.prototype.toString.call(new CustomEvent('c'))]; });
var ie = new Event('a');
ie.initEvent('b', true, true);
check('initEvent', function () { return [ie.type, ie.bubbles, ie.cancelable]; });

// CustomEvent.
var ce = new CustomEvent('c', { detail: { n: 1 } });
check('detail', function () { return ce.detail.n; });
check('default detail', function () { return new CustomEvent('c').detail; });
check('instanceof', function () { return ce instanceof Event; });
ce.initCustomEvent('d', false, true, 5);
check('initCustomEvent', function () { return [ce.type, ce.cancelable, ce.detail]; });

// Errors and conversions.
check('new Event()', function () { return new Event(); });
check('Event()', function () { return Event('x'); });
check('type conversion', function () { return new Event(null).type; });
check('type symbol', function () { return new Event(Symbol()); });
check('init not object', function () { return new Event('x', 5); });
check('add non-callable', function () { return t.addEventListener('x', 5); });
check('add 1 arg', function () { return t.addEventListener('x'); });
check('dispatch non-event', function () { return t.dispatchEvent({ type: 'x' }); });
check('wrong receiver add', function () { return EventTarget.prototype.addEventListener.call({}, 'x', a); });
check('wrong receiver type', function () { return Object.getOwnPropertyDescriptor(Event.prototype, 'type').get.call({}); });
check('wrong receiver detail', function () { return Object.getOwnPropertyDescriptor(CustomEvent.prototype, 'detail').get.call(new Event('x')); });
check('handleEvent not callable', function () {
    var tt = new EventTarget();
    tt.addEventListener('h', {});
    return tt.dispatchEvent(new Event('h'));
});

// ES5-style subclasses.
function MyTarget() { EventTarget.call(this); }
MyTarget.prototype = Object.create(EventTarget.prototype);
var mt = new MyTarget();
var got = 0;
mt.addEventListener('m', function () { got++; });
function MyEvent(type) { Event.call(this, type); }
MyEvent.prototype = Object.create(Event.prototype);
mt.dispatchEvent(new MyEvent('m'));
check('subclass', function () { return got; });

// Listener exceptions: dispatch continues, the error reaches 'uncaughtException' later.
process.on('uncaughtException', function (err) { console.log('uncaught ' + err.message); });
var t10 = new EventTarget();
log = [];
t10.addEventListener('e', function () { throw new Error('listener failed'); });
t10.addEventListener('e', function () { log.push('second ran'); });
t10.dispatchEvent(new Event('e'));
console.log('after throw ' + log.join(' '));

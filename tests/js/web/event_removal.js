// Listener removal and re-addition during dispatch (DOM "inner invoke": a removed listener
// is skipped through its removed flag; a re-added one is a new entry outside the snapshot),
// handleEvent looked up at each call, and a signal aborting a later listener mid-dispatch.
var log = [];
var t = new EventTarget();
function self(e) {
    log.push('self');
    t.removeEventListener('a', self);
    t.addEventListener('a', self);
}
function later() { log.push('later'); }
t.addEventListener('a', self);
t.addEventListener('a', later);
t.dispatchEvent(new Event('a'));
console.log('first: ' + log.join(','));
log = [];
t.dispatchEvent(new Event('a'));
console.log('second: ' + log.join(','));

// Removing and re-adding a later listener during dispatch: the old entry is skipped, the new
// one is outside the snapshot.
var t2 = new EventTarget();
log = [];
function b() { log.push('b'); }
t2.addEventListener('x', function () { log.push('a'); t2.removeEventListener('x', b); t2.addEventListener('x', b); });
t2.addEventListener('x', b);
t2.dispatchEvent(new Event('x'));
console.log('re-added later listener: ' + log.join(','));
log = [];
t2.dispatchEvent(new Event('x'));
console.log('next dispatch: ' + log.join(','));

// handleEvent is read at each invocation.
var t3 = new EventTarget();
var obj = { handleEvent: function () { log.push('h1'); } };
t3.addEventListener('y', obj);
log = [];
t3.dispatchEvent(new Event('y'));
obj.handleEvent = function () { log.push('h2'); };
t3.dispatchEvent(new Event('y'));
console.log('handleEvent lookup: ' + log.join(','));

// An abort during dispatch removes a later listener added with that signal.
var t4 = new EventTarget();
var c = new AbortController();
log = [];
t4.addEventListener('z', function () { log.push('first'); c.abort(); });
t4.addEventListener('z', function () { log.push('signal listener'); }, { signal: c.signal });
t4.addEventListener('z', function () { log.push('third'); });
t4.dispatchEvent(new Event('z'));
console.log('abort mid-dispatch: ' + log.join(','));

// Removing a capture listener from a non-capture removal call does nothing.
var t5 = new EventTarget();
log = [];
function cap() { log.push('cap'); }
t5.addEventListener('w', cap, true);
t5.removeEventListener('w', cap);
t5.removeEventListener('w', cap, { capture: false });
t5.dispatchEvent(new Event('w'));
t5.removeEventListener('w', cap, { capture: true });
t5.dispatchEvent(new Event('w'));
console.log('capture-specific removal: ' + log.join(','));

// A once listener removed by an earlier listener does not run.
var t6 = new EventTarget();
log = [];
function onceL() { log.push('once'); }
t6.addEventListener('v', function () { log.push('remover'); t6.removeEventListener('v', onceL); });
t6.addEventListener('v', onceL, { once: true });
t6.dispatchEvent(new Event('v'));
console.log('once removed early: ' + log.join(','));

var ac = new AbortController();
ac.signal.addEventListener('abort', function () { console.log('aborted', ac.signal.reason.name); });
ac.abort();
var t = new EventTarget();
t.addEventListener('x', function (e) { console.log(e.type); });
t.dispatchEvent(new Event('x'));
console.log(typeof performance.now(), new DOMException('m', 'AbortError').code);

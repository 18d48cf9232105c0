// MessageChannel / MessagePort / MessageEvent (HTML channel messaging): structured cloning at
// post time, delivery as a task (after microtasks, one checkpoint per message), onmessage
// starting the port, start() for addEventListener, close(), transfer of ports through
// postMessage and structuredClone, errors and the interface shape.
var h = require('./_harness.js');
var check = h.check;
var log = [];

var ch = new MessageChannel();
check('ports', function () { return [ch.port1 instanceof MessagePort, ch.port2 instanceof EventTarget, ch.port1 === ch.port1, ch.port1 !== ch.port2]; });
check('new MessagePort', function () { return new MessagePort(); });
check('MessageChannel()', function () { return MessageChannel(); });

var obj = { a: [1, 2], d: new Date(5) };
ch.port1.postMessage(obj);
obj.a.push(3); // after posting: the clone is already taken
ch.port1.postMessage('second');
ch.port2.onmessage = function (e) {
    log.push('message ' + JSON.stringify(e.data) + ' type=' + e.type + ' trusted=' + e.isTrusted + ' target=' + (e.target === ch.port2) +
        ' origin=' + JSON.stringify(e.origin) + ' source=' + e.source + ' ports=' + e.ports.length + ' frozen=' + Object.isFrozen(e.ports) +
        ' class=' + Object.prototype.toString.call(e));
    Promise.resolve().then(function () { log.push('microtask after ' + JSON.stringify(e.data)); });
    // The next steps start from the last delivery, so a slow run of the main script (a
    // sanitizer build) cannot move a timer ahead of the deliveries.
    if (e.data === 'opts') {
        setTimeout(startCh2, 20);
    }
};
Promise.resolve().then(function () { log.push('microtask before delivery'); });
log.push('sync');

// addEventListener alone does not start a port; start() does.
var ch2 = new MessageChannel();
ch2.port1.addEventListener('message', function (e) { log.push('ch2 ' + e.data); });
ch2.port2.postMessage('queued until start');
function startCh2() {
    log.push('starting ch2');
    ch2.port1.start();
    ch2.port1.start();
    setTimeout(transferCh3, 20);
}

// Transfer of a port through postMessage: the receiver gets a working port, the original
// is detached (posting to it does nothing).
var ch3 = new MessageChannel();
var inner = new MessageChannel();
ch3.port2.onmessage = function (e) {
    var p = e.ports[0];
    log.push('ch3 got ports=' + e.ports.length + ' same=' + (p === e.data.port) + ' isPort=' + (p instanceof MessagePort) + ' original=' + (p === inner.port1));
    p.onmessage = function (ev) {
        log.push('transferred port got ' + ev.data);
        p.close();
        ch3.port2.close();
        inner.port2.close();
    };
};
function transferCh3() {
    ch3.port1.postMessage({ port: inner.port1 }, [inner.port1]);
    inner.port2.postMessage('via transferred port');
    check('post on detached port', function () { return inner.port1.postMessage('lost'); });
    setTimeout(closeAll, 40);
}

// Errors.
check('post no args', function () { return ch.port1.postMessage(); });
check('post function', function () { return ch.port1.postMessage(function () {}); });
check('transfer self', function () { return ch.port1.postMessage(1, [ch.port1]); });
check('transfer duplicate', function () { var c = new MessageChannel(); return ch.port1.postMessage(1, [c.port1, c.port1]); });
check('transfer options form', function () { var c = new MessageChannel(); ch.port1.postMessage('opts', { transfer: [c.port1] }); return 'ok'; });
check('wrong receiver', function () { return MessagePort.prototype.postMessage.call({}, 1); });
check('structuredClone port without transfer', function () { return structuredClone(new MessageChannel().port1); });
check('structuredClone port with transfer', function () {
    var c = new MessageChannel();
    var moved = structuredClone(c.port1, { transfer: [c.port1] });
    return [moved instanceof MessagePort, moved !== c.port1];
});
check('transfer detached port', function () {
    var c = new MessageChannel();
    structuredClone(null, { transfer: [c.port1] });
    return structuredClone(null, { transfer: [c.port1] });
});

// Posting to a closed channel drops the message silently.
var ch4 = new MessageChannel();
ch4.port2.onmessage = function () { log.push('ch4 should not be delivered'); };
ch4.port1.close();
ch4.port1.postMessage('dropped');
ch4.port2.close();

// MessageEvent constructor.
var ev = new MessageEvent('message', { data: { x: 1 }, origin: 'o', lastEventId: 'id', ports: [ch.port1] });
check('MessageEvent', function () { return [ev.type, ev.data.x, ev.origin, ev.lastEventId, ev.source, ev.ports.length, ev.isTrusted, ev instanceof Event]; });
check('MessageEvent defaults', function () { var m = new MessageEvent('m'); return [m.data, m.origin, m.lastEventId, m.source, m.ports.length]; });
check('MessageEvent bad ports', function () { return new MessageEvent('m', { ports: [{}] }); });
check('MessageEvent bad source', function () { return new MessageEvent('m', { source: {} }); });
check('MessageEvent()', function () { return new MessageEvent(); });

check('postMessage op', function () { return h.attrs(MessagePort.prototype, 'postMessage'); });
check('start op', function () { return h.attrs(MessagePort.prototype, 'start'); });
check('close op', function () { return h.attrs(MessagePort.prototype, 'close'); });
check('onmessage attr', function () { return h.attrs(MessagePort.prototype, 'onmessage'); });
check('port1 attr', function () { return h.attrs(MessageChannel.prototype, 'port1'); });
check('data attr', function () { return h.attrs(MessageEvent.prototype, 'data'); });
check('toStringTag', function () { return [Object.prototype.toString.call(ch), Object.prototype.toString.call(ch.port1)]; });

// Open ports with listeners keep the process alive until everything above is closed.
function closeAll() {
    ch.port1.close();
    ch2.port1.close();
}
process.on('exit', function () {
    console.log(log.join('\n'));
});

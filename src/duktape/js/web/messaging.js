/*
 * MessageChannel, MessagePort and MessageEvent (HTML §9.5 "Channel messaging"). Each message
 * is structured-cloned when posted and delivered as its own task on the loop (an immediate),
 * so a microtask checkpoint separates two deliveries, as in browsers and Node. Ports are
 * transferable through postMessage and structuredClone. As in Node, a started port keeps the
 * process alive while it is entangled, not closed, and has a 'message' listener; the
 * closing of either side fires 'close' at both. Called as fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var impl = web.impl;
    var SLOT = web.SLOT;
    var setImmediateFn = global.setImmediate;
    var setIntervalFn = global.setInterval;
    var clearIntervalFn = global.clearInterval;

    /* ---- MessageEvent ---- */

    function MessageEvent(type, eventInitDict) {
        web.checkConstruct(this, MessageEvent, new.target);
        if (arguments.length < 1) {
            throw web.codedError(TypeError, 'ERR_MISSING_ARGS', 'The "type" argument must be specified');
        }
        type = web.toDOMString(type);
        var dict = web.toDictionary(eventInitDict, 'MessageEventInit');
        var c = web.createEvent(MessageEvent, type, ['MessageEvent'], {
            bubbles: !!dict.bubbles, cancelable: !!dict.cancelable, composed: !!dict.composed
        });
        /* createEvent builds a fresh object; a constructor must fill `this`, so the state
         * and the unforgeable isTrusted are moved over. */
        var s = c.state;
        web.setSlot(this, s);
        Object.defineProperty(this, 'isTrusted', Object.getOwnPropertyDescriptor(c.event, 'isTrusted'));
        /* WebIDL reads dictionary members in lexicographic order, each once. */
        var data = dict.data;
        s.data = data === undefined ? null : data;
        var lastEventId = dict.lastEventId;
        s.lastEventId = lastEventId === undefined ? '' : web.toDOMString(lastEventId);
        var origin = dict.origin;
        s.origin = origin === undefined ? '' : web.toUSVString(origin);
        var portsIn = dict.ports;
        var ports = portsIn === undefined ? [] : web.toSequence(portsIn, 'ports');
        for (var i = 0; i < ports.length; i++) {
            if (!web.is(ports[i], 'MessagePort')) {
                throw new TypeError("The provided value is not of type 'MessagePort'.");
            }
        }
        var source = dict.source;
        source = source === undefined ? null : source;
        if (source !== null && !web.is(source, 'MessagePort')) {
            throw new TypeError("The provided value is not of type '(WindowProxy or MessagePort or ServiceWorker)'.");
        }
        s.source = source;
        s.ports = Object.freeze(ports);
    }

    function me(self) {
        return impl(self, 'MessageEvent');
    }

    web.defineInterface(MessageEvent, {
        name: 'MessageEvent',
        parent: web.Event,
        length: 1,
        attrs: {
            data: [function () { return me(this).data; }],
            origin: [function () { return me(this).origin; }],
            lastEventId: [function () { return me(this).lastEventId; }],
            source: [function () { return me(this).source; }],
            ports: [function () { return me(this).ports; }]
        }
    });

    /* ---- keeping the process alive ---- */

    var activePorts = 0;
    var keepAlive = null;

    function refresh(s) {
        var active = s.started && !s.closed && !s.detached && s.peer !== null && web.hasListeners(s, 'message');
        if (active === s.active) {
            return;
        }
        s.active = active;
        activePorts += active ? 1 : -1;
        if (activePorts > 0 && keepAlive === null) {
            keepAlive = setIntervalFn(function () {}, 2147483647);
        } else if (activePorts === 0 && keepAlive !== null) {
            clearIntervalFn(keepAlive);
            keepAlive = null;
        }
    }

    /* ---- MessagePort ---- */

    function MessagePort() {
        throw web.illegalConstructor();
    }

    function createPort() {
        var port = Object.create(MessagePort.prototype);
        var s = web.eventTargetInit(port, ['MessagePort']);
        s.port = port;
        s.peer = null;
        s.queue = [];
        s.scheduled = 0; /* delivery tasks queued on the loop */
        s.started = false;
        s.closed = false;
        s.detached = false;
        s.active = false;
        /* One task function per port, reused for every delivery. */
        s.deliverTask = function () {
            deliverOne(s);
        };
        s.listenersChanged = function (type) {
            if (type === 'message') {
                refresh(s);
            }
        };
        return s;
    }

    function mp(self) {
        return impl(self, 'MessagePort');
    }

    /* One task per queued message, run only while the port is started. */
    function scheduleDelivery(s) {
        if (!s.started || s.closed || s.detached) {
            return;
        }
        while (s.scheduled < s.queue.length) {
            s.scheduled++;
            setImmediateFn(s.deliverTask);
        }
    }

    function deliverOne(s) {
        if (s.scheduled > 0) {
            s.scheduled--;
        }
        if (s.closed || s.detached || !s.started || s.queue.length === 0) {
            return;
        }
        delivering = s.queue.shift();
        web.fireEvent(s.port, 'message', MessageEvent, ['MessageEvent'], null, fillMessageEvent);
    }

    /* The message being delivered, read by fillMessageEvent (dispatch is synchronous). */
    var delivering = null;
    var noPorts = Object.freeze([]);

    function fillMessageEvent(es) {
        var m = delivering;
        delivering = null;
        es.data = m.data;
        es.origin = '';
        es.lastEventId = '';
        es.source = null;
        es.ports = m.ports.length === 0 ? noPorts : Object.freeze(m.ports);
    }

    function start(s) {
        if (s.started || s.closed || s.detached) {
            return;
        }
        s.started = true;
        refresh(s);
        scheduleDelivery(s);
    }

    function disentangle(s) {
        var peer = s.peer;
        s.peer = null;
        refresh(s);
        if (peer !== null) {
            peer.peer = null;
            refresh(peer);
        }
        return peer;
    }

    function fireClose(s) {
        setImmediateFn(function () {
            web.fireEvent(s.port, 'close');
        });
    }

    function postMessage(self, message, transferOrOptions, arity) {
        var s = mp(self);
        web.requireArgs(arity, 1, 'MessagePort', 'postMessage');
        var transfer;
        if (transferOrOptions === undefined || transferOrOptions === null) {
            transfer = [];
        } else if (typeof transferOrOptions === 'object' && !Array.isArray(transferOrOptions) &&
                   transferOrOptions[Symbol.iterator] === undefined) {
            var rawTransfer = transferOrOptions.transfer;
            transfer = rawTransfer === undefined ? [] : web.toSequence(rawTransfer, 'transfer');
        } else {
            transfer = web.toSequence(transferOrOptions, 'transfer');
        }
        var target = s.peer;
        var doomed = false;
        for (var i = 0; i < transfer.length; i++) {
            if (transfer[i] === self) {
                throw web.domError('Transfer list contains source port', 'DataCloneError');
            }
            if (target !== null && transfer[i] === target.port) {
                doomed = true;
            }
        }
        var data = web.clone(message, transfer);
        if (target === null || doomed) {
            return;
        }
        var ports = [];
        for (i = 0; i < transfer.length; i++) {
            /* The walk replaced each transferred port by its new owner; find them again in
             * the order of the transfer list. */
            var moved = transfer[i][SLOT].movedTo;
            if (moved) {
                ports.push(moved);
            }
        }
        target.queue.push({ data: data, ports: ports });
        scheduleDelivery(target);
    }

    web.defineInterface(MessagePort, {
        name: 'MessagePort',
        parent: web.EventTarget,
        length: 0,
        ops: {
            postMessage: [function (message, transferOrOptions) {
                postMessage(this, message, transferOrOptions, arguments.length);
            }, 1],
            start: [function () { start(mp(this)); }, 0],
            close: [function () {
                var s = mp(this);
                if (s.closed) {
                    return;
                }
                s.closed = true;
                s.queue = [];
                var peer = disentangle(s);
                refresh(s);
                fireClose(s);
                if (peer !== null) {
                    fireClose(peer);
                }
            }, 0]
        }
    });
    web.defineEventHandler(MessagePort.prototype, 'MessagePort', 'message', function (port, s) {
        start(s);
    });
    web.defineEventHandler(MessagePort.prototype, 'MessagePort', 'messageerror');
    web.defineEventHandler(MessagePort.prototype, 'MessagePort', 'close');

    /* Transfer: a new port takes over the entanglement and the unread messages; the old one
     * is detached for good. */
    web.transferable.MessagePort = {
        detached: function (s) {
            return s.detached;
        },
        transfer: function (src, s) {
            var n = createPort();
            n.queue = s.queue;
            n.peer = s.peer;
            if (n.peer !== null) {
                n.peer.peer = n;
            }
            s.queue = [];
            s.peer = null;
            s.detached = true;
            s.movedTo = n.port;
            refresh(s);
            return n.port;
        }
    };

    /* ---- MessageChannel ---- */

    function MessageChannel() {
        web.checkConstruct(this, MessageChannel, new.target);
        var a = createPort();
        var b = createPort();
        a.peer = b;
        b.peer = a;
        web.setSlot(this, { brands: { MessageChannel: true }, port1: a.port, port2: b.port });
    }

    web.defineInterface(MessageChannel, {
        name: 'MessageChannel',
        length: 0,
        attrs: {
            port1: [function () { return impl(this, 'MessageChannel').port1; }],
            port2: [function () { return impl(this, 'MessageChannel').port2; }]
        }
    });

    web.exposeGlobal('MessageChannel', MessageChannel, false);
    web.exposeGlobal('MessagePort', MessagePort, false);
    web.exposeGlobal('MessageEvent', MessageEvent, false);
})

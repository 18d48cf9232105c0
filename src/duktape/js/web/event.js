/*
 * Event, CustomEvent and EventTarget (WHATWG DOM §2 "Events"). A target here has no parent,
 * so a dispatch path is the target alone: capture listeners run first at the target, then the
 * others (the DOM's current "at target" order). Called as fn(global, native, web); sets
 * web.Event, web.EventTarget and the helpers the other preludes use (createEvent,
 * fireEvent, eventTargetInit, defineEventHandler, addAbortAlgorithm).
 */
(function (global, native, web) {
    'use strict';

    var SLOT = web.SLOT;
    var impl = web.impl;
    var now = web.now;
    var hasOwn = Object.prototype.hasOwnProperty;

    var NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;
    var EVENT_BRANDS = web.brands(['Event']);
    var CUSTOM_EVENT_BRANDS = web.brands(['Event', 'CustomEvent']);

    /* ---- Event ---- */

    /* Event state: the defaults live on a shared prototype, so creating an event writes
     * only what differs (Duktape pays per property for object literals). */
    function EventState(brands, type) {
        this.brands = brands;
        this.type = type;
        this.timeStamp = now();
    }
    EventState.prototype = {
        target: null,
        currentTarget: null,
        eventPhase: NONE,
        bubbles: false,
        cancelable: false,
        composed: false,
        canceled: false,
        inPassive: false,
        stopPropagation: false,
        stopImmediate: false,
        initialized: true,
        dispatching: false,
        isTrusted: false,
        event: null
    };

    /* brands: a list, or a brand set from web.brands (shared, never mutated). */
    function initEventState(self, type, dict, brands) {
        var s = new EventState(Array.isArray(brands) ? web.brands(brands) : brands, type);
        if (dict.bubbles) {
            s.bubbles = true;
        }
        if (dict.cancelable) {
            s.cancelable = true;
        }
        if (dict.composed) {
            s.composed = true;
        }
        return web.setSlot(self, s);
    }

    /* isTrusted is [LegacyUnforgeable]: an own, non-configurable accessor on every instance,
     * all sharing one getter. */
    var isTrustedGetter = web.fnShape(function () {
        return impl(this, 'Event').isTrusted;
    }, 'get isTrusted', 0);

    /* One descriptor serves every instance (defineProperty does not keep it). */
    var isTrustedDescriptor = { get: isTrustedGetter, set: undefined, enumerable: true, configurable: false };

    function defineIsTrusted(self) {
        Object.defineProperty(self, 'isTrusted', isTrustedDescriptor);
    }

    var noInit = { bubbles: false, cancelable: false, composed: false };

    function readEventInit(dict) {
        if (dict === undefined) {
            return noInit;
        }
        dict = web.toDictionary(dict, 'EventInit');
        return { bubbles: !!dict.bubbles, cancelable: !!dict.cancelable, composed: !!dict.composed };
    }

    function Event(type, eventInitDict) {
        web.checkConstruct(this, Event, new.target);
        if (arguments.length < 1) {
            throw web.codedError(TypeError, 'ERR_MISSING_ARGS', 'The "type" argument must be specified');
        }
        type = web.toDOMString(type);
        initEventState(this, type, readEventInit(eventInitDict), EVENT_BRANDS);
        defineIsTrusted(this);
    }

    function ev(self) {
        return impl(self, 'Event');
    }

    function setCanceled(s) {
        if (s.cancelable && !s.inPassive) {
            s.canceled = true;
        }
    }

    web.defineInterface(Event, {
        name: 'Event',
        length: 1,
        constants: { NONE: NONE, CAPTURING_PHASE: CAPTURING_PHASE, AT_TARGET: AT_TARGET, BUBBLING_PHASE: BUBBLING_PHASE },
        attrs: {
            type: [function () { return ev(this).type; }],
            target: [function () { return ev(this).target; }],
            srcElement: [function () { return ev(this).target; }],
            currentTarget: [function () { return ev(this).currentTarget; }],
            eventPhase: [function () { return ev(this).eventPhase; }],
            cancelBubble: [function () { return ev(this).stopPropagation; }, function (v) {
                var s = ev(this);
                if (v) {
                    s.stopPropagation = true;
                }
            }],
            bubbles: [function () { return ev(this).bubbles; }],
            cancelable: [function () { return ev(this).cancelable; }],
            returnValue: [function () { return !ev(this).canceled; }, function (v) {
                var s = ev(this);
                if (!v) {
                    setCanceled(s);
                }
            }],
            defaultPrevented: [function () { return ev(this).canceled; }],
            composed: [function () { return ev(this).composed; }],
            timeStamp: [function () { return ev(this).timeStamp; }]
        },
        ops: {
            composedPath: [function () {
                var s = ev(this);
                /* A target has no parent, so the path is the target while dispatching. */
                return s.dispatching ? [s.target] : [];
            }, 0],
            stopPropagation: [function () { ev(this).stopPropagation = true; }, 0],
            stopImmediatePropagation: [function () {
                var s = ev(this);
                s.stopPropagation = true;
                s.stopImmediate = true;
            }, 0],
            preventDefault: [function () { setCanceled(ev(this)); }, 0],
            initEvent: [function (type, bubbles, cancelable) {
                var s = ev(this);
                web.requireArgs(arguments.length, 1, 'Event', 'initEvent');
                type = web.toDOMString(type);
                if (s.dispatching) {
                    return;
                }
                s.initialized = true;
                s.stopPropagation = false;
                s.stopImmediate = false;
                s.canceled = false;
                s.isTrusted = false;
                s.target = null;
                s.type = type;
                s.bubbles = !!bubbles;
                s.cancelable = !!cancelable;
            }, 1]
        }
    });

    /* ---- CustomEvent ---- */

    function CustomEvent(type, eventInitDict) {
        web.checkConstruct(this, CustomEvent, new.target);
        if (arguments.length < 1) {
            throw web.codedError(TypeError, 'ERR_MISSING_ARGS', 'The "type" argument must be specified');
        }
        type = web.toDOMString(type);
        var dict = web.toDictionary(eventInitDict, 'CustomEventInit');
        var s = initEventState(this, type, readEventInit(dict), CUSTOM_EVENT_BRANDS);
        var detail = dict.detail;
        s.detail = detail === undefined ? null : detail;
        defineIsTrusted(this);
    }

    web.defineInterface(CustomEvent, {
        name: 'CustomEvent',
        parent: Event,
        length: 1,
        attrs: {
            detail: [function () { return impl(this, 'CustomEvent').detail; }]
        },
        ops: {
            initCustomEvent: [function (type, bubbles, cancelable, detail) {
                var s = impl(this, 'CustomEvent');
                web.requireArgs(arguments.length, 1, 'CustomEvent', 'initCustomEvent');
                type = web.toDOMString(type);
                if (s.dispatching) {
                    return;
                }
                Event.prototype.initEvent.call(this, type, bubbles, cancelable);
                s.detail = detail === undefined ? null : detail;
            }, 1]
        }
    });

    /* ---- EventTarget ---- */

    function targetState(self, brandList) {
        return web.setSlot(self, { brands: web.brands(brandList), listeners: Object.create(null), handlers: null });
    }

    function EventTarget() {
        web.checkConstruct(this, EventTarget, new.target);
        targetState(this, ['EventTarget']);
    }

    function et(self) {
        return impl(self, 'EventTarget');
    }

    /* "flatten more": capture from a boolean or a dictionary, plus once/passive/signal. */
    function flattenOptions(options, full) {
        var r = { capture: false, once: false, passive: false, signal: null };
        if (typeof options === 'boolean' || options === undefined || options === null ||
            (typeof options !== 'object' && typeof options !== 'function')) {
            r.capture = !!options;
            return r;
        }
        r.capture = !!options.capture;
        if (full) {
            r.once = !!options.once;
            r.passive = !!options.passive;
            var signal = options.signal;
            if (signal !== undefined) {
                if (!web.is(signal, 'AbortSignal')) {
                    throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                        'The "options.signal" property must be an instance of AbortSignal.');
                }
                r.signal = signal;
            }
        }
        return r;
    }

    function checkListener(callback) {
        if (callback !== null && callback !== undefined && typeof callback !== 'function' && typeof callback !== 'object') {
            throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                'The "listener" argument must be an instance of EventListener.');
        }
    }

    function listenersOf(s, type) {
        /* A prototype-less map: every type string is an ordinary key. */
        var list = s.listeners[type];
        return list === undefined ? null : list;
    }

    function removeListener(s, type, entry) {
        var list = listenersOf(s, type);
        entry.removed = true;
        if (!list) {
            return;
        }
        for (var i = 0; i < list.length; i++) {
            if (list[i] === entry) {
                list.splice(i, 1);
                if (entry.capture) {
                    list.captures--;
                }
                break;
            }
        }
        if (list.length === 0) {
            delete s.listeners[type];
        }
        if (s.listenersChanged) {
            s.listenersChanged(type);
        }
    }

    /* "add an event listener": duplicates (type, callback, capture) are ignored. */
    function addListener(self, s, type, callback, o) {
        if (o.signal && web.signalAborted(o.signal)) {
            return;
        }
        if (callback === null || callback === undefined) {
            return;
        }
        var list = listenersOf(s, type);
        if (list) {
            for (var i = 0; i < list.length; i++) {
                if (list[i].callback === callback && list[i].capture === o.capture) {
                    return;
                }
            }
        } else {
            list = s.listeners[type] = [];
            list.captures = 0; /* lets dispatch skip the capture pass when there are none */
        }
        var entry = {
            type: type, callback: callback, capture: o.capture, once: o.once, passive: o.passive,
            removed: false
        };
        list.push(entry);
        if (entry.capture) {
            list.captures++;
        }
        /* MessagePort keeps the process alive only while it has 'message' listeners. */
        if (s.listenersChanged) {
            s.listenersChanged(type);
        }
        if (o.signal) {
            web.addAbortAlgorithm(o.signal, function () {
                removeListener(s, type, entry);
            });
        }
    }

    function invokeListeners(target, s, e, phase) {
        var list = listenersOf(s, e.type);
        if (!list || (phase === CAPTURING_PHASE && !list.captures)) {
            return;
        }
        /* The snapshot: listeners added during dispatch do not run; removed ones are skipped
         * through their `removed` flag. */
        var snapshot = list.slice();
        for (var i = 0; i < snapshot.length; i++) {
            var l = snapshot[i];
            if (l.removed) {
                continue;
            }
            if ((phase === CAPTURING_PHASE && !l.capture) || (phase === BUBBLING_PHASE && l.capture)) {
                continue;
            }
            if (l.once) {
                removeListener(s, e.type, l);
            }
            if (l.passive) {
                e.inPassive = true;
            }
            try {
                var cb = l.callback;
                if (typeof cb === 'function') {
                    cb.call(e.currentTarget, e.event);
                } else {
                    var handleEvent = cb.handleEvent;
                    if (typeof handleEvent !== 'function') {
                        throw new TypeError('The "handleEvent" property of the listener is not callable');
                    }
                    handleEvent.call(cb, e.event);
                }
            } catch (err) {
                web.reportError(err);
            }
            e.inPassive = false;
            if (e.stopImmediate) {
                return;
            }
        }
    }

    function dispatch(target, event, e) {
        var s = et(target);
        e.event = event;
        e.dispatching = true;
        e.target = target;
        e.eventPhase = AT_TARGET;
        e.currentTarget = target;
        try {
            if (!e.stopPropagation) {
                invokeListeners(target, s, e, CAPTURING_PHASE);
            }
            if (!e.stopPropagation) {
                invokeListeners(target, s, e, BUBBLING_PHASE);
            }
        } finally {
            e.eventPhase = NONE;
            e.currentTarget = null;
            e.dispatching = false;
            e.stopPropagation = false;
            e.stopImmediate = false;
            e.event = null;
        }
        return !e.canceled;
    }

    web.defineInterface(EventTarget, {
        name: 'EventTarget',
        length: 0,
        ops: {
            addEventListener: [function (type, callback, options) {
                var s = et(this);
                if (arguments.length < 2) {
                    throw web.codedError(TypeError, 'ERR_MISSING_ARGS',
                        'The "type" and "listener" arguments must be specified');
                }
                type = web.toDOMString(type);
                checkListener(callback);
                addListener(this, s, type, callback, flattenOptions(options, true));
            }, 2],
            removeEventListener: [function (type, callback, options) {
                var s = et(this);
                if (arguments.length < 2) {
                    throw web.codedError(TypeError, 'ERR_MISSING_ARGS',
                        'The "type" and "listener" arguments must be specified');
                }
                type = web.toDOMString(type);
                checkListener(callback);
                var capture = flattenOptions(options, false).capture;
                var list = listenersOf(s, type);
                if (!list) {
                    return;
                }
                for (var i = 0; i < list.length; i++) {
                    if (list[i].callback === callback && list[i].capture === capture) {
                        removeListener(s, type, list[i]);
                        return;
                    }
                }
            }, 2],
            dispatchEvent: [function (event) {
                et(this);
                if (arguments.length < 1) {
                    throw web.codedError(TypeError, 'ERR_MISSING_ARGS', 'The "event" argument must be specified');
                }
                if (!web.is(event, 'Event')) {
                    throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                        'The "event" argument must be an instance of Event.');
                }
                var e = event[SLOT];
                if (e.dispatching || !e.initialized) {
                    throw web.domError('The event is already being dispatched', 'InvalidStateError');
                }
                e.isTrusted = false;
                return dispatch(this, event, e);
            }, 1]
        }
    });

    /* ---- helpers for the other preludes ---- */

    /* Makes obj (already created with the right prototype) an EventTarget of these brands. */
    web.eventTargetInit = function (obj, brandList) {
        return targetState(obj, ['EventTarget'].concat(brandList));
    };

    /* Creates an event of interface Ctor without running its constructor. */
    web.createEvent = function (Ctor, type, brandList, dict) {
        var event = Object.create(Ctor.prototype);
        var s = initEventState(event, type, dict || {}, ['Event'].concat(brandList || []));
        defineIsTrusted(event);
        return { event: event, state: s };
    };

    /* "fire an event": a trusted event of type at target; returns the dispatch result. */
    web.fireEvent = function (target, type, Ctor, brandList, dict, extra) {
        var c = web.createEvent(Ctor || Event, type, brandList, dict);
        if (extra) {
            extra(c.state);
        }
        c.state.isTrusted = true;
        return dispatch(target, c.event, c.state);
    };

    /* Event handler IDL attributes (onabort, onmessage...): the handler is a listener added
     * when first set to a non-null value and kept at that place in the list afterwards. The
     * optional onFirstSet hook lets MessagePort start when onmessage is set. */
    web.defineEventHandler = function (proto, brand, type, onFirstSet) {
        var name = 'on' + type;
        Object.defineProperty(proto, name, {
            get: web.fnShape(function () {
                var s = impl(this, brand);
                return s.handlers && hasOwn.call(s.handlers, name) ? s.handlers[name].value : null;
            }, 'get ' + name, 0),
            set: web.fnShape(function (v) {
                var s = impl(this, brand);
                var value = typeof v === 'function' || (v !== null && typeof v === 'object') ? v : null;
                if (!s.handlers) {
                    s.handlers = {};
                }
                var h = hasOwn.call(s.handlers, name) ? s.handlers[name] : null;
                if (!h) {
                    if (value === null) {
                        return;
                    }
                    h = s.handlers[name] = { value: value, entry: null };
                    var self = this;
                    var wrapper = function (event) {
                        var f = h.value;
                        if (typeof f !== 'function') {
                            return undefined;
                        }
                        var r = f.call(self, event);
                        if (r === false) {
                            event.preventDefault();
                        }
                        return r;
                    };
                    addListener(self, s, type, wrapper, { capture: false, once: false, passive: false, signal: null });
                    var list = listenersOf(s, type);
                    h.entry = list[list.length - 1];
                    if (onFirstSet) {
                        onFirstSet(this, s);
                    }
                    return;
                }
                if (value === null) {
                    removeListener(s, type, h.entry);
                    delete s.handlers[name];
                    return;
                }
                h.value = value;
            }, 'set ' + name, 1),
            enumerable: true,
            configurable: true
        });
    };

    web.hasListeners = function (s, type) {
        var list = listenersOf(s, type);
        return !!list && list.length > 0;
    };

    web.Event = Event;
    web.CustomEvent = CustomEvent;
    web.EventTarget = EventTarget;
    web.exposeGlobal('Event', Event, false);
    web.exposeGlobal('CustomEvent', CustomEvent, false);
    web.exposeGlobal('EventTarget', EventTarget, false);
})

/*
 * The events module: Node's EventEmitter with its observable behaviour (listener storage in
 * _events, 'newListener'/'removeListener', once wrappers seen by rawListeners, the leak
 * warning, errorMonitor, captureRejections, events.once). process is an instance of it.
 * ES5 only: this runs inside Duktape. Called as fn(global, native, internals); sets
 * internals.events (the module's exports, which is EventEmitter itself, as in Node).
 */
(function (global, native, internals) {
    'use strict';

    void global;

    var kCapture = Symbol('kCapture');
    var kShapeMode = Symbol('shapeMode');
    var kRejection = Symbol['for']('nodejs.rejection');
    var errorMonitor = Symbol('events.errorMonitor');
    var defaultMaxListeners = 10;
    var captureRejectionsDefault = false;
    var hasOwn = Object.prototype.hasOwnProperty;

    function define(obj, name, value, enumerable) {
        Object.defineProperty(obj, name, {
            value: value, writable: true, enumerable: !!enumerable, configurable: true
        });
    }

    function invalidArgType(name, expected, value) {
        return internals.invalidArgType(name, expected, value);
    }

    function checkListener(listener) {
        if (typeof listener !== 'function') {
            throw invalidArgType('listener', 'function', listener);
        }
    }

    /* Node's validateNumber(n, name, 0). */
    function checkMaxListeners(n, name) {
        if (typeof n !== 'number') {
            throw invalidArgType(name, 'number', n);
        }
        if (n < 0 || n !== n) {
            throw internals.nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "' + name +
                '" is out of range. It must be >= 0. Received ' + internals.inspect(n));
        }
    }

    /* A plain function, as in Node: pre-class code calls EventEmitter.call(this). */
    function EventEmitter(opts) {
        EventEmitter.init.call(this, opts);
    }

    EventEmitter.init = function init(opts) {
        if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
            this._events = Object.create(null);
            this._eventsCount = 0;
            this[kShapeMode] = false;
        } else {
            /* A subclass that prepared _events itself: keys are kept (set to undefined). */
            this[kShapeMode] = true;
        }
        this._maxListeners = this._maxListeners || undefined;
        if (opts !== undefined && opts !== null && opts.captureRejections) {
            if (typeof opts.captureRejections !== 'boolean') {
                throw invalidArgType('options.captureRejections', 'boolean',
                    opts.captureRejections);
            }
            this[kCapture] = opts.captureRejections;
        } else {
            this[kCapture] = EventEmitter.prototype[kCapture];
        }
    };

    var proto = EventEmitter.prototype;
    define(proto, '_events', undefined, true);
    define(proto, '_eventsCount', 0, true);
    define(proto, '_maxListeners', undefined, true);
    Object.defineProperty(proto, kCapture, {
        value: false, writable: true, enumerable: false, configurable: true
    });

    Object.defineProperty(EventEmitter, 'defaultMaxListeners', {
        enumerable: true,
        configurable: true,
        get: function () { return defaultMaxListeners; },
        set: function (n) {
            checkMaxListeners(n, 'defaultMaxListeners');
            defaultMaxListeners = n;
        }
    });
    Object.defineProperty(EventEmitter, 'captureRejections', {
        enumerable: true,
        configurable: true,
        get: function () { return captureRejectionsDefault; },
        set: function (value) {
            if (typeof value !== 'boolean') {
                throw invalidArgType('EventEmitter.captureRejections', 'boolean', value);
            }
            captureRejectionsDefault = value;
            EventEmitter.prototype[kCapture] = value;
        }
    });
    EventEmitter.errorMonitor = errorMonitor;
    EventEmitter.captureRejectionSymbol = kRejection;
    EventEmitter.usingDomains = false;

    function maxListenersOf(that) {
        return that._maxListeners === undefined ? defaultMaxListeners : that._maxListeners;
    }

    define(proto, 'setMaxListeners', function setMaxListeners(n) {
        checkMaxListeners(n, 'setMaxListeners');
        this._maxListeners = n;
        return this;
    }, true);
    define(proto, 'getMaxListeners', function getMaxListeners() {
        return maxListenersOf(this);
    }, true);

    /* A rejected promise returned by a listener of an emitter with captureRejections: the
     * error goes to emitter[Symbol.for('nodejs.rejection')] or to its 'error' event. */
    function addCatch(that, promise, type, args) {
        try {
            var then = promise.then;
            if (typeof then === 'function') {
                then.call(promise, undefined, function (err) {
                    native.nextTick(function () {
                        emitRejection(that, err, type, args);
                    });
                });
            }
        } catch (err) {
            that.emit('error', err);
        }
    }

    function emitRejection(that, err, type, args) {
        if (typeof that[kRejection] === 'function') {
            that[kRejection].apply(that, [err, type].concat(args));
            return;
        }
        var prev = that[kCapture];
        try {
            that[kCapture] = false;
            that.emit('error', err);
        } finally {
            that[kCapture] = prev;
        }
    }

    define(proto, 'emit', function emit(type) {
        var args = [];
        for (var i = 1; i < arguments.length; i++) {
            args.push(arguments[i]);
        }
        var doError = type === 'error';
        var events = this._events;
        if (events !== undefined) {
            if (doError && events[errorMonitor] !== undefined) {
                this.emit.apply(this, [errorMonitor].concat(args));
            }
            doError = doError && events.error === undefined;
        } else if (!doError) {
            return false;
        }
        if (doError) {
            var er = args.length > 0 ? args[0] : undefined;
            if (er instanceof Error) {
                throw er;
            }
            var err = internals.nodeError(Error, 'ERR_UNHANDLED_ERROR',
                'Unhandled error. (' + internals.inspect(er) + ')');
            err.context = er;
            throw err;
        }
        var handler = events[type];
        if (handler === undefined) {
            return false;
        }
        var result;
        if (typeof handler === 'function') {
            result = handler.apply(this, args);
            if (result !== undefined && result !== null && this[kCapture]) {
                addCatch(this, result, type, args);
            }
        } else {
            var listeners = handler.slice();
            for (var j = 0; j < listeners.length; j++) {
                result = listeners[j].apply(this, args);
                if (result !== undefined && result !== null && this[kCapture]) {
                    addCatch(this, result, type, args);
                }
            }
        }
        return true;
    }, true);

    function describeEmitter(target) {
        try {
            return internals.inspect(target, { depth: -1 });
        } catch (e) {
            return String(target);
        }
    }

    function _addListener(target, type, listener, prepend) {
        checkListener(listener);
        var events = target._events;
        if (events === undefined) {
            events = target._events = Object.create(null);
            target._eventsCount = 0;
        } else {
            if (events.newListener !== undefined) {
                target.emit('newListener', type, listener.listener ? listener.listener : listener);
                events = target._events;
            }
        }
        var existing = events[type];
        if (existing === undefined) {
            events[type] = listener;
            ++target._eventsCount;
            return target;
        }
        if (typeof existing === 'function') {
            existing = events[type] = prepend ? [listener, existing] : [existing, listener];
        } else if (prepend) {
            existing.unshift(listener);
        } else {
            existing.push(listener);
        }
        var m = maxListenersOf(target);
        if (m > 0 && existing.length > m && !existing.warned) {
            existing.warned = true;
            var w = new Error('Possible EventEmitter memory leak detected. ' +
                existing.length + ' ' + String(type) + ' listeners added to ' +
                describeEmitter(target) + '. MaxListeners is ' + m +
                '. Use emitter.setMaxListeners() to increase limit');
            w.name = 'MaxListenersExceededWarning';
            w.emitter = target;
            w.type = type;
            w.count = existing.length;
            internals.process.emitWarning(w);
        }
        return target;
    }

    define(proto, 'addListener', function addListener(type, listener) {
        return _addListener(this, type, listener, false);
    }, true);
    define(proto, 'on', proto.addListener, true);
    define(proto, 'prependListener', function prependListener(type, listener) {
        return _addListener(this, type, listener, true);
    }, true);

    function onceWrapper() {
        if (!this.fired) {
            this.target.removeListener(this.type, this.wrapFn);
            this.fired = true;
            return this.listener.apply(this.target, arguments);
        }
    }

    function onceWrap(target, type, listener) {
        var state = { fired: false, wrapFn: undefined, target: target, type: type,
            listener: listener };
        var wrapped = function bound_onceWrapper() {
            return onceWrapper.apply(state, arguments);
        };
        Object.defineProperty(wrapped, 'name', { value: 'bound onceWrapper' });
        wrapped.listener = listener;
        state.wrapFn = wrapped;
        return wrapped;
    }

    define(proto, 'once', function once(type, listener) {
        checkListener(listener);
        this.on(type, onceWrap(this, type, listener));
        return this;
    }, true);
    define(proto, 'prependOnceListener', function prependOnceListener(type, listener) {
        checkListener(listener);
        this.prependListener(type, onceWrap(this, type, listener));
        return this;
    }, true);

    define(proto, 'removeListener', function removeListener(type, listener) {
        checkListener(listener);
        var events = this._events;
        if (events === undefined) {
            return this;
        }
        var list = events[type];
        if (list === undefined) {
            return this;
        }
        if (list === listener || list.listener === listener) {
            this._eventsCount -= 1;
            if (this[kShapeMode]) {
                events[type] = undefined;
            } else if (this._eventsCount === 0) {
                this._events = Object.create(null);
            } else {
                delete events[type];
                if (events.removeListener) {
                    this.emit('removeListener', type, list.listener || listener);
                }
            }
        } else if (typeof list !== 'function') {
            var position = -1;
            for (var i = list.length - 1; i >= 0; i--) {
                if (list[i] === listener || list[i].listener === listener) {
                    position = i;
                    break;
                }
            }
            if (position < 0) {
                return this;
            }
            if (position === 0) {
                list.shift();
            } else {
                list.splice(position, 1);
            }
            if (list.length === 1) {
                events[type] = list[0];
            }
            if (events.removeListener !== undefined) {
                this.emit('removeListener', type, listener);
            }
        }
        return this;
    }, true);
    define(proto, 'off', proto.removeListener, true);

    define(proto, 'removeAllListeners', function removeAllListeners(type) {
        var events = this._events;
        if (events === undefined) {
            return this;
        }
        if (events.removeListener === undefined) {
            if (arguments.length === 0) {
                this._events = Object.create(null);
                this._eventsCount = 0;
            } else if (events[type] !== undefined) {
                if (--this._eventsCount === 0) {
                    this._events = Object.create(null);
                } else {
                    delete events[type];
                }
            }
            return this;
        }
        if (arguments.length === 0) {
            var keys = Reflect.ownKeys(events);
            for (var i = 0; i < keys.length; i++) {
                if (keys[i] !== 'removeListener') {
                    this.removeAllListeners(keys[i]);
                }
            }
            this.removeAllListeners('removeListener');
            this._events = Object.create(null);
            this._eventsCount = 0;
            return this;
        }
        var listeners = events[type];
        if (typeof listeners === 'function') {
            this.removeListener(type, listeners);
        } else if (listeners !== undefined) {
            for (var j = listeners.length - 1; j >= 0; j--) {
                this.removeListener(type, listeners[j]);
            }
        }
        return this;
    }, true);

    function listenersOf(target, type, unwrap) {
        var events = target._events;
        if (events === undefined) {
            return [];
        }
        var l = events[type];
        if (l === undefined) {
            return [];
        }
        if (typeof l === 'function') {
            return unwrap ? [l.listener || l] : [l];
        }
        return l.map(function (fn) {
            return unwrap ? fn.listener || fn : fn;
        });
    }

    define(proto, 'listeners', function listeners(type) {
        return listenersOf(this, type, true);
    }, true);
    define(proto, 'rawListeners', function rawListeners(type) {
        return listenersOf(this, type, false);
    }, true);

    function listenerCount(type, listener) {
        var events = this._events;
        if (events === undefined) {
            return 0;
        }
        var l = events[type];
        if (l === undefined) {
            return 0;
        }
        if (typeof l === 'function') {
            return listener === undefined || listener === null || listener === l ||
                listener === l.listener ? 1 : 0;
        }
        if (listener === undefined || listener === null) {
            return l.length;
        }
        var n = 0;
        for (var i = 0; i < l.length; i++) {
            if (l[i] === listener || l[i].listener === listener) {
                n++;
            }
        }
        return n;
    }
    define(proto, 'listenerCount', listenerCount, true);

    define(proto, 'eventNames', function eventNames() {
        return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
    }, true);

    /* ---- module functions ---------------------------------------------------------------- */

    EventEmitter.listenerCount = function (emitter, type) {
        if (typeof emitter.listenerCount === 'function') {
            return emitter.listenerCount(type);
        }
        return listenerCount.call(emitter, type);
    };

    EventEmitter.getEventListeners = function getEventListeners(emitter, type) {
        if (emitter === null || typeof emitter !== 'object' ||
            typeof emitter.rawListeners !== 'function') {
            throw invalidArgType('emitter', 'an instance of EventEmitter or EventTarget',
                emitter);
        }
        return emitter.rawListeners(type);
    };

    EventEmitter.getMaxListeners = function getMaxListeners(emitter) {
        if (emitter === null || typeof emitter !== 'object' ||
            typeof emitter.getMaxListeners !== 'function') {
            throw invalidArgType('emitter', 'an instance of EventEmitter or EventTarget',
                emitter);
        }
        return emitter.getMaxListeners();
    };

    EventEmitter.setMaxListeners = function setMaxListeners(n) {
        if (n === undefined) {
            n = defaultMaxListeners;
        }
        checkMaxListeners(n, 'setMaxListeners');
        if (arguments.length <= 1) {
            defaultMaxListeners = n;
            return;
        }
        for (var i = 1; i < arguments.length; i++) {
            var target = arguments[i];
            if (target === null || typeof target !== 'object' ||
                typeof target.setMaxListeners !== 'function') {
                throw invalidArgType('eventTargets', 'an instance of EventEmitter or ' +
                    'EventTarget', target);
            }
            target.setMaxListeners(n);
        }
    };

    /* events.once(emitter, name[, {signal}]): a promise of the arguments of the next emission;
     * an 'error' emitted first rejects it. */
    EventEmitter.once = function once(emitter, name, options) {
        var signal = options !== undefined && options !== null ? options.signal : undefined;
        if (signal !== undefined && (signal === null || typeof signal !== 'object' ||
                                     !('aborted' in signal))) {
            throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
        }
        return new Promise(function (resolve, reject) {
            if (signal !== undefined && signal.aborted) {
                reject(abortError(signal));
                return;
            }
            var errorListener;
            var abortListener;
            var resolver = function () {
                if (errorListener !== undefined) {
                    emitter.removeListener('error', errorListener);
                }
                if (abortListener !== undefined) {
                    signal.removeEventListener('abort', abortListener);
                }
                resolve(Array.prototype.slice.call(arguments));
            };
            emitter.once(name, resolver);
            if (name !== 'error') {
                errorListener = function (err) {
                    emitter.removeListener(name, resolver);
                    if (abortListener !== undefined) {
                        signal.removeEventListener('abort', abortListener);
                    }
                    reject(err);
                };
                emitter.once('error', errorListener);
            }
            if (signal !== undefined) {
                abortListener = function () {
                    emitter.removeListener(name, resolver);
                    if (errorListener !== undefined) {
                        emitter.removeListener('error', errorListener);
                    }
                    reject(abortError(signal));
                };
                signal.addEventListener('abort', abortListener, { once: true });
            }
        });
    };

    /* Symbol.asyncIterator, defined where the engine lacks it (scripts without for-await
     * still drive async iterators through next()). */
    if (typeof Symbol.asyncIterator !== 'symbol') {
        Object.defineProperty(Symbol, 'asyncIterator', { value: Symbol('Symbol.asyncIterator') });
    }

    /* events.on(emitter, name[, {signal}]): an async iterator of the argument arrays of each
     * emission; an 'error' emission rejects the pending next() (or the next one) and ends it;
     * return() removes the listeners. */
    EventEmitter.on = function on(emitter, event, options) {
        var signal = options !== undefined && options !== null ? options.signal : undefined;
        if (signal !== undefined && (signal === null || typeof signal !== 'object' ||
                                     !('aborted' in signal))) {
            throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
        }
        if (signal !== undefined && signal.aborted) {
            throw abortError(signal);
        }
        var unconsumedEvents = [];
        var unconsumedPromises = [];
        var error = null;
        var finished = false;
        function eventHandler() {
            var args = Array.prototype.slice.call(arguments);
            var pending = unconsumedPromises.shift();
            if (pending) {
                pending.resolve({ value: args, done: false });
            } else {
                unconsumedEvents.push(args);
            }
        }
        function errorHandler(err) {
            finished = true;
            var pending = unconsumedPromises.shift();
            if (pending) {
                pending.reject(err);
            } else {
                error = err;
            }
            iterator['return']();
        }
        function abortListener() {
            errorHandler(abortError(signal));
        }
        var iterator = {
            next: function next() {
                var value = unconsumedEvents.shift();
                if (value) {
                    return Promise.resolve({ value: value, done: false });
                }
                if (error) {
                    var p = Promise.reject(error);
                    error = null;
                    return p;
                }
                if (finished) {
                    return Promise.resolve({ value: undefined, done: true });
                }
                return new Promise(function (resolve, reject) {
                    unconsumedPromises.push({ resolve: resolve, reject: reject });
                });
            },
            'return': function () {
                emitter.removeListener(event, eventHandler);
                emitter.removeListener('error', errorHandler);
                if (signal !== undefined) {
                    signal.removeEventListener('abort', abortListener);
                }
                finished = true;
                unconsumedPromises.forEach(function (pending) {
                    pending.resolve({ value: undefined, done: true });
                });
                unconsumedPromises = [];
                return Promise.resolve({ value: undefined, done: true });
            },
            'throw': function (err) {
                if (!(err instanceof Error)) {
                    throw invalidArgType('EventEmitter.AsyncIterator', 'an instance of Error',
                        err);
                }
                error = err;
                emitter.removeListener(event, eventHandler);
                emitter.removeListener('error', errorHandler);
            }
        };
        iterator[Symbol.asyncIterator] = function () {
            return this;
        };
        emitter.on(event, eventHandler);
        if (event !== 'error') {
            emitter.on('error', errorHandler);
        }
        if (signal !== undefined) {
            signal.addEventListener('abort', abortListener, { once: true });
        }
        return iterator;
    };

    function abortError(signal) {
        var err = new Error('The operation was aborted');
        err.name = 'AbortError';
        err.code = 'ABORT_ERR';
        if (signal && signal.reason !== undefined) {
            err.cause = signal.reason;
        }
        return err;
    }

    EventEmitter.EventEmitter = EventEmitter;
    EventEmitter.kMaxEventTargetListeners = Symbol('events.maxEventTargetListeners');
    EventEmitter.kMaxEventTargetListenersWarned =
        Symbol('events.maxEventTargetListenersWarned');

    internals.events = EventEmitter;
    internals.EventEmitter = EventEmitter;
    internals.builtins = internals.builtins || Object.create(null);
    internals.builtins.events = EventEmitter;
});

/*
 * Core modules for require(): util, timers, timers/promises, assert and assert/strict,
 * registered in internals.lazyBuiltins so each is built on first use. They follow Node 20's
 * lib/ for what Duktape can express (no Map/Set/BigInt/async functions). ES5 only: this runs
 * inside Duktape. Called as fn(global, native, internals).
 */
(function (global, native, internals) {
    'use strict';

    var hasOwn = Object.prototype.hasOwnProperty;
    var objToString = Object.prototype.toString;
    var lazy = internals.lazyBuiltins = internals.lazyBuiltins || Object.create(null);

    function nodeError(Ctor, code, message) {
        return internals.nodeError(Ctor, code, message);
    }

    function validateFunction(value, name) {
        if (typeof value !== 'function') {
            throw internals.invalidArgType(name, 'function', value);
        }
    }

    /* Copies own property descriptors (length, name, ...) where the engine allows. */
    function copyDescriptors(target, source, edit) {
        Object.getOwnPropertyNames(source).forEach(function (key) {
            if (key === 'prototype' || key === 'caller' || key === 'arguments') {
                return;
            }
            var desc = Object.getOwnPropertyDescriptor(source, key);
            if (edit) {
                edit(key, desc);
            }
            try {
                Object.defineProperty(target, key, desc);
            } catch (e) { /* a non-configurable engine property stays as it is */ }
        });
    }

    /* ---- isDeepStrictEqual (Node's comparisons, strict mode) ---------------------------- */

    function isBoxed(v) {
        var tag = objToString.call(v);
        return typeof v === 'object' && (tag === '[object Number]' || tag === '[object String]' ||
            tag === '[object Boolean]' || tag === '[object Symbol]');
    }

    function ownEnumerableKeys(o) {
        var keys = Object.keys(o);
        if (typeof Object.getOwnPropertySymbols === 'function') {
            Object.getOwnPropertySymbols(o).forEach(function (s) {
                if (Object.prototype.propertyIsEnumerable.call(o, s)) {
                    keys.push(s);
                }
            });
        }
        return keys;
    }

    function deepEqual(a, b, strict, memos) {
        if (a === b) {
            return a !== 0 || !strict || 1 / a === 1 / b;
        }
        if (strict) {
            if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
                if (typeof a === 'function' || typeof b === 'function') {
                    return false;
                }
                return typeof a === 'number' && typeof b === 'number' && a !== a && b !== b;
            }
            if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
                return false;
            }
        } else {
            if (a === null || typeof a !== 'object') {
                if (b === null || typeof b !== 'object') {
                    /* eslint-disable-next-line eqeqeq */
                    return a == b || (a !== a && b !== b);
                }
                return false;
            }
            if (b === null || typeof b !== 'object') {
                return false;
            }
        }
        var tagA = objToString.call(a);
        if (tagA !== objToString.call(b)) {
            return false;
        }
        if (Array.isArray(a)) {
            if (!Array.isArray(b) || a.length !== b.length) {
                return false;
            }
        } else if (tagA === '[object Date]') {
            if (a.getTime() !== b.getTime()) {
                return false;
            }
        } else if (tagA === '[object RegExp]') {
            if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) {
                return false;
            }
        } else if (a instanceof Error || b instanceof Error) {
            if (!(a instanceof Error && b instanceof Error) || a.message !== b.message ||
                a.name !== b.name) {
                return false;
            }
        } else if (ArrayBuffer.isView(a)) {
            if (!ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) {
                return false;
            }
            var ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
            var ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
            for (var i = 0; i < ua.length; i++) {
                if (ua[i] !== ub[i]) {
                    return false;
                }
            }
        } else if (isBoxed(a)) {
            if (!isBoxed(b) || !Object.is(a.valueOf(), b.valueOf())) {
                return false;
            }
        }
        var keysA = strict ? ownEnumerableKeys(a) : Object.keys(a);
        var keysB = strict ? ownEnumerableKeys(b) : Object.keys(b);
        if (keysA.length !== keysB.length) {
            return false;
        }
        for (var k = 0; k < keysA.length; k++) {
            if (!Object.prototype.propertyIsEnumerable.call(b, keysA[k])) {
                return false;
            }
        }
        /* Cycles: a pair already being compared counts as equal. */
        for (var m = 0; m < memos.length; m++) {
            if (memos[m][0] === a && memos[m][1] === b) {
                return true;
            }
        }
        memos.push([a, b]);
        try {
            for (var j = 0; j < keysA.length; j++) {
                if (!deepEqual(a[keysA[j]], b[keysA[j]], strict, memos)) {
                    return false;
                }
            }
        } finally {
            memos.pop();
        }
        return true;
    }

    function isDeepStrictEqual(a, b) {
        return deepEqual(a, b, true, []);
    }

    /* ---- util ------------------------------------------------------------------------------ */

    lazy.util = function () {
        var util = {};
        var customPromisify = Symbol['for']('nodejs.util.promisify.custom');
        util.format = internals.format;
        util.formatWithOptions = function formatWithOptions(options) {
            if (options === null || typeof options !== 'object') {
                throw internals.invalidArgType('inspectOptions', 'object', options);
            }
            return internals.format.apply(null, Array.prototype.slice.call(arguments, 1));
        };
        util.inspect = internals.inspect;
        util.isDeepStrictEqual = isDeepStrictEqual;

        util.inherits = function inherits(ctor, superCtor) {
            if (ctor === undefined || ctor === null) {
                throw internals.invalidArgType('ctor', 'function', ctor);
            }
            if (superCtor === undefined || superCtor === null) {
                throw internals.invalidArgType('superCtor', 'function', superCtor);
            }
            if (superCtor.prototype === undefined) {
                throw internals.invalidArgType('superCtor.prototype', 'object',
                    superCtor.prototype);
            }
            Object.defineProperty(ctor, 'super_', {
                value: superCtor, writable: true, configurable: true
            });
            Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
        };

        util.promisify = function promisify(original) {
            validateFunction(original, 'original');
            if (original[customPromisify]) {
                var custom = original[customPromisify];
                validateFunction(custom, 'util.promisify.custom');
                Object.defineProperty(custom, customPromisify, {
                    value: custom, enumerable: false, writable: false, configurable: true
                });
                return custom;
            }
            function fn() {
                var self = this;
                var args = Array.prototype.slice.call(arguments);
                return new Promise(function (resolve, reject) {
                    args.push(function (err, value) {
                        if (err) {
                            reject(err);
                        } else {
                            resolve(value);
                        }
                    });
                    original.apply(self, args);
                });
            }
            Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
            Object.defineProperty(fn, customPromisify, {
                value: fn, enumerable: false, writable: false, configurable: true
            });
            copyDescriptors(fn, original);
            return fn;
        };
        util.promisify.custom = customPromisify;

        util.callbackify = function callbackify(original) {
            validateFunction(original, 'original');
            function callbackified() {
                var args = Array.prototype.slice.call(arguments);
                var maybeCb = args.pop();
                validateFunction(maybeCb, 'last argument');
                var self = this;
                var cb = function () {
                    return maybeCb.apply(self, arguments);
                };
                original.apply(this, args).then(function (ret) {
                    native.nextTick(cb, null, ret);
                }, function (rej) {
                    if (!rej) {
                        var reason = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION',
                            'Promise was rejected with falsy value');
                        reason.reason = rej;
                        rej = reason;
                    }
                    native.nextTick(cb, rej);
                });
            }
            Object.setPrototypeOf(callbackified, Object.getPrototypeOf(original));
            copyDescriptors(callbackified, original, function (key, desc) {
                if (key === 'length' && typeof desc.value === 'number') {
                    desc.value++;
                } else if (key === 'name' && typeof desc.value === 'string') {
                    desc.value += 'Callbackified';
                }
            });
            return callbackified;
        };

        var codesWarned = Object.create(null);
        util.deprecate = function deprecate(fn, msg, code) {
            validateFunction(fn, 'fn');
            if (code !== undefined && typeof code !== 'string') {
                throw internals.invalidArgType('code', 'string', code);
            }
            if (internals.process.noDeprecation === true) {
                return fn;
            }
            var warned = false;
            function deprecated() {
                if (!warned) {
                    warned = true;
                    if (code !== undefined) {
                        if (!codesWarned[code]) {
                            internals.process.emitWarning(msg, 'DeprecationWarning', code,
                                deprecated);
                            codesWarned[code] = true;
                        }
                    } else {
                        internals.process.emitWarning(msg, 'DeprecationWarning', deprecated);
                    }
                }
                if (this instanceof deprecated) {
                    var args = [null].concat(Array.prototype.slice.call(arguments));
                    return new (Function.prototype.bind.apply(fn, args))();
                }
                return fn.apply(this, arguments);
            }
            Object.setPrototypeOf(deprecated, fn);
            if (fn.prototype) {
                deprecated.prototype = fn.prototype;
            }
            return deprecated;
        };

        var tag = function (v, name) {
            return v !== null && typeof v === 'object' && objToString.call(v) === name;
        };
        var typedTag = function (name) {
            return function (v) {
                return ArrayBuffer.isView(v) && objToString.call(v) === '[object ' + name + ']';
            };
        };
        util.types = {
            isPromise: function isPromise(v) {
                return internals.promiseState(v) !== undefined;
            },
            isRegExp: function isRegExp(v) { return tag(v, '[object RegExp]'); },
            isDate: function isDate(v) { return tag(v, '[object Date]'); },
            isNativeError: function isNativeError(v) { return tag(v, '[object Error]'); },
            isArrayBuffer: function isArrayBuffer(v) { return tag(v, '[object ArrayBuffer]'); },
            isAnyArrayBuffer: function isAnyArrayBuffer(v) {
                return tag(v, '[object ArrayBuffer]');
            },
            isArrayBufferView: function isArrayBufferView(v) { return ArrayBuffer.isView(v); },
            isDataView: function isDataView(v) { return tag(v, '[object DataView]'); },
            isTypedArray: function isTypedArray(v) {
                return ArrayBuffer.isView(v) && !tag(v, '[object DataView]');
            },
            isUint8Array: typedTag('Uint8Array'),
            isUint8ClampedArray: typedTag('Uint8ClampedArray'),
            isUint16Array: typedTag('Uint16Array'),
            isUint32Array: typedTag('Uint32Array'),
            isInt8Array: typedTag('Int8Array'),
            isInt16Array: typedTag('Int16Array'),
            isInt32Array: typedTag('Int32Array'),
            isFloat32Array: typedTag('Float32Array'),
            isFloat64Array: typedTag('Float64Array'),
            isArgumentsObject: function isArgumentsObject(v) {
                return tag(v, '[object Arguments]');
            },
            isBoxedPrimitive: function isBoxedPrimitive(v) { return isBoxed(v); },
            isNumberObject: function isNumberObject(v) { return tag(v, '[object Number]'); },
            isStringObject: function isStringObject(v) { return tag(v, '[object String]'); },
            isBooleanObject: function isBooleanObject(v) { return tag(v, '[object Boolean]'); },
            isSymbolObject: function isSymbolObject(v) {
                return typeof v === 'object' && tag(v, '[object Symbol]');
            },
            /* Duktape has none of these, so no value is one. */
            isMap: function isMap() { return false; },
            isSet: function isSet() { return false; },
            isWeakMap: function isWeakMap() { return false; },
            isWeakSet: function isWeakSet() { return false; },
            isAsyncFunction: function isAsyncFunction() { return false; },
            isGeneratorFunction: function isGeneratorFunction() { return false; },
            isGeneratorObject: function isGeneratorObject() { return false; },
            isBigInt64Array: function isBigInt64Array() { return false; },
            isBigUint64Array: function isBigUint64Array() { return false; }
        };

        /* The legacy type checks Node 20 still exports. */
        util.isArray = Array.isArray;
        util.isBoolean = function isBoolean(v) { return typeof v === 'boolean'; };
        util.isNull = function isNull(v) { return v === null; };
        util.isNullOrUndefined = function isNullOrUndefined(v) {
            return v === null || v === undefined;
        };
        util.isNumber = function isNumber(v) { return typeof v === 'number'; };
        util.isString = function isString(v) { return typeof v === 'string'; };
        util.isSymbol = function isSymbol(v) { return typeof v === 'symbol'; };
        util.isUndefined = function isUndefined(v) { return v === undefined; };
        util.isRegExp = util.types.isRegExp;
        util.isObject = function isObject(v) { return v !== null && typeof v === 'object'; };
        util.isDate = util.types.isDate;
        util.isError = function isError(v) {
            return v instanceof Error || tag(v, '[object Error]');
        };
        util.isFunction = function isFunction(v) { return typeof v === 'function'; };
        util.isPrimitive = function isPrimitive(v) {
            return v === null || (typeof v !== 'object' && typeof v !== 'function');
        };
        if (typeof global.TextEncoder === 'function') {
            util.TextEncoder = global.TextEncoder;
            util.TextDecoder = global.TextDecoder;
        }
        return util;
    };

    /* ---- timers and timers/promises ------------------------------------------------------- */

    lazy.timers = function () {
        var timers = {
            setTimeout: global.setTimeout,
            clearTimeout: global.clearTimeout,
            setInterval: global.setInterval,
            clearInterval: global.clearInterval,
            setImmediate: global.setImmediate,
            clearImmediate: global.clearImmediate
        };
        /* The legacy item API Node still ships: an object with _onTimeout and
         * _idleTimeout becomes a timer of its own. */
        var enrolled = Symbol('enrolled');
        timers.enroll = function enroll(item, msecs) {
            if (typeof msecs !== 'number') {
                throw internals.invalidArgType('msecs', 'number', msecs);
            }
            if (msecs < 0 || msecs !== msecs) {
                throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "msecs" is out ' +
                    'of range. It must be a non-negative finite number. Received ' + msecs);
            }
            unenroll(item);
            item._idleTimeout = msecs > 2147483647 ? 2147483647 : msecs;
        };
        function unenroll(item) {
            if (item[enrolled]) {
                global.clearTimeout(item[enrolled]);
                item[enrolled] = undefined;
            }
            item._idleTimeout = -1;
        }
        timers.unenroll = unenroll;
        timers.active = function active(item) {
            if (item[enrolled]) {
                global.clearTimeout(item[enrolled]);
            }
            var ms = item._idleTimeout;
            if (typeof ms === 'number' && ms >= 0) {
                item[enrolled] = global.setTimeout(function () {
                    item[enrolled] = undefined;
                    if (typeof item._onTimeout === 'function') {
                        item._onTimeout();
                    }
                }, ms);
            }
        };
        var active = timers.active;
        /* Deprecated in Node, with one warning per code. */
        var deprecate = internals.requireBuiltin('util').deprecate;
        timers.enroll = deprecate(timers.enroll, 'timers.enroll() is deprecated. Please use ' +
            'setTimeout instead.', 'DEP0095');
        timers.unenroll = deprecate(timers.unenroll, 'timers.unenroll() is deprecated. Please ' +
            'use clearTimeout instead.', 'DEP0096');
        timers.active = deprecate(active, 'timers.active() is deprecated. Please use ' +
            'timeout.refresh() instead.', 'DEP0126');
        timers._unrefActive = deprecate(active, 'timers._unrefActive() is deprecated. Please ' +
            'use timeout.refresh() instead.', 'DEP0127');
        timers.promises = internals.requireBuiltin('timers/promises');
        return timers;
    };

    lazy['timers/promises'] = function () {
        function abortError(signal) {
            var err = new Error('The operation was aborted');
            err.name = 'AbortError';
            err.code = 'ABORT_ERR';
            if (signal && signal.reason !== undefined) {
                err.cause = signal.reason;
            }
            return err;
        }
        function options(opts) {
            if (opts === undefined) {
                return {};
            }
            if (opts === null || typeof opts !== 'object') {
                throw internals.invalidArgType('options', 'object', opts);
            }
            if (opts.ref !== undefined && typeof opts.ref !== 'boolean') {
                throw internals.invalidArgType('options.ref', 'boolean', opts.ref);
            }
            var signal = opts.signal;
            if (signal !== undefined && (signal === null || typeof signal !== 'object' ||
                                         !('aborted' in signal))) {
                throw internals.invalidArgType('options.signal', 'an instance of AbortSignal',
                    signal);
            }
            return opts;
        }
        /* One timer or immediate settling a promise, with Node's {signal, ref} options. */
        function schedule(set, clear, delay, value, opts, withDelay) {
            var o;
            try {
                o = options(opts);
            } catch (e) {
                return Promise.reject(e);
            }
            var signal = o.signal;
            if (signal !== undefined && signal.aborted) {
                return Promise.reject(abortError(signal));
            }
            return new Promise(function (resolve, reject) {
                var onAbort;
                var handle = withDelay ? set(function () {
                    if (onAbort) {
                        signal.removeEventListener('abort', onAbort);
                    }
                    resolve(value);
                }, delay) : set(function () {
                    if (onAbort) {
                        signal.removeEventListener('abort', onAbort);
                    }
                    resolve(value);
                });
                if (o.ref === false) {
                    handle.unref();
                }
                if (signal !== undefined) {
                    onAbort = function () {
                        clear(handle);
                        reject(abortError(signal));
                    };
                    signal.addEventListener('abort', onAbort, { once: true });
                }
            });
        }
        return {
            setTimeout: function setTimeout(delay, value, opts) {
                return schedule(global.setTimeout, global.clearTimeout, delay, value, opts, true);
            },
            setImmediate: function setImmediate(value, opts) {
                return schedule(global.setImmediate, global.clearImmediate, 0, value, opts,
                    false);
            },
            scheduler: {
                wait: function wait(delay, opts) {
                    return schedule(global.setTimeout, global.clearTimeout, delay, undefined,
                        opts, true);
                },
                yield: function yield_() {
                    return schedule(global.setImmediate, global.clearImmediate, 0, undefined,
                        undefined, false);
                }
            }
        };
    };

    internals.isDeepStrictEqual = isDeepStrictEqual;
    internals.deepEqual = deepEqual;
});

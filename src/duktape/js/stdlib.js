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
        /* setInterval(delay, value, options): Node's async generator, as an async iterator
         * driven through next(): the interval starts (and the options are checked) at the
         * first next(); ticks nobody asked for yet are counted and handed out one per next();
         * return() clears the interval. */
        function setIntervalIterator(delay, value, opts) {
            var started = false;
            var finished = false;
            var notYielded = 0;
            var waiting = [];
            var handle;
            var signal;
            var onAbort;
            function finish() {
                finished = true;
                if (handle !== undefined) {
                    global.clearInterval(handle);
                }
                if (onAbort) {
                    signal.removeEventListener('abort', onAbort);
                }
            }
            function start() {
                var o = options(opts);
                signal = o.signal;
                if (signal !== undefined && signal.aborted) {
                    throw abortError(signal);
                }
                handle = global.setInterval(function () {
                    var w = waiting.shift();
                    if (w) {
                        w.resolve({ value: value, done: false });
                    } else {
                        notYielded++;
                    }
                }, delay);
                if (o.ref === false) {
                    handle.unref();
                }
                if (signal !== undefined) {
                    onAbort = function () {
                        finish();
                        var err = abortError(signal);
                        waiting.splice(0).forEach(function (w) { w.reject(err); });
                    };
                    signal.addEventListener('abort', onAbort, { once: true });
                }
            }
            var iterator = {
                next: function next() {
                    if (finished) {
                        return Promise.resolve({ value: undefined, done: true });
                    }
                    if (!started) {
                        started = true;
                        try {
                            start();
                        } catch (e) {
                            finish();
                            return Promise.reject(e);
                        }
                    }
                    if (notYielded > 0) {
                        notYielded--;
                        return Promise.resolve({ value: value, done: false });
                    }
                    return new Promise(function (resolve, reject) {
                        waiting.push({ resolve: resolve, reject: reject });
                    });
                },
                'return': function (v) {
                    finish();
                    waiting.splice(0).forEach(function (w) {
                        w.resolve({ value: undefined, done: true });
                    });
                    return Promise.resolve({ value: v, done: true });
                }
            };
            iterator[Symbol.asyncIterator] = function () {
                return this;
            };
            return iterator;
        }
        return {
            setInterval: setIntervalIterator,
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

    /* ---- assert ---------------------------------------------------------------------------- */

    var kReadableOperator = {
        deepStrictEqual: 'Expected values to be strictly deep-equal:',
        strictEqual: 'Expected values to be strictly equal:',
        strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
        deepEqual: 'Expected values to be loosely deep-equal:',
        notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
        notStrictEqual: 'Expected "actual" to be strictly unequal to:',
        notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
        notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
        notIdentical: 'Values have same structure but are not reference-equal:',
        notDeepEqualUnequal: 'Expected values not to be loosely deep-equal:'
    };

    function inspectValue(v) {
        return internals.inspect(v, {
            compact: false, customInspect: false, depth: 1000, maxArrayLength: Infinity,
            showHidden: false
        });
    }

    function repeatStr(str, n) {
        return new Array(n + 1).join(str);
    }

    /* Node 20's createErrDiff (lib/internal/assert/assertion_error.js), without colours. */
    function createErrDiff(actual, expected, operator) {
        var other = '';
        var res = '';
        var end = '';
        var skipped = false;
        var actualInspected = inspectValue(actual);
        var actualLines = actualInspected.split('\n');
        var expectedLines = inspectValue(expected).split('\n');
        var i = 0;
        var indicator = '';
        if (operator === 'strictEqual' &&
            ((typeof actual === 'object' && actual !== null && typeof expected === 'object' &&
              expected !== null) ||
             (typeof actual === 'function' && typeof expected === 'function'))) {
            operator = 'strictEqualObject';
        }
        if (actualLines.length === 1 && expectedLines.length === 1 &&
            actualLines[0] !== expectedLines[0]) {
            var actualRaw = actualLines[0];
            var expectedRaw = expectedLines[0];
            var inputLength = actualRaw.length + expectedRaw.length;
            if (inputLength <= 12) {
                if ((typeof actual !== 'object' || actual === null) &&
                    (typeof expected !== 'object' || expected === null) &&
                    (actual !== 0 || expected !== 0)) {
                    return kReadableOperator[operator] + '\n\n' + actualLines[0] + ' !== ' +
                        expectedLines[0] + '\n';
                }
            } else if (operator !== 'strictEqualObject') {
                var stderr = internals.process.stderr;
                var maxLength = stderr.isTTY && stderr.columns ? stderr.columns : 80;
                if (inputLength < maxLength) {
                    while (actualRaw[i] === expectedRaw[i]) {
                        i++;
                    }
                    if (i > 2) {
                        indicator = '\n  ' + repeatStr(' ', i) + '^';
                        i = 0;
                    }
                }
            }
        }
        var a = actualLines[actualLines.length - 1];
        var b = expectedLines[expectedLines.length - 1];
        while (a === b) {
            if (i++ < 3) {
                end = '\n  ' + a + end;
            } else {
                other = a;
            }
            actualLines.pop();
            expectedLines.pop();
            if (actualLines.length === 0 || expectedLines.length === 0) {
                break;
            }
            a = actualLines[actualLines.length - 1];
            b = expectedLines[expectedLines.length - 1];
        }
        var maxLines = Math.max(actualLines.length, expectedLines.length);
        if (maxLines === 0) {
            var all = actualInspected.split('\n');
            if (all.length > 50) {
                all[46] = '...';
                while (all.length > 47) {
                    all.pop();
                }
            }
            return kReadableOperator.notIdentical + '\n\n' + all.join('\n') + '\n';
        }
        if (i >= 5) {
            end = '\n...' + end;
            skipped = true;
        }
        if (other !== '') {
            end = '\n  ' + other + end;
            other = '';
        }
        var printedLines = 0;
        var identical = 0;
        var msg = kReadableOperator[operator] + '\n+ actual - expected';
        var skippedMsg = ' ... Lines skipped';
        var lines = actualLines;
        var plusMinus = '+';
        var maxLength2 = expectedLines.length;
        if (actualLines.length < maxLines) {
            lines = expectedLines;
            plusMinus = '-';
            maxLength2 = actualLines.length;
        }
        function flushIdentical(source, at) {
            if (identical > 2) {
                if (identical > 3) {
                    if (identical > 4) {
                        if (identical === 5) {
                            res += '\n  ' + source[at - 3];
                            printedLines++;
                        } else {
                            res += '\n...';
                            skipped = true;
                        }
                    }
                    res += '\n  ' + source[at - 2];
                    printedLines++;
                }
                res += '\n  ' + source[at - 1];
                printedLines++;
            }
            identical = 0;
        }
        for (i = 0; i < maxLines; i++) {
            if (maxLength2 < i + 1) {
                flushIdentical(lines, i);
                if (lines === actualLines) {
                    res += '\n' + plusMinus + ' ' + lines[i];
                } else {
                    other += '\n' + plusMinus + ' ' + lines[i];
                }
                printedLines++;
            } else {
                var expectedLine = expectedLines[i];
                var actualLine = actualLines[i];
                var diverging = actualLine !== expectedLine &&
                    (actualLine.slice(-1) !== ',' || actualLine.slice(0, -1) !== expectedLine);
                if (diverging && expectedLine.slice(-1) === ',' &&
                    expectedLine.slice(0, -1) === actualLine) {
                    diverging = false;
                    actualLine += ',';
                }
                if (diverging) {
                    flushIdentical(actualLines, i);
                    res += '\n+ ' + actualLine;
                    other += '\n- ' + expectedLine;
                    printedLines += 2;
                } else {
                    res += other;
                    other = '';
                    identical++;
                    if (identical <= 2) {
                        res += '\n  ' + actualLine;
                        printedLines++;
                    }
                }
            }
            if (printedLines > 50 && i < maxLines - 2) {
                return msg + skippedMsg + '\n' + res + '\n...' + other + '\n...';
            }
        }
        return msg + (skipped ? skippedMsg : '') + '\n' + res + other + end + indicator;
    }

    function AssertionError(options) {
        if (options === null || typeof options !== 'object') {
            throw internals.invalidArgType('options', 'object', options);
        }
        var message = options.message;
        var operator = options.operator;
        var actual = options.actual;
        var expected = options.expected;
        var text;
        if (message !== undefined && message !== null) {
            text = String(message);
        } else if (operator === 'deepStrictEqual' || operator === 'strictEqual') {
            text = createErrDiff(actual, expected, operator);
        } else if (operator === 'notDeepStrictEqual' || operator === 'notStrictEqual') {
            var base = kReadableOperator[operator];
            var res = inspectValue(actual).split('\n');
            if (operator === 'notStrictEqual' &&
                ((typeof actual === 'object' && actual !== null) || typeof actual === 'function')) {
                base = kReadableOperator.notStrictEqualObject;
            }
            if (res.length > 50) {
                res[46] = '...';
                while (res.length > 47) {
                    res.pop();
                }
            }
            text = res.length === 1 ? base + (res[0].length > 5 ? '\n\n' : ' ') + res[0]
                : base + '\n\n' + res.join('\n') + '\n';
        } else {
            var r = inspectValue(actual);
            var o = inspectValue(expected);
            var known = kReadableOperator[operator];
            if (operator === 'notDeepEqual' && r === o) {
                r = known + '\n\n' + r;
                text = r.length > 1024 ? r.slice(0, 1021) + '...' : r;
            } else {
                if (r.length > 512) {
                    r = r.slice(0, 509) + '...';
                }
                if (o.length > 512) {
                    o = o.slice(0, 509) + '...';
                }
                if (operator === 'deepEqual') {
                    r = known + '\n\n' + r + '\n\nshould loosely deep-equal\n\n';
                } else {
                    var newOp = kReadableOperator[operator + 'Unequal'];
                    if (newOp) {
                        r = newOp + '\n\n' + r + '\n\nshould not loosely deep-equal\n\n';
                    } else {
                        o = ' ' + operator + ' ' + o;
                    }
                }
                text = r + o;
            }
        }
        var err = new Error(text);
        Object.setPrototypeOf(err, Object.getPrototypeOf(this));
        err.generatedMessage = !message;
        err.code = 'ERR_ASSERTION';
        err.actual = actual;
        err.expected = expected;
        err.operator = operator;
        try {
            var stack = err.stack;
            if (typeof stack === 'string') {
                Object.defineProperty(err, 'stack', {
                    value: 'AssertionError [ERR_ASSERTION]: ' + stack.replace(/^[^\n]*: /, ''),
                    writable: true, configurable: true
                });
            }
        } catch (e) { /* stack is informative only */ }
        return err;
    }
    AssertionError.prototype = Object.create(Error.prototype, {
        constructor: { value: AssertionError, writable: true, configurable: true },
        name: { value: 'AssertionError', writable: true, configurable: true },
        toString: {
            value: function toString() {
                return this.name + ' [' + this.code + ']: ' + this.message;
            },
            writable: true, configurable: true
        }
    });
    Object.setPrototypeOf(AssertionError, Error);

    function innerFail(obj) {
        if (obj.message instanceof Error) {
            throw obj.message;
        }
        throw new AssertionError(obj);
    }

    /* The source text of the failing call, as Node prints it for assert.ok(falsy): the
     * caller's line (Duktape's stack has no columns), from the call's callee to its closing
     * parenthesis. Undefined when the source cannot be read. */
    function callSource() {
        var stack;
        try {
            stack = String(new Error().stack).split('\n');
        } catch (e) {
            return undefined;
        }
        for (var i = 1; i < stack.length; i++) {
            var m = /\(([^()]*):(\d+)\)/.exec(stack[i]);
            if (!m || /^evl:/.test(m[1]) || /\.c$/.test(m[1]) || m[1].charAt(0) === '[') {
                continue;
            }
            var line;
            try {
                line = native.readFile(m[1]).split('\n')[Number(m[2]) - 1];
            } catch (e2) {
                return undefined;
            }
            if (typeof line !== 'string') {
                return undefined;
            }
            var re = /[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*\s*\(/g;
            var call;
            while ((call = re.exec(line)) !== null) {
                if (!/(^|\.)\s*(ok|assert)\s*\($/.test(call[0])) {
                    continue;
                }
                var depth = 0;
                for (var j = call.index + call[0].length - 1; j < line.length; j++) {
                    var ch = line.charAt(j);
                    if (ch === '(') {
                        depth++;
                    } else if (ch === ')' && --depth === 0) {
                        return line.slice(call.index, j + 1);
                    }
                }
                return undefined;
            }
            return undefined;
        }
        return undefined;
    }

    function innerOk(fn, argLen, value, message) {
        if (!value) {
            var generatedMessage = false;
            if (argLen === 0) {
                generatedMessage = true;
                message = 'No value argument passed to `assert.ok()`';
            } else if (message === undefined || message === null) {
                generatedMessage = true;
                var source = callSource();
                message = source !== undefined
                    ? 'The expression evaluated to a falsy value:\n\n  ' + source + '\n'
                    : internals.inspect(value) + ' == true';
            } else if (message instanceof Error) {
                throw message;
            }
            var err = new AssertionError({
                actual: value, expected: true, message: message, operator: '=='
            });
            err.generatedMessage = generatedMessage;
            throw err;
        }
    }

    function checkIsPromise(obj) {
        return internals.promiseState(obj) !== undefined ||
            (obj !== null && typeof obj === 'object' && typeof obj.then === 'function' &&
             typeof obj['catch'] === 'function');
    }

    var NO_EXCEPTION = {};

    function getActual(fn) {
        validateFunction(fn, 'fn');
        try {
            fn();
        } catch (e) {
            return e;
        }
        return NO_EXCEPTION;
    }

    function waitForActual(promiseFn) {
        return Promise.resolve().then(function () {
            var resultPromise;
            if (typeof promiseFn === 'function') {
                resultPromise = promiseFn();
                if (!checkIsPromise(resultPromise)) {
                    throw nodeError(TypeError, 'ERR_INVALID_RETURN_VALUE', 'Expected instance ' +
                        'of Promise to be returned from the "promiseFn" function but got ' +
                        (resultPromise === null ? 'null' : typeof resultPromise) + '.');
                }
            } else if (checkIsPromise(promiseFn)) {
                resultPromise = promiseFn;
            } else {
                throw internals.invalidArgType('promiseFn', 'function or an instance of Promise',
                    promiseFn);
            }
            return resultPromise.then(function () {
                return NO_EXCEPTION;
            }, function (e) {
                return e;
            });
        });
    }

    function Comparison(obj, keys, actual) {
        var self = this;
        keys.forEach(function (key) {
            if (key in obj) {
                if (actual !== undefined && typeof actual[key] === 'string' &&
                    obj[key] instanceof RegExp && obj[key].exec(actual[key]) !== null) {
                    self[key] = actual[key];
                } else {
                    self[key] = obj[key];
                }
            }
        });
    }

    function compareExceptionKey(actual, expected, key, message, keys, fn) {
        if (!(key in actual) || !isDeepStrictEqual(actual[key], expected[key])) {
            if (!message) {
                var a = new Comparison(actual, keys);
                var b = new Comparison(expected, keys, actual);
                var err = new AssertionError({
                    actual: a, expected: b, operator: 'deepStrictEqual'
                });
                err.actual = actual;
                err.expected = expected;
                err.operator = fn.name;
                throw err;
            }
            innerFail({ actual: actual, expected: expected, message: message,
                operator: fn.name });
        }
    }

    function isErrorClass(fn) {
        return fn.prototype !== undefined && (fn === Error || fn.prototype instanceof Error);
    }

    function expectedException(actual, expected, message, fn) {
        var generatedMessage = false;
        var throwError = false;
        if (typeof expected !== 'function') {
            if (expected instanceof RegExp) {
                var str = String(actual);
                if (expected.exec(str) !== null) {
                    return;
                }
                if (!message) {
                    generatedMessage = true;
                    message = 'The input did not match the regular expression ' +
                        internals.inspect(expected) + '. Input:\n\n' + internals.inspect(str) +
                        '\n';
                }
                throwError = true;
            } else if (typeof actual !== 'object' || actual === null) {
                var e0 = new AssertionError({
                    actual: actual, expected: expected, message: message,
                    operator: 'deepStrictEqual'
                });
                e0.operator = fn.name;
                throw e0;
            } else {
                var keys = Object.keys(expected);
                if (expected instanceof Error) {
                    keys.push('name', 'message');
                } else if (keys.length === 0) {
                    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', "The argument " +
                        "'error' may not be an empty object. Received {}");
                }
                keys.forEach(function (key) {
                    if (typeof actual[key] === 'string' && expected[key] instanceof RegExp &&
                        expected[key].exec(actual[key]) !== null) {
                        return;
                    }
                    compareExceptionKey(actual, expected, key, message, keys, fn);
                });
                return;
            }
        } else if (expected.prototype !== undefined && actual instanceof expected) {
            return;
        } else if (isErrorClass(expected)) {
            if (!message) {
                generatedMessage = true;
                message = 'The error is expected to be an instance of "' + expected.name +
                    '". Received ';
                if (actual instanceof Error) {
                    message += '"' + actual.name + '"';
                } else {
                    message += '"' + internals.inspect(actual, { depth: -1 }) + '"';
                }
                if (actual && actual.message !== undefined) {
                    message += '\n\nError message:\n\n' + actual.message;
                }
            }
            throwError = true;
        } else {
            var res = expected.call({}, actual);
            if (res !== true) {
                if (!message) {
                    generatedMessage = true;
                    var name = expected.name ? '"' + expected.name + '" ' : '';
                    message = 'The ' + name + 'validation function is expected to return' +
                        ' "true". Received ' + internals.inspect(res);
                    if (actual instanceof Error) {
                        message += '\n\nCaught error:\n\n' + actual;
                    }
                }
                throwError = true;
            }
        }
        if (throwError) {
            var err = new AssertionError({
                actual: actual, expected: expected, message: message, operator: fn.name
            });
            err.generatedMessage = generatedMessage;
            throw err;
        }
    }

    function expectsError(fn, actual, error, message) {
        if (typeof error === 'string') {
            if (arguments.length === 4) {
                throw internals.invalidArgType('error', 'Object, Error, Function, or RegExp',
                    error);
            }
            message = error;
            error = undefined;
        } else if (error !== undefined && error !== null && typeof error !== 'object' &&
                   typeof error !== 'function') {
            throw internals.invalidArgType('error', 'Object, Error, Function, or RegExp',
                error);
        }
        if (actual === NO_EXCEPTION) {
            var details = '';
            if (error && error.name) {
                details += ' (' + error.name + ')';
            }
            details += message ? ': ' + message : '.';
            var fnType = fn.name === 'rejects' ? 'rejection' : 'exception';
            innerFail({
                actual: undefined, expected: error, operator: fn.name,
                message: 'Missing expected ' + fnType + details
            });
        }
        if (!error) {
            return;
        }
        expectedException(actual, error, message, fn);
    }

    function expectsNoError(fn, actual, error, message) {
        if (actual === NO_EXCEPTION) {
            return;
        }
        if (typeof error === 'string') {
            message = error;
            error = undefined;
        }
        if (!error || (typeof error === 'function' && error.prototype !== undefined &&
                       actual instanceof error)) {
            var details = message ? ': ' + message : '.';
            var fnType = fn.name === 'doesNotReject' ? 'rejection' : 'exception';
            innerFail({
                actual: actual, expected: error, operator: fn.name,
                message: 'Got unwanted ' + fnType + details + '\nActual message: "' +
                    (actual && actual.message) + '"'
            });
        }
        throw actual;
    }

    function makeAssert(strict) {
        var assert = function ok() {
            innerOk(ok, arguments.length, arguments[0], arguments[1]);
        };
        if (strict) {
            assert = function strict() {
                innerOk(strict, arguments.length, arguments[0], arguments[1]);
            };
        }
        assert.ok = function ok() {
            innerOk(ok, arguments.length, arguments[0], arguments[1]);
        };
        assert.AssertionError = AssertionError;
        assert.fail = function fail(actual, expected, message, operator) {
            var argsLen = arguments.length;
            var internalMessage = false;
            if (argsLen === 0) {
                internalMessage = 'Failed';
            } else if (argsLen === 1) {
                message = actual;
                actual = undefined;
            } else {
                if (argsLen === 2) {
                    operator = '!=';
                }
            }
            if (message instanceof Error) {
                throw message;
            }
            var err = new AssertionError({
                actual: actual, expected: expected, operator: operator === undefined ? 'fail'
                    : operator, message: internalMessage || message
            });
            if (internalMessage) {
                err.generatedMessage = true;
            }
            throw err;
        };
        function notDeep(name, isStrict, negate) {
            return function (actual, expected, message) {
                if (arguments.length < 2) {
                    throw nodeError(TypeError, 'ERR_MISSING_ARGS',
                        'The "actual" and "expected" arguments must be specified');
                }
                if (deepEqual(actual, expected, isStrict, []) === negate) {
                    innerFail({ actual: actual, expected: expected, message: message,
                        operator: name });
                }
            };
        }
        function named(fn, name) {
            Object.defineProperty(fn, 'name', { value: name, configurable: true });
            return fn;
        }
        function checkArgs(n) {
            if (n < 2) {
                throw nodeError(TypeError, 'ERR_MISSING_ARGS',
                    'The "actual" and "expected" arguments must be specified');
            }
        }
        var legacy = {
            equal: named(function (actual, expected, message) {
                checkArgs(arguments.length);
                /* eslint-disable-next-line eqeqeq */
                if (actual != expected && (actual === actual || expected === expected)) {
                    innerFail({ actual: actual, expected: expected, message: message,
                        operator: '==' });
                }
            }, 'equal'),
            notEqual: named(function (actual, expected, message) {
                checkArgs(arguments.length);
                /* eslint-disable-next-line eqeqeq */
                if (actual == expected || (actual !== actual && expected !== expected)) {
                    innerFail({ actual: actual, expected: expected, message: message,
                        operator: '!=' });
                }
            }, 'notEqual'),
            deepEqual: named(notDeep('deepEqual', false, false), 'deepEqual'),
            notDeepEqual: named(notDeep('notDeepEqual', false, true), 'notDeepEqual')
        };
        assert.deepStrictEqual = named(notDeep('deepStrictEqual', true, false),
            'deepStrictEqual');
        assert.notDeepStrictEqual = named(notDeep('notDeepStrictEqual', true, true),
            'notDeepStrictEqual');
        assert.strictEqual = named(function (actual, expected, message) {
            checkArgs(arguments.length);
            if (!Object.is(actual, expected)) {
                innerFail({ actual: actual, expected: expected, message: message,
                    operator: 'strictEqual' });
            }
        }, 'strictEqual');
        assert.notStrictEqual = named(function (actual, expected, message) {
            checkArgs(arguments.length);
            if (Object.is(actual, expected)) {
                innerFail({ actual: actual, expected: expected, message: message,
                    operator: 'notStrictEqual' });
            }
        }, 'notStrictEqual');
        if (strict) {
            assert.equal = assert.strictEqual;
            assert.notEqual = assert.notStrictEqual;
            assert.deepEqual = assert.deepStrictEqual;
            assert.notDeepEqual = assert.notDeepStrictEqual;
        } else {
            assert.equal = legacy.equal;
            assert.notEqual = legacy.notEqual;
            assert.deepEqual = legacy.deepEqual;
            assert.notDeepEqual = legacy.notDeepEqual;
        }
        assert.throws = function throws(promiseFn) {
            var args = Array.prototype.slice.call(arguments, 1);
            expectsError.apply(null, [throws, getActual(promiseFn)].concat(args));
        };
        assert.doesNotThrow = function doesNotThrow(fn) {
            var args = Array.prototype.slice.call(arguments, 1);
            expectsNoError.apply(null, [doesNotThrow, getActual(fn)].concat(args));
        };
        assert.rejects = function rejects(promiseFn) {
            var args = Array.prototype.slice.call(arguments, 1);
            return waitForActual(promiseFn).then(function (actual) {
                expectsError.apply(null, [rejects, actual].concat(args));
            });
        };
        assert.doesNotReject = function doesNotReject(fn) {
            var args = Array.prototype.slice.call(arguments, 1);
            return waitForActual(fn).then(function (actual) {
                expectsNoError.apply(null, [doesNotReject, actual].concat(args));
            });
        };
        assert.ifError = function ifError(err) {
            if (err !== null && err !== undefined) {
                var message = 'ifError got unwanted exception: ';
                if (typeof err === 'object' && typeof err.message === 'string') {
                    message += err.message.length === 0 && err.constructor
                        ? err.constructor.name : err.message;
                } else {
                    message += internals.inspect(err);
                }
                var e = new AssertionError({
                    actual: err, expected: null, operator: 'ifError', message: message
                });
                e.generatedMessage = false;
                throw e;
            }
        };
        function matchImpl(string, regexp, message, fn, negate) {
            if (!(regexp instanceof RegExp)) {
                throw internals.invalidArgType('regexp', 'an instance of RegExp', regexp);
            }
            if (typeof string !== 'string' || (regexp.exec(string) !== null) === negate) {
                if (message instanceof Error) {
                    throw message;
                }
                var generatedMessage = !message;
                message = message || (typeof string !== 'string'
                    ? 'The "string" argument must be of type string. Received type ' +
                      typeof string + ' (' + internals.inspect(string) + ')'
                    : (negate ? 'The input was expected to not match the regular expression '
                        : 'The input did not match the regular expression ') +
                      internals.inspect(regexp) + '. Input:\n\n' + internals.inspect(string) +
                      '\n');
                var err = new AssertionError({
                    actual: string, expected: regexp, message: message, operator: fn.name
                });
                err.generatedMessage = generatedMessage;
                throw err;
            }
        }
        assert.match = function match(string, regexp, message) {
            matchImpl(string, regexp, message, match, false);
        };
        assert.doesNotMatch = function doesNotMatch(string, regexp, message) {
            matchImpl(string, regexp, message, doesNotMatch, true);
        };
        return assert;
    }

    var assertModules;
    function assertPair() {
        if (!assertModules) {
            var loose = makeAssert(false);
            var strictAssert = makeAssert(true);
            loose.strict = strictAssert;
            strictAssert.strict = strictAssert;
            assertModules = { assert: loose, strict: strictAssert };
        }
        return assertModules;
    }
    lazy.assert = function () {
        return assertPair().assert;
    };
    lazy['assert/strict'] = function () {
        return assertPair().strict;
    };

    internals.isDeepStrictEqual = isDeepStrictEqual;
    internals.deepEqual = deepEqual;
});

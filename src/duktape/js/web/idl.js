/*
 * WebIDL plumbing shared by the web platform preludes (js/web/*.js). ES5 only: this runs
 * inside Duktape. Called as fn(global, native, web); fills the shared object `web` that every
 * later prelude receives, returns nothing.
 *
 * Internal slots live under one hidden-symbol key handed over by C (native.slotKey): scripts
 * cannot name a hidden symbol, so the state of a platform object cannot be read, forged or
 * enumerated, which is what WebIDL's brand checks rely on.
 */
(function (global, native, web) {
    'use strict';

    var SLOT = native.slotKey;
    var defineProperty = Object.defineProperty;
    var hasOwn = Object.prototype.hasOwnProperty;

    web.SLOT = SLOT;

    /* Sets the length and name WebIDL gives an operation or accessor. */
    function fnShape(fn, name, length) {
        defineProperty(fn, 'name', { value: name, writable: false, enumerable: false, configurable: true });
        defineProperty(fn, 'length', { value: length, writable: false, enumerable: false, configurable: true });
        return fn;
    }
    web.fnShape = fnShape;

    /* Node's ERR_* shape: a TypeError/RangeError with an enumerable own `code`. */
    function codedError(Ctor, code, message) {
        var err = new Ctor(message);
        defineProperty(err, 'code', { value: code, writable: true, enumerable: true, configurable: true });
        return err;
    }
    web.codedError = codedError;

    function illegalInvocation(iface) {
        return codedError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type ' + iface);
    }
    web.illegalInvocation = illegalInvocation;

    /* The internal state of a platform object of the given brand, or a TypeError. Brands are
     * lists so that subclasses (AbortSignal is an EventTarget) pass the parent's check. */
    function impl(obj, brand) {
        var s = obj !== null && (typeof obj === 'object' || typeof obj === 'function') ? obj[SLOT] : undefined;
        if (s === undefined || !s.brands || s.brands[brand] !== true) {
            throw illegalInvocation(brand);
        }
        return s;
    }
    web.impl = impl;

    function is(obj, brand) {
        var s = obj !== null && (typeof obj === 'object' || typeof obj === 'function') ? obj[SLOT] : undefined;
        return s !== undefined && !!s.brands && s.brands[brand] === true;
    }
    web.is = is;

    /* Gives obj its internal state. A plain assignment is enough: a hidden-symbol key is
     * never enumerated and no script can name it to read, change or delete it. */
    function setSlot(obj, state) {
        obj[SLOT] = state;
        return state;
    }
    web.setSlot = setSlot;

    /* Brand sets are shared between objects of one interface (never mutated), so creating
     * an event or a signal does not build a new one each time. */
    var brandCache = {};
    function brands(list) {
        var key = list.join(',');
        var b = brandCache[key];
        if (b === undefined) {
            b = {};
            for (var i = 0; i < list.length; i++) {
                b[list[i]] = true;
            }
            brandCache[key] = b;
        }
        return b;
    }
    web.brands = brands;

    /* ---- conversions (WebIDL "JavaScript type mapping") ---- */

    function requireArgs(count, needed, iface, member) {
        if (count < needed) {
            throw new TypeError("Failed to execute '" + member + "' on '" + iface + "': " + needed +
                ' argument' + (needed === 1 ? '' : 's') + ' required, but only ' + count + ' present.');
        }
    }
    web.requireArgs = requireArgs;

    function toDOMString(v) {
        if (typeof v === 'symbol') {
            throw new TypeError('Cannot convert a Symbol value to a string');
        }
        return String(v);
    }
    web.toDOMString = toDOMString;

    /* USVString: lone surrogates become U+FFFD. */
    function toUSVString(v) {
        var s = toDOMString(v);
        var out = null;
        for (var i = 0; i < s.length; i++) {
            var c = s.charCodeAt(i);
            if (c >= 0xd800 && c <= 0xdfff) {
                var ok = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
                if (out === null) {
                    out = s.slice(0, i);
                }
                if (ok) {
                    out += s.charAt(i) + s.charAt(i + 1);
                    i++;
                } else {
                    out += '\ufffd';
                }
            } else if (out !== null) {
                out += s.charAt(i);
            }
        }
        return out === null ? s : out;
    }
    web.toUSVString = toUSVString;

    function toNumber(v) {
        if (typeof v === 'symbol') {
            throw new TypeError('Cannot convert a Symbol value to a number');
        }
        return Number(v);
    }

    /* double: finite or TypeError; unrestricted double: any number. */
    function toDouble(v, what) {
        var n = toNumber(v);
        if (!isFinite(n)) {
            throw new TypeError((what || 'Value') + ' is not a finite floating-point value.');
        }
        return n;
    }
    web.toDouble = toDouble;

    /* [EnforceRange] unsigned long long. */
    function toEnforcedULL(v, what) {
        var n = toNumber(v);
        if (!isFinite(n)) {
            throw new TypeError((what || 'Value') + ' is not a finite number.');
        }
        n = n < 0 ? Math.ceil(n) : Math.floor(n);
        if (n < 0 || n > 9007199254740991) {
            throw new TypeError((what || 'Value') + ' is outside the accepted range of 0 to 9007199254740991.');
        }
        return n;
    }
    web.toEnforcedULL = toEnforcedULL;

    /* unsigned long long without [EnforceRange]: modulo 2^64 then clamped to what a double holds. */
    function toULL(v) {
        var n = toNumber(v);
        if (!isFinite(n) || n === 0) {
            return 0;
        }
        n = n < 0 ? Math.ceil(n) : Math.floor(n);
        var m = n % 18446744073709551616;
        return m < 0 ? m + 18446744073709551616 : m;
    }
    web.toULL = toULL;

    /* long long ([Clamp]-free): ToIntegerOrInfinity then modulo into the signed range. */
    function toLongLong(v) {
        var n = toNumber(v);
        if (!isFinite(n) || n === 0) {
            return 0;
        }
        n = n < 0 ? Math.ceil(n) : Math.floor(n);
        return n;
    }
    web.toLongLong = toLongLong;

    /* Dictionaries: undefined and null are the empty dictionary; other non-objects throw. */
    function toDictionary(v, name) {
        if (v === undefined || v === null) {
            return {};
        }
        if (typeof v !== 'object' && typeof v !== 'function') {
            throw new TypeError("The provided value is not of type '" + name + "'.");
        }
        return v;
    }
    web.toDictionary = toDictionary;

    /* sequence<T>: an iterable object, read to the end (arrays without the iterator, which
     * Duktape's arrays lack). */
    function toSequence(v, name) {
        if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
            throw new TypeError('The provided value' + (name ? ' for "' + name + '"' : '') + ' cannot be converted to a sequence.');
        }
        var iterFn = v[Symbol.iterator];
        if (iterFn === undefined || iterFn === null) {
            if (Array.isArray(v)) {
                return Array.prototype.slice.call(v);
            }
            throw new TypeError('The provided value' + (name ? ' for "' + name + '"' : '') + ' cannot be converted to a sequence.');
        }
        if (typeof iterFn !== 'function') {
            throw new TypeError('The object\'s @@iterator is not callable.');
        }
        var it = iterFn.call(v);
        var out = [];
        for (;;) {
            var step = it.next();
            if (step === null || (typeof step !== 'object' && typeof step !== 'function')) {
                throw new TypeError('Iterator result is not an object');
            }
            if (step.done) {
                return out;
            }
            out.push(step.value);
        }
    }
    web.toSequence = toSequence;

    /* ---- interface objects ---- */

    function dataProp(obj, name, value, enumerable) {
        defineProperty(obj, name, { value: value, writable: true, enumerable: !!enumerable, configurable: true });
    }
    web.dataProp = dataProp;

    /*
     * Shapes ctor as a WebIDL interface object: prototype operations (enumerable, with
     * length/name), accessors ("get X"/"set X", enumerable), constants (on both), statics,
     * @@toStringTag. spec = { name, parent, ops: {name: [fn, length]}, attrs: {name: [get,
     * set]}, constants: {NAME: value}, statics: {name: [fn, length]}, length }.
     */
    function defineInterface(ctor, spec) {
        var proto = ctor.prototype;
        if (spec.parent) {
            Object.setPrototypeOf(ctor, spec.parent);
            proto = Object.create(spec.parent.prototype);
            defineProperty(ctor, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
        } else {
            defineProperty(ctor, 'prototype', { writable: false });
        }
        defineProperty(proto, 'constructor', { value: ctor, writable: true, enumerable: false, configurable: true });
        fnShape(ctor, spec.name, spec.length || 0);
        var k;
        if (spec.constants) {
            for (k in spec.constants) {
                if (hasOwn.call(spec.constants, k)) {
                    defineProperty(ctor, k, { value: spec.constants[k], writable: false, enumerable: true, configurable: false });
                    defineProperty(proto, k, { value: spec.constants[k], writable: false, enumerable: true, configurable: false });
                }
            }
        }
        if (spec.attrs) {
            for (k in spec.attrs) {
                if (hasOwn.call(spec.attrs, k)) {
                    var a = spec.attrs[k];
                    defineProperty(proto, k, {
                        get: fnShape(a[0], 'get ' + k, 0),
                        set: a[1] ? fnShape(a[1], 'set ' + k, 1) : undefined,
                        enumerable: true,
                        configurable: true
                    });
                }
            }
        }
        if (spec.ops) {
            for (k in spec.ops) {
                if (hasOwn.call(spec.ops, k)) {
                    defineProperty(proto, k, {
                        value: fnShape(spec.ops[k][0], k, spec.ops[k][1]),
                        writable: true, enumerable: true, configurable: true
                    });
                }
            }
        }
        if (spec.statics) {
            for (k in spec.statics) {
                if (hasOwn.call(spec.statics, k)) {
                    defineProperty(ctor, k, {
                        value: fnShape(spec.statics[k][0], k, spec.statics[k][1]),
                        writable: true, enumerable: true, configurable: true
                    });
                }
            }
        }
        defineProperty(proto, Symbol.toStringTag, { value: spec.name, writable: false, enumerable: false, configurable: true });
        return ctor;
    }
    web.defineInterface = defineInterface;

    /* Installs a global unless the host already defined one: embedders keep their own.
     * replaceEngine: the name is also one of Duktape's built-ins (a C function), which is
     * replaced because it is incomplete. */
    function exposeGlobal(name, value, enumerable, replaceEngine) {
        if (hasOwn.call(global, name) && global[name] !== undefined &&
            !(replaceEngine && native.isCFunction(global[name]))) {
            return false;
        }
        dataProp(global, name, value, enumerable);
        return true;
    }
    web.exposeGlobal = exposeGlobal;

    /* A readonly attribute of the global scope (crypto, performance): an enumerable accessor
     * named "get X"; [Replaceable] adds a setter that replaces it with a data property. */
    function exposeAttribute(name, value, replaceable, force) {
        if (!force && hasOwn.call(global, name) && global[name] !== undefined) {
            return false;
        }
        defineProperty(global, name, {
            get: fnShape(function () { return value; }, 'get ' + name, 0),
            set: replaceable ? fnShape(function (v) {
                defineProperty(global, name, { value: v, writable: true, enumerable: true, configurable: true });
            }, 'set ' + name, 1) : undefined,
            enumerable: true,
            configurable: true
        });
        return true;
    }
    web.exposeAttribute = exposeAttribute;

    /* `new` is the only way in, except ES5-style subclass constructors calling
     * Parent.call(this) on an object that already inherits from the prototype. */
    function checkConstruct(self, ctor, newTarget) {
        if (newTarget === undefined && !(self instanceof ctor && self[SLOT] === undefined)) {
            throw new TypeError("Class constructor " + ctor.name + " cannot be invoked without 'new'");
        }
    }
    web.checkConstruct = checkConstruct;

    function illegalConstructor() {
        return new TypeError('Illegal constructor');
    }
    web.illegalConstructor = illegalConstructor;

    /* Errors thrown by listeners and callbacks that the platform reports rather than
     * propagates take Node's path: re-thrown from a nextTick job, so they reach
     * 'uncaughtException' (or end the process) after the current dispatch completes. */
    var nextTick = native.nextTick;
    web.reportError = function (err) {
        nextTick(function () {
            throw err;
        });
    };

    web.now = native.hrnow;
})

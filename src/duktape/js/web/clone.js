/*
 * structuredClone (HTML §2.7 "Safe passing of structured data"): StructuredSerialize and
 * StructuredDeserialize fused into one walk, which is observably the same (getters run once,
 * in serialization order; a DataCloneError leaves no clone behind). The walk keeps its own
 * stack, so deep graphs never exhaust Duktape's call stack, and it marks visited objects
 * under a hidden-symbol key (Duktape has no Map), removing every mark before returning.
 * Called as fn(global, native, web); adds web.clone(value, transferList) and the hook lists
 * later preludes register serializable and transferable interfaces in.
 */
(function (global, native, web) {
    'use strict';

    var MARK = native.cloneKey;
    var copyPrimitives = native.copyPrimitives;
    var cloneFlat = native.cloneFlat;
    /* The internal class, as the spec's checks for internal slots need: Symbol.toStringTag
     * neither disguises an object nor has its getter run. */
    var classTag = native.classTag;
    var SLOT = web.SLOT;
    var toString = Object.prototype.toString;
    var hasOwn = Object.prototype.hasOwnProperty;
    var keysOf = Object.keys;
    var isExtensible = Object.isExtensible;
    var defineProperty = Object.defineProperty;
    var isArray = Array.isArray;
    var getTime = Date.prototype.getTime;
    var boolValueOf = Boolean.prototype.valueOf;
    var numValueOf = Number.prototype.valueOf;
    var strValueOf = String.prototype.valueOf;
    var regexpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
    var regexpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags').get;
    var abSlice = ArrayBuffer.prototype.slice;
    var errorCtors = {
        Error: Error, EvalError: EvalError, RangeError: RangeError, ReferenceError: ReferenceError,
        SyntaxError: SyntaxError, TypeError: TypeError, URIError: URIError
    };
    var viewCtors = {};
    ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
        'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView'].forEach(function (n) {
        if (typeof global[n] === 'function') {
            viewCtors['[object ' + n + ']'] = global[n];
        }
    });

    /* brand -> function (src, state) returning the deserialized copy (Blob, File...). */
    web.serializable = {};
    /* brand -> { transfer(src, state) -> new object, detached(state) -> bool }. */
    web.transferable = {};

    function cloneError(message) {
        return web.domError(message, 'DataCloneError');
    }

    function describe(v) {
        if (typeof v === 'function') {
            var src;
            try {
                src = String(v);
            } catch (e) {
                src = 'function';
            }
            return src;
        }
        if (typeof v === 'symbol') {
            return 'Symbol()';
        }
        return toString.call(v);
    }

    function Walk() {
        this.marked = [];    /* objects carrying MARK */
        this.outputs = [];   /* MARK value -> clone */
        this.sealedIn = [];  /* non-extensible sources (searched linearly) */
        this.sealedOut = [];
        this.stack = [];     /* frames: { src, dst, keys, i } */
        this.box = { v: undefined, read: false }; /* a value native.copyPrimitives read */
    }

    Walk.prototype.lookup = function (v) {
        if (hasOwn.call(v, MARK)) {
            return this.outputs[v[MARK]];
        }
        for (var i = 0; i < this.sealedIn.length; i++) {
            if (this.sealedIn[i] === v) {
                return this.sealedOut[i];
            }
        }
        return undefined;
    };

    Walk.prototype.remember = function (v, out) {
        if (isExtensible(v)) {
            defineProperty(v, MARK, { value: this.outputs.length, writable: false, enumerable: false, configurable: true });
            this.outputs.push(out);
            this.marked.push(v);
        } else {
            this.sealedIn.push(v);
            this.sealedOut.push(out);
        }
        return out;
    };

    Walk.prototype.release = function () {
        for (var i = 0; i < this.marked.length; i++) {
            delete this.marked[i][MARK];
        }
        this.marked = [];
    };

    function cloneBuffer(walk, buf) {
        var out = walk.lookup(buf);
        return out !== undefined ? out : walk.remember(buf, abSlice.call(buf, 0));
    }

    /* Clones v except for the properties of containers, which a frame fills afterwards. */
    Walk.prototype.shallow = function (v) {
        var t = typeof v;
        if (t === 'symbol') {
            throw cloneError(describe(v) + ' could not be cloned.');
        }
        if (v === null || (t !== 'object' && t !== 'function')) {
            return v;
        }
        var seen = this.lookup(v);
        if (seen !== undefined) {
            return seen;
        }
        if (t === 'function') {
            throw cloneError(describe(v) + ' could not be cloned.');
        }
        var st = v[SLOT];
        if (st !== undefined && st.brands) {
            for (var brand in web.serializable) {
                if (st.brands[brand] === true) {
                    return this.remember(v, web.serializable[brand](v, st));
                }
            }
            throw cloneError(describe(v) + ' could not be cloned.');
        }
        /* Containers holding only values that clone to themselves (no getters, no nested
         * objects) are copied by C in one step, which runs no script code. */
        var flat = cloneFlat(v);
        if (flat !== undefined) {
            return this.remember(v, flat);
        }
        if (isArray(v)) {
            var arr = this.remember(v, new Array(v.length));
            this.stack.push({ src: v, dst: arr, keys: keysOf(v), i: 0 });
            return arr;
        }
        var tag = classTag(v);
        switch (tag) {
        case '[object Boolean]':
            return this.remember(v, Object(boolValueOf.call(v)));
        case '[object Number]':
            return this.remember(v, Object(numValueOf.call(v)));
        case '[object String]':
            return this.remember(v, Object(strValueOf.call(v)));
        case '[object Date]':
            return this.remember(v, new Date(getTime.call(v)));
        case '[object RegExp]':
            return this.remember(v, new RegExp(regexpSource.call(v), regexpFlags.call(v)));
        case '[object ArrayBuffer]':
            return cloneBuffer(this, v);
        case '[object Error]':
            return this.error(v);
        case '[object Symbol]':
        case '[object Arguments]':
        case '[object global]':
        case '[object Pointer]':
        case '[object Thread]':
            /* Objects with internal slots of their own (Symbol wrappers, arguments objects,
             * the global object, Duktape's pointers and coroutines) are not serializable. */
            throw cloneError(describe(v) + ' could not be cloned.');
        default:
            if (hasOwn.call(viewCtors, tag)) {
                var buffer = cloneBuffer(this, v.buffer);
                var Ctor = viewCtors[tag];
                var len = tag === '[object DataView]' ? v.byteLength : v.length;
                return this.remember(v, new Ctor(buffer, v.byteOffset, len));
            }
            /* Ordinary objects (plain ones, Math, JSON...): own enumerable
             * string-keyed properties, the prototype not carried over. */
            var obj = this.remember(v, {});
            this.stack.push({ src: v, dst: obj, keys: keysOf(v), i: 0 });
            return obj;
        }
    };

    /* Errors: the name (one of the standard seven, else "Error"), an own message, an own
     * cause (cloned), and the stack as V8 and Node carry it. */
    Walk.prototype.error = function (v) {
        var name = v.name;
        var Ctor = typeof name === 'string' && hasOwn.call(errorCtors, name) ? errorCtors[name] : Error;
        /* Constructed, not Object.create(Ctor.prototype): only a constructed error has the
         * Error class, which Object.prototype.toString, inspection and a second clone see. */
        var out = this.remember(v, new Ctor());
        if (hasOwn.call(v, 'message')) {
            defineProperty(out, 'message', { value: String(v.message), writable: true, enumerable: false, configurable: true });
        }
        var stack = v.stack;
        if (typeof stack === 'string') {
            defineProperty(out, 'stack', { value: stack, writable: true, enumerable: false, configurable: true });
        }
        if (hasOwn.call(v, 'cause')) {
            var holder = { cause: v.cause };
            this.stack.push({ src: holder, dst: out, keys: ['cause'], i: 0, hidden: true });
        }
        return out;
    };

    /* Fills the containers depth first. The inner loop works on one frame from locals and
     * copies primitives inline, leaving the frame only when a child container was pushed. */
    Walk.prototype.run = function (value) {
        var result = this.shallow(value);
        var stack = this.stack;
        while (stack.length > 0) {
            var depth = stack.length;
            var f = stack[depth - 1];
            var src = f.src, dst = f.dst, keys = f.keys, n = keys.length, i = f.i;
            var plain = !f.hidden;
            var proto = Object.getPrototypeOf(src);
            /* The clone's prototype may have a setter or a read-only property of a key's
             * name, which a put would run into: such keys are defined instead, as the
             * spec's CreateDataProperty does. */
            var dstProto = Object.getPrototypeOf(dst);
            var otherProto = dstProto !== proto ? dstProto : undefined;
            var box = this.box;
            while (i < n) {
                if (plain) {
                    /* C copies the run of plain primitives; the rest comes back here. */
                    i = copyPrimitives(src, dst, keys, i, proto, box, otherProto);
                    if (i >= n) {
                        break;
                    }
                }
                var key = keys[i++];
                var v;
                /* A getter may have deleted a later key: the spec's HasOwnProperty check.
                 * Without an inherited property of that name, a deleted key reads as
                 * undefined with no side effect, so the check is needed only then. */
                var inherited = false;
                if (box.read) {
                    v = box.v;
                    box.read = false;
                    box.v = undefined;
                } else {
                    inherited = proto !== null && key in proto;
                    if (inherited && !hasOwn.call(src, key)) {
                        continue;
                    }
                    v = src[key];
                }
                if (v === undefined && !inherited && !hasOwn.call(src, key)) {
                    continue;
                }
                var tv = typeof v;
                var item = v === null || (tv !== 'object' && tv !== 'function' && tv !== 'symbol') ? v : this.shallow(v);
                if (plain && key !== '__proto__' && !(dstProto !== null && key in dstProto)) {
                    dst[key] = item;
                } else {
                    defineProperty(dst, key, { value: item, writable: true, enumerable: plain, configurable: true });
                }
                if (stack.length !== depth) {
                    break;
                }
            }
            f.i = i;
            if (stack.length === depth) {
                stack.pop();
            }
        }
        return result;
    };

    /* StructuredSerializeWithTransfer + deserialize: transfer list checks first, then the
     * walk with every transferred object already mapped to its new owner. */
    web.clone = function (value, transferList) {
        /* Primitives other than symbols clone to themselves: the common postMessage case
         * skips the walk's setup. */
        var tv = typeof value;
        if (transferList.length === 0 && (value === null || (tv !== 'object' && tv !== 'function' && tv !== 'symbol'))) {
            return value;
        }
        var walk = new Walk();
        var transfers = [];
        try {
            for (var i = 0; i < transferList.length; i++) {
                var t = transferList[i];
                var st = t !== null && typeof t === 'object' ? t[SLOT] : undefined;
                var kind = null;
                if (st !== undefined && st.brands) {
                    for (var brand in web.transferable) {
                        if (st.brands[brand] === true) {
                            kind = web.transferable[brand];
                        }
                    }
                }
                if (kind === null && classTag(t) === '[object ArrayBuffer]') {
                    /* Duktape cannot detach an ArrayBuffer, and a transfer that leaves the
                     * source usable would break the contract transfer promises. */
                    throw cloneError('Transferring an ArrayBuffer is not supported: the engine cannot detach it.');
                }
                if (kind === null) {
                    throw cloneError('Value not transferable');
                }
                for (var j = 0; j < transfers.length; j++) {
                    if (transfers[j].src === t) {
                        throw cloneError('Transfer list contains duplicate');
                    }
                }
                if (kind.detached(st)) {
                    throw cloneError('An object could not be cloned: it is detached.');
                }
                transfers.push({ src: t, state: st, kind: kind, out: {} });
            }
            /* Placeholders take the transferred objects' places during the walk. */
            for (i = 0; i < transfers.length; i++) {
                walk.remember(transfers[i].src, transfers[i].out);
            }
            var result = walk.run(value);
            walk.release();
            /* Only now, with nothing left to fail, do the transfers happen. */
            var replaced = [];
            for (i = 0; i < transfers.length; i++) {
                replaced.push(transfers[i].kind.transfer(transfers[i].src, transfers[i].state));
            }
            return transfers.length ? substitute(result, transfers, replaced) : result;
        } finally {
            walk.release();
        }
    };

    /* Swaps transfer placeholders for the transferred objects in a fresh clone (which holds
     * no getters and no cycles through foreign objects, so a plain walk is safe). */
    function substitute(root, transfers, replaced) {
        function swap(v) {
            for (var k = 0; k < transfers.length; k++) {
                if (transfers[k].out === v) {
                    return replaced[k];
                }
            }
            return v;
        }
        var seen = [];
        var todo = [root];
        root = swap(root);
        while (todo.length > 0) {
            var o = todo.pop();
            if (o === null || typeof o !== 'object' || seen.indexOf(o) >= 0) {
                continue;
            }
            seen.push(o);
            var ks = keysOf(o);
            for (var i = 0; i < ks.length; i++) {
                var v = o[ks[i]];
                var r = swap(v);
                if (r !== v) {
                    o[ks[i]] = r;
                } else if (v !== null && typeof v === 'object' && (isArray(v) || toString.call(v) === '[object Object]')) {
                    todo.push(v);
                }
            }
        }
        return root;
    }

    var structuredClone = web.fnShape(function (value, options) {
        web.requireArgs(arguments.length, 1, 'Window', 'structuredClone');
        var dict = web.toDictionary(options, 'StructuredSerializeOptions');
        var rawTransfer = dict.transfer;
        var transfer = rawTransfer === undefined ? [] : web.toSequence(rawTransfer, 'transfer');
        return web.clone(value, transfer);
    }, 'structuredClone', 1);

    web.serializable.DOMException = function (v, st) {
        return web.domError(st.message, st.name);
    };

    web.exposeGlobal('structuredClone', structuredClone, true);
})

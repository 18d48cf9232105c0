/*
 * console and a util.inspect-style renderer that follows Node 20's output for the values
 * Duktape has (no Map/Set/BigInt/classes): breakLength 80, compact 3, depth 2, array
 * grouping, `<ref *1>`/`[Circular *1]`, quoting rules, sparse arrays, boxed primitives.
 * Called as fn(global, native, internals, defineConsole); sets internals.inspect, .format and
 * .cleanStack, and defines the global console unless defineConsole is false.
 * ES5 only: this runs inside Duktape.
 */
(function (global, native, internals, defineConsole) {
    'use strict';

    var hasOwn = Object.prototype.hasOwnProperty;
    var objToString = Object.prototype.toString;
    var keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
    var numericRegExp = /^(0|[1-9][0-9]*)$/;

    function repeat(s, n) {
        var out = '';
        for (var i = 0; i < n; i++) {
            out += s;
        }
        return out;
    }

    function padStart(s, n) {
        return s.length >= n ? s : repeat(' ', n - s.length) + s;
    }

    function padEnd(s, n) {
        return s.length >= n ? s : s + repeat(' ', n - s.length);
    }

    var meta = {
        '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '\\': '\\\\'
    };

    function escapeChar(ch, quote) {
        if (meta[ch]) {
            return meta[ch];
        }
        if (ch === quote) {
            return '\\' + ch;
        }
        var code = ch.charCodeAt(0);
        if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
            return '\\x' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase();
        }
        return ch;
    }

    /* Node's strEscape: single quotes unless the string contains them. */
    function strEscape(str) {
        var quote = "'";
        if (str.indexOf("'") >= 0) {
            if (str.indexOf('"') < 0) {
                quote = '"';
            } else if (str.indexOf('`') < 0 && str.indexOf('${') < 0) {
                quote = '`';
            }
        }
        var out = '';
        for (var i = 0; i < str.length; i++) {
            out += escapeChar(str.charAt(i), quote);
        }
        return quote + out + quote;
    }

    function formatNumber(n) {
        if (n === 0 && 1 / n < 0) {
            return '-0';
        }
        return String(n);
    }

    function formatPrimitive(ctx, value) {
        switch (typeof value) {
        case 'string':
            var trailer = '';
            if (value.length > ctx.maxStringLength) {
                var remaining = value.length - ctx.maxStringLength;
                value = value.slice(0, ctx.maxStringLength);
                trailer = '... ' + remaining + ' more character' + (remaining > 1 ? 's' : '');
            }
            if (value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
                var lines = value.split(/\n/);
                if (lines.length > 1) {
                    var parts = [];
                    for (var i = 0; i < lines.length; i++) {
                        var line = i < lines.length - 1 ? lines[i] + '\n' : lines[i];
                        if (line !== '') {
                            parts.push(strEscape(line));
                        }
                    }
                    return parts.join(' +\n' + repeat(' ', ctx.indentationLvl + 2)) + trailer;
                }
            }
            return strEscape(value) + trailer;
        case 'number':
            return formatNumber(value);
        case 'boolean':
            return String(value);
        case 'undefined':
            return 'undefined';
        case 'symbol':
            return String(value);
        default:
            return String(value);
        }
    }

    function getConstructorName(obj) {
        var proto = obj;
        while (proto !== null && proto !== undefined) {
            var desc = Object.getOwnPropertyDescriptor(proto, 'constructor');
            if (desc && typeof desc.value === 'function' && typeof desc.value.name === 'string' &&
                desc.value.name !== '') {
                return desc.value.name;
            }
            proto = Object.getPrototypeOf(proto);
        }
        return null;
    }

    function getPrefix(constructor, tag, fallback, size) {
        size = size || '';
        if (constructor === null) {
            if (tag !== '' && fallback !== tag) {
                return '[' + fallback + size + ': null prototype] [' + tag + '] ';
            }
            return '[' + fallback + size + ': null prototype] ';
        }
        if (tag !== '' && constructor !== tag) {
            return constructor + size + ' [' + tag + '] ';
        }
        return constructor + size + ' ';
    }

    function isError(v) {
        return v instanceof Error || objToString.call(v) === '[object Error]';
    }

    function isDate(v) {
        return objToString.call(v) === '[object Date]';
    }

    function isRegExp(v) {
        return objToString.call(v) === '[object RegExp]';
    }

    function isArguments(v) {
        return objToString.call(v) === '[object Arguments]';
    }

    function typedArrayName(v) {
        if (typeof ArrayBuffer !== 'function' || !ArrayBuffer.isView || !ArrayBuffer.isView(v) ||
            objToString.call(v) === '[object DataView]') {
            return null;
        }
        var m = /^\[object (\w+)\]$/.exec(objToString.call(v));
        return m ? m[1] : null;
    }

    function boxedName(v) {
        var t = objToString.call(v);
        if (t === '[object Number]') {
            return 'Number';
        }
        if (t === '[object String]') {
            return 'String';
        }
        if (t === '[object Boolean]') {
            return 'Boolean';
        }
        return null;
    }

    /* Own enumerable string keys (plus non-enumerable ones with showHidden), then own
     * enumerable symbols, in Node's order. */
    function getKeys(value, showHidden) {
        var keys = showHidden ? Object.getOwnPropertyNames(value) : Object.keys(value);
        pushSymbols(value, keys, showHidden);
        return keys;
    }

    function pushSymbols(value, keys, showHidden) {
        if (typeof Object.getOwnPropertySymbols === 'function') {
            var syms = Object.getOwnPropertySymbols(value);
            for (var i = 0; i < syms.length; i++) {
                var d = Object.getOwnPropertyDescriptor(value, syms[i]);
                if (showHidden || (d && d.enumerable)) {
                    keys.push(syms[i]);
                }
            }
        }
    }

    /* The engine lists index keys first, in ascending order: the extra keys are the tail of
     * `all` after its last index key (found from the end: they are few). Truncates
     * indexKeys, the enumerable keys, to its index prefix. */
    function extraKeysOf(indexKeys, all) {
        var first = all.length;
        while (first > 0 && !isIndexKey(all[first - 1])) {
            first--;
        }
        var extra = all.slice(first);
        var firstIndexEnd = indexKeys.length;
        while (firstIndexEnd > 0 && !isIndexKey(indexKeys[firstIndexEnd - 1])) {
            firstIndexEnd--;
        }
        indexKeys.length = firstIndexEnd;
        return extra;
    }

    /* A canonical array index: "0" or digits without a leading zero, below 2^32 - 1. */
    function isIndexKey(k) {
        if (typeof k !== 'string' || k.length > 10) {
            return false;
        }
        var c = k.charCodeAt(0);
        return c >= 48 && c <= 57 && numericRegExp.test(k) && Number(k) < 4294967295;
    }

    function stackOf(err) {
        var stack;
        try {
            stack = err.stack;
        } catch (e) {
            stack = undefined;
        }
        if (typeof stack !== 'string' || stack === '') {
            try {
                stack = Error.prototype.toString.call(err);
            } catch (e2) {
                stack = '[object Error]';
            }
        }
        return internals.cleanStack(stack);
    }

    /* Duktape's stack lines carry flags and frames from its own C sources; drop them. */
    internals.cleanStack = function (stack) {
        return stack.split('\n').filter(function (l) {
            return !/^\s+at .*\((duk_[a-z_]+\.c:\d+|evl:[a-z]+:\d+|)\)/.test(l);
        }).map(function (l) {
            return l.replace(/\) (strict |internal |preventsyield|tailcall |construct |\s)+$/,
                             ')').replace(/ (strict|preventsyield|internal)+$/, '');
        }).join('\n');
    };

    function formatError(ctx, err, keys) {
        var stack = stackOf(err);
        /* Keys already shown by the stack are not repeated. */
        ['name', 'message', 'stack'].forEach(function (name) {
            var i = keys.indexOf(name);
            if (i >= 0 && typeof err[name] === 'string' && stack.indexOf(err[name]) >= 0) {
                keys.splice(i, 1);
            }
        });
        var pos = (err.message && stack.indexOf(err.message)) || -1;
        if (pos !== -1) {
            pos += err.message.length;
        }
        if (stack.indexOf('\n    at', pos) === -1) {
            stack = '[' + stack + ']';
        }
        if (ctx.indentationLvl !== 0) {
            stack = stack.split('\n').join('\n' + repeat(' ', ctx.indentationLvl));
        }
        return stack;
    }

    function functionBase(value, constructor, tag) {
        var type = 'Function';
        if (constructor === null) {
            return '[' + type + ' (null prototype)' + (value.name ? ': ' + value.name : '') + ']';
        }
        var base = '[' + type;
        base += value.name ? ': ' + value.name : ' (anonymous)';
        base += ']';
        if (constructor !== type && constructor !== null) {
            base += ' ' + constructor;
        }
        if (tag !== '' && constructor !== tag) {
            base += ' [' + tag + ']';
        }
        return base;
    }

    function formatValue(ctx, value, recurseTimes, typedArray) {
        if (typeof value !== 'object' && typeof value !== 'function') {
            return formatPrimitive(ctx, value);
        }
        if (value === null) {
            return 'null';
        }
        /* A Proxy is shown as its target, without running any of its traps (Node's default,
         * showProxy: false; like Node, one level: a target that is itself a proxy is used
         * through its traps). */
        var target = native.proxyTarget ? native.proxyTarget(value) : undefined;
        if (target !== undefined) {
            value = target;
        }
        /* util.inspect.custom, as Node: called with (depth, options, inspect); a string result
         * is used as is, anything else (other than the value itself) is inspected. */
        var custom;
        try {
            custom = value[inspectCustom];
        } catch (e) {
            custom = undefined;
        }
        if (ctx.customInspect !== false && typeof custom === 'function' && custom !== inspect) {
            var depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
            var options = {};
            Object.keys(ctx).forEach(function (k) {
                if (k !== 'seen' && k !== 'circular' && k !== 'indentationLvl' &&
                    k !== 'currentDepth') {
                    options[k] = ctx[k];
                }
            });
            options.depth = depth;
            var ret = custom.call(value, depth, options, inspect);
            if (ret !== value) {
                if (typeof ret !== 'string') {
                    return formatValue(ctx, ret, recurseTimes);
                }
                return ret.replace(/\n/g, '\n' + repeat(' ', ctx.indentationLvl));
            }
        }
        if (ctx.seen.indexOf(value) >= 0) {
            var index = 1;
            var at = ctx.circular.indexOf(value);
            if (at < 0) {
                ctx.circular.push(value);
                index = ctx.circular.length;
            } else {
                index = at + 1;
            }
            return '[Circular *' + index + ']';
        }
        return formatRaw(ctx, value, recurseTimes, typedArray);
    }

    function formatRaw(ctx, value, recurseTimes) {
        var keys;
        var constructor = getConstructorName(value);
        var tag = '';
        try {
            tag = value[Symbol.toStringTag];
        } catch (e) {
            tag = '';
        }
        /* An own enumerable tag is printed as a property already, not twice. */
        if (typeof tag !== 'string' || (tag !== '' && (ctx.showHidden
            ? hasOwn.call(value, Symbol.toStringTag)
            : Object.prototype.propertyIsEnumerable.call(value, Symbol.toStringTag)))) {
            tag = '';
        }
        var base = '';
        var formatter = formatObjectEntries;
        var braces;
        var isArrayType = false;
        var noEntries = false;
        var typedName;
        var arrayIndexKeys;

        if (Array.isArray(value)) {
            var prefix = constructor !== 'Array' || tag !== ''
                ? getPrefix(constructor, tag, 'Array', '(' + value.length + ')') : '';
            /* One enumeration serves both the extra keys and the sparse-array walk: the
             * engine lists index keys first, in ascending order, so the extra keys are the
             * tail after the last index key (found from the end: they are few). */
            keys = native.extraKeys ? native.extraKeys(value, ctx.showHidden) : undefined;
            if (keys === undefined) {
                /* No array part (a sparse array): enumerating costs what is present. */
                arrayIndexKeys = Object.keys(value);
                keys = extraKeysOf(arrayIndexKeys,
                    ctx.showHidden ? Object.getOwnPropertyNames(value) : arrayIndexKeys);
            }
            pushSymbols(value, keys, ctx.showHidden);
            if (ctx.showHidden) {
                keys = keys.filter(function (k) {
                    return k !== 'length';
                });
            }
            braces = [prefix + '[', ']'];
            if (value.length === 0 && keys.length === 0 && !ctx.showHidden) {
                return braces[0] + ']';
            }
            isArrayType = true;
            formatter = formatArray;
        } else if ((typedName = typedArrayName(value)) !== null) {
            keys = native.extraKeys ? native.extraKeys(value, false) : undefined;
            if (keys === undefined) {
                keys = getKeys(value, false).filter(function (k) {
                    return typeof k !== 'string' || !numericRegExp.test(k);
                });
            } else {
                pushSymbols(value, keys, false);
            }
            var tprefix = getPrefix(constructor, tag, typedName, '(' + value.length + ')');
            braces = [tprefix + '[', ']'];
            if (value.length === 0 && keys.length === 0) {
                return braces[0] + ']';
            }
            isArrayType = true;
            formatter = formatTypedArray;
        } else {
            keys = getKeys(value, ctx.showHidden);
            braces = ['{', '}'];
            var boxed;
            if (constructor === 'Object' && !isError(value) && !isDate(value) &&
                !isRegExp(value) && typeof value !== 'function' && !boxedName(value)) {
                if (isArguments(value)) {
                    /* Node 20 prints arguments objects with object braces and all keys. */
                    braces[0] = '[Arguments] {';
                } else if (tag !== '') {
                    braces[0] = getPrefix(constructor, tag, 'Object') + '{';
                }
                if (keys.length === 0) {
                    return braces[0] + '}';
                }
            } else if (typeof value === 'function') {
                base = functionBase(value, constructor, tag);
                keys = keys.filter(function (k) {
                    return !ctx.showHidden || (k !== 'prototype' && k !== 'caller' &&
                        k !== 'arguments');
                });
                if (keys.length === 0) {
                    return base;
                }
            } else if (isRegExp(value)) {
                base = RegExp.prototype.toString.call(value);
                var rprefix = getPrefix(constructor, tag, 'RegExp');
                if (rprefix !== 'RegExp ') {
                    base = rprefix + base;
                }
                keys = keys.filter(function (k) {
                    return k !== 'lastIndex';
                });
                if (keys.length === 0 || recurseTimes > ctx.depth) {
                    return base;
                }
            } else if (isDate(value)) {
                base = isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
                var dprefix = getPrefix(constructor, tag, 'Date');
                if (dprefix !== 'Date ') {
                    base = dprefix + base;
                }
                if (keys.length === 0) {
                    return base;
                }
            } else if (isError(value)) {
                base = formatError(ctx, value, keys);
                if (keys.length === 0) {
                    return base;
                }
            } else if ((boxed = boxedName(value)) !== null) {
                var prim = value.valueOf();
                var fakeCtx = { maxStringLength: ctx.maxStringLength, breakLength: Infinity,
                    indentationLvl: 0 };
                base = '[' + boxed;
                if (boxed !== constructor) {
                    base += constructor === null ? ' (null prototype)' : ' (' + constructor + ')';
                }
                base += ': ' + formatPrimitive(fakeCtx, prim) + ']';
                if (boxed === 'String') {
                    keys = keys.filter(function (k) {
                        return typeof k !== 'string' || !numericRegExp.test(k) ||
                            Number(k) >= prim.length;
                    }).filter(function (k) {
                        return k !== 'length';
                    });
                }
                if (keys.length === 0) {
                    return base;
                }
            } else if (typeof internals.promiseState === 'function' &&
                       internals.promiseState(value) !== undefined) {
                /* promise.c may provide internals.promiseState(p) -> {state, value}. */
                var st = internals.promiseState(value);
                noEntries = true;
                braces[0] = getPrefix(constructor, tag, 'Promise') + '{';
                if (st.state === 'pending') {
                    base = '';
                    formatter = function () {
                        return ['<pending>'];
                    };
                } else {
                    formatter = function (c, v, rt) {
                        c.indentationLvl += 2;
                        var s = formatValue(c, st.value, rt);
                        c.indentationLvl -= 2;
                        return [st.state === 'rejected' ? '<rejected> ' + s : s];
                    };
                }
            } else {
                if (keys.length === 0) {
                    return getPrefix(constructor, tag, 'Object') + '{}';
                }
                braces[0] = getPrefix(constructor, tag, 'Object') + '{';
            }
        }

        if (recurseTimes > ctx.depth && ctx.depth !== null) {
            var name = getPrefix(constructor, tag, 'Object').slice(0, -1);
            if (constructor !== null) {
                name = '[' + name + ']';
            }
            return name;
        }
        recurseTimes += 1;
        ctx.seen.push(value);
        ctx.currentDepth = recurseTimes;
        var output = formatter(ctx, value, recurseTimes, arrayIndexKeys);
        for (var i = 0; i < keys.length; i++) {
            output.push(formatProperty(ctx, value, recurseTimes, keys[i], false));
        }
        if (ctx.showHidden && Array.isArray(value)) {
            output.push('[length]: ' + formatNumber(value.length));
        }
        var ref = ctx.circular.indexOf(value);
        if (ref >= 0) {
            var reference = '<ref *' + (ref + 1) + '>';
            base = base === '' ? reference : reference + ' ' + base;
        }
        ctx.seen.pop();
        void noEntries;
        return reduceToSingleString(ctx, output, base, braces, isArrayType, recurseTimes, value);
    }

    function formatObjectEntries() {
        return [];
    }

    function remainingText(n) {
        return '... ' + n + ' more item' + (n > 1 ? 's' : '');
    }

    /* Node's formatArray: the dense prefix directly, then (at the first hole) a walk over the
     * index keys, so the cost follows what is printed and the number of keys present, never
     * the length: a 2^32-2 hole is one step. */
    function formatArray(ctx, value, recurseTimes, indexKeys) {
        var valLen = value.length;
        var len = Math.min(Math.max(0, ctx.maxArrayLength), valLen);
        var output = [];
        for (var i = 0; i < len; i++) {
            if (!hasOwn.call(value, i)) {
                if (indexKeys === undefined) {
                    /* A hole inside the array part: list the elements present. */
                    indexKeys = Object.keys(value);
                    extraKeysOf(indexKeys, []);
                }
                return formatSparseArray(ctx, value, recurseTimes, len, output, i, indexKeys);
            }
            output.push(formatProperty(ctx, value, recurseTimes, i, true));
        }
        if (valLen > len) {
            output.push(remainingText(valLen - len));
        }
        return output;
    }

    function formatSparseArray(ctx, value, recurseTimes, maxLength, output, i, keys) {
        var index = i;
        /* keys[0..i-1] are "0".."i-1": the elements already printed. */
        for (; i < keys.length && output.length < maxLength; i++) {
            var key = keys[i];
            var tmp = +key;
            if (String(index) !== key) {
                var emptyItems = tmp - index;
                output.push('<' + emptyItems + ' empty item' + (emptyItems > 1 ? 's' : '') + '>');
                index = tmp;
                if (output.length === maxLength) {
                    break;
                }
            }
            output.push(formatProperty(ctx, value, recurseTimes, key, true));
            index++;
        }
        var remaining = value.length - index;
        if (output.length !== maxLength) {
            if (remaining > 0) {
                output.push('<' + remaining + ' empty item' + (remaining > 1 ? 's' : '') + '>');
            }
        } else if (remaining > 0) {
            output.push(remainingText(remaining));
        }
        return output;
    }

    function formatTypedArray(ctx, value) {
        var len = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
        var output = [];
        for (var i = 0; i < len; i++) {
            output.push(formatNumber(value[i]));
        }
        if (value.length > len) {
            var remaining = value.length - len;
            output.push('... ' + remaining + ' more item' + (remaining > 1 ? 's' : ''));
        }
        return output;
    }

    function formatProperty(ctx, value, recurseTimes, key, arrayEntry) {
        var name;
        var str;
        var desc = Object.getOwnPropertyDescriptor(value, key) ||
            { value: value[key], enumerable: true };
        if (desc.value !== undefined) {
            ctx.indentationLvl += 2;
            str = formatValue(ctx, desc.value, recurseTimes);
            ctx.indentationLvl -= 2;
        } else if (desc.get !== undefined) {
            str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
        } else if (desc.set !== undefined) {
            str = '[Setter]';
        } else {
            str = 'undefined';
        }
        if (arrayEntry) {
            return str;
        }
        if (typeof key === 'symbol') {
            name = '[' + String(key) + ']';
        } else if (key === '__proto__') {
            name = "['__proto__']";
        } else if (desc.enumerable === false) {
            name = '[' + key + ']';
        } else if (keyStrRegExp.test(key)) {
            name = key;
        } else {
            name = strEscape(key);
        }
        return name + ': ' + str;
    }

    function isBelowBreakLength(ctx, output, start, base) {
        var totalLength = output.length + start;
        if (totalLength + output.length > ctx.breakLength) {
            return false;
        }
        for (var i = 0; i < output.length; i++) {
            totalLength += output[i].length;
            if (totalLength > ctx.breakLength) {
                return false;
            }
        }
        return base === '' || base.indexOf('\n') < 0;
    }

    function groupArrayElements(ctx, output, value) {
        var totalLength = 0;
        var maxLength = 0;
        var i = 0;
        var outputLength = output.length;
        if (ctx.maxArrayLength < output.length) {
            outputLength--;
        }
        var separatorSpace = 2;
        var dataLen = new Array(outputLength);
        for (; i < outputLength; i++) {
            var len = output[i].length;
            dataLen[i] = len;
            totalLength += len + separatorSpace;
            if (maxLength < len) {
                maxLength = len;
            }
        }
        var actualMax = maxLength + separatorSpace;
        if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
            (totalLength / actualMax > 5 || maxLength <= 6)) {
            var approxCharHeights = 2.5;
            var averageBias = Math.sqrt(actualMax - totalLength / output.length);
            var biasedMax = Math.max(actualMax - 3 - averageBias, 1);
            var columns = Math.min(
                Math.round(Math.sqrt(approxCharHeights * biasedMax * outputLength) / biasedMax),
                Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
                ctx.compact * 4,
                15);
            if (columns <= 1) {
                return output;
            }
            var tmp = [];
            var maxLineLength = [];
            for (i = 0; i < columns; i++) {
                var lineLength = 0;
                for (var j = i; j < output.length; j += columns) {
                    if (dataLen[j] > lineLength) {
                        lineLength = dataLen[j];
                    }
                }
                maxLineLength.push(lineLength + separatorSpace);
            }
            var order = padStart;
            if (value !== undefined) {
                for (i = 0; i < output.length; i++) {
                    if (typeof value[i] !== 'number') {
                        order = padEnd;
                        break;
                    }
                }
            }
            for (i = 0; i < outputLength; i += columns) {
                var max = Math.min(i + columns, outputLength);
                var str = '';
                var k = i;
                for (; k < max - 1; k++) {
                    str += order(output[k] + ', ', maxLineLength[k - i]);
                }
                if (order === padStart) {
                    str += padStart(output[k], maxLineLength[k - i] - separatorSpace);
                } else {
                    str += output[k];
                }
                tmp.push(str);
            }
            if (ctx.maxArrayLength < output.length) {
                tmp.push(output[outputLength]);
            }
            output = tmp;
        }
        return output;
    }

    function reduceToSingleString(ctx, output, base, braces, isArrayType, recurseTimes, value) {
        var entries = output.length;
        if (isArrayType && entries > 6) {
            output = groupArrayElements(ctx, output, value);
        }
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
            var start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
            if (isBelowBreakLength(ctx, output, start, base)) {
                var joined = output.join(', ');
                if (joined.indexOf('\n') < 0) {
                    return (base ? base + ' ' : '') + braces[0] + ' ' + joined + ' ' + braces[1];
                }
            }
        }
        var indentation = '\n' + repeat(' ', ctx.indentationLvl);
        return (base ? base + ' ' : '') + braces[0] + indentation + '  ' +
            output.join(',' + indentation + '  ') + indentation + braces[1];
    }

    var inspectCustom = Symbol['for']('nodejs.util.inspect.custom');

    function inspect(value, opts) {
        var ctx = {
            seen: [],
            circular: [],
            indentationLvl: 0,
            currentDepth: 0,
            depth: 2,
            breakLength: 80,
            compact: 3,
            showHidden: false,
            maxArrayLength: 100,
            maxStringLength: 10000
        };
        if (opts !== null && typeof opts === 'object') {
            ['depth', 'breakLength', 'compact', 'showHidden', 'maxArrayLength',
             'maxStringLength', 'customInspect'].forEach(function (k) {
                if (opts[k] !== undefined) {
                    ctx[k] = opts[k];
                }
            });
            if (ctx.depth === Infinity) {
                ctx.depth = null;
            }
            if (ctx.maxArrayLength === null) {
                ctx.maxArrayLength = Infinity;
            }
            if (ctx.maxStringLength === null) {
                ctx.maxStringLength = Infinity;
            }
        }
        return formatValue(ctx, value, 0);
    }
    inspect.custom = inspectCustom;

    var builtinToStrings = [Object.prototype.toString, Array.prototype.toString,
        Error.prototype.toString, Date.prototype.toString, RegExp.prototype.toString,
        Function.prototype.toString, Number.prototype.toString, String.prototype.toString,
        Boolean.prototype.toString];

    function hasBuiltInToString(value) {
        var fn;
        try {
            fn = value.toString;
        } catch (e) {
            return true;
        }
        return typeof fn !== 'function' || builtinToStrings.indexOf(fn) >= 0;
    }

    function tryStringify(v) {
        try {
            return JSON.stringify(v);
        } catch (err) {
            if (err instanceof TypeError && /circular|cyclic/i.test(String(err.message))) {
                return '[Circular]';
            }
            throw err;
        }
    }

    /* util.format: printf-style directives, then the remaining arguments inspected. */
    function format() {
        var args = arguments;
        var first = args[0];
        var a = 0;
        var str = '';
        var join = '';
        if (typeof first === 'string') {
            if (args.length === 1) {
                return first;
            }
            var tempStr;
            var lastPos = 0;
            for (var i = 0; i < first.length - 1; i++) {
                if (first.charCodeAt(i) === 37) {
                    var nextChar = first.charCodeAt(++i);
                    if (a + 1 !== args.length) {
                        switch (nextChar) {
                        case 115: /* s */
                            var tempArg = args[++a];
                            if (typeof tempArg === 'number') {
                                tempStr = formatNumber(tempArg);
                            } else if (typeof tempArg !== 'object' || tempArg === null ||
                                       !hasBuiltInToString(tempArg)) {
                                tempStr = String(tempArg);
                            } else {
                                tempStr = inspect(tempArg, { depth: 0 });
                            }
                            break;
                        case 106: /* j */
                            tempStr = tryStringify(args[++a]);
                            break;
                        case 100: /* d */
                            var tempNum = args[++a];
                            tempStr = typeof tempNum === 'symbol' ? 'NaN'
                                : formatNumber(Number(tempNum));
                            break;
                        case 79: /* O */
                            tempStr = inspect(args[++a]);
                            break;
                        case 111: /* o */
                            tempStr = inspect(args[++a], { showHidden: true, depth: 4 });
                            break;
                        case 105: /* i */
                            var tempInteger = args[++a];
                            tempStr = typeof tempInteger === 'symbol' ? 'NaN'
                                : formatNumber(parseInt(tempInteger, 10));
                            break;
                        case 102: /* f */
                            var tempFloat = args[++a];
                            tempStr = typeof tempFloat === 'symbol' ? 'NaN'
                                : formatNumber(parseFloat(tempFloat));
                            break;
                        case 99: /* c */
                            a += 1;
                            tempStr = '';
                            break;
                        case 37: /* % */
                            str += first.slice(lastPos, i);
                            lastPos = i + 1;
                            continue;
                        default:
                            continue;
                        }
                        if (lastPos !== i - 1) {
                            str += first.slice(lastPos, i - 1);
                        }
                        str += tempStr;
                        lastPos = i + 1;
                    } else if (nextChar === 37) {
                        str += first.slice(lastPos, i);
                        lastPos = i + 1;
                    }
                }
            }
            if (lastPos !== 0) {
                a++;
                join = ' ';
                if (lastPos < first.length) {
                    str += first.slice(lastPos);
                }
            }
        }
        while (a < args.length) {
            var value = args[a];
            str += join;
            str += typeof value !== 'string' ? inspect(value) : value;
            join = ' ';
            a++;
        }
        return str;
    }

    internals.inspect = inspect;
    internals.format = format;

    /* ---- console ------------------------------------------------------------------------ */

    function formatTime(ms) {
        var hours = 0;
        var minutes = 0;
        var seconds = 0;
        if (ms >= 1000) {
            if (ms >= 60000) {
                if (ms >= 3600000) {
                    hours = Math.floor(ms / 3600000);
                    ms = ms % 3600000;
                }
                minutes = Math.floor(ms / 60000);
                ms = ms % 60000;
            }
            seconds = ms / 1000;
        }
        if (hours !== 0 || minutes !== 0) {
            var parts = seconds.toFixed(3).split('.');
            var pad = function (v) {
                v = String(v);
                return v.length < 2 ? '0' + v : v;
            };
            var res = hours !== 0 ? hours + ':' + pad(minutes) : minutes;
            return res + ':' + pad(parts[0]) + '.' + parts[1] + ' (' +
                (hours !== 0 ? 'h:m' : '') + 'm:ss.mmm)';
        }
        if (seconds !== 0) {
            return seconds.toFixed(3) + 's';
        }
        return Number(ms.toFixed(3)) + 'ms';
    }

    function warnLabel(message) {
        if (internals.process && typeof internals.process.emitWarning === 'function') {
            internals.process.emitWarning(message);
        }
    }

    function noop() {}

    function isStackOverflow(e) {
        return e instanceof RangeError && /stack|call.*limit/i.test(String(e.message));
    }

    /*
     * Per-console state. Output goes through stream.write, as in Node: replacing
     * process.stdout.write captures console output. With ignoreErrors (the default) a
     * write that throws is swallowed, like Node's console, which is a debugging aid; the
     * streams are read through getters so the global console follows process.stdout.
     */
    var kState = Symbol('kConsoleState');
    var kIsConsole = Symbol('kIsConsole');

    function writeTo(state, useStderr, text) {
        var indent = state.groupIndent;
        if (indent.length !== 0) {
            if (text.indexOf('\n') !== -1) {
                text = text.replace(/\n/g, '\n' + indent);
            }
            text = indent + text;
        }
        text += '\n';
        var stream = useStderr ? state.stderr() : state.stdout();
        if (state.ignoreErrors === false) {
            return stream.write(text);
        }
        if (internals.isPlainStdio(stream)) {
            /* process.stdout/stderr with their own write cannot fail or emit 'error': skip
             * the guard listener (two emitter calls per line). */
            return stream.write(text);
        }
        try {
            if (stream.listenerCount('error') === 0) {
                stream.once('error', noop);
            }
            /* No write callback: Node's only reports errors, and these writes are
             * synchronous, so it would be an empty nextTick per line. */
            stream.write(text);
        } catch (e) {
            if (isStackOverflow(e)) {
                throw e;
            }
        } finally {
            stream.removeListener('error', noop);
        }
    }

    function consoleState(that) {
        var state = that !== null && that !== undefined ? that[kState] : undefined;
        if (!state) {
            throw new TypeError('Illegal invocation');
        }
        return state;
    }

    var methods = {};
    var methodNames = [];
    function method(name, fn) {
        methods[name] = fn;
        methodNames.push(name);
    }

    method('log', function log() {
        writeTo(consoleState(this), false, format.apply(null, arguments));
    });
    method('warn', function warn() {
        writeTo(consoleState(this), true, format.apply(null, arguments));
    });
    method('dir', function dir(obj, options) {
        writeTo(consoleState(this), false, inspect(obj, options));
    });
    method('time', function time(label) {
        var state = consoleState(this);
        label = label === undefined ? 'default' : String(label);
        if (state.timers[label] !== undefined) {
            warnLabel("Label '" + label + "' already exists for console.time()");
            return;
        }
        state.timers[label] = native.hrnow();
    });
    function timeLogImpl(state, name, label, data) {
        label = label === undefined ? 'default' : String(label);
        var start = state.timers[label];
        if (start === undefined) {
            warnLabel("No such label '" + label + "' for console." + name + '()');
            return false;
        }
        var text = label + ': ' + formatTime(native.hrnow() - start);
        if (data.length > 0) {
            text += ' ' + data.map(function (d) {
                return typeof d === 'string' ? d : inspect(d);
            }).join(' ');
        }
        writeTo(state, false, text);
        return true;
    }
    method('timeEnd', function timeEnd(label) {
        var state = consoleState(this);
        if (timeLogImpl(state, 'timeEnd', label, [])) {
            delete state.timers[label === undefined ? 'default' : String(label)];
        }
    });
    method('timeLog', function timeLog(label) {
        timeLogImpl(consoleState(this), 'timeLog', label,
            Array.prototype.slice.call(arguments, 1));
    });
    method('trace', function trace() {
        var err = new Error(format.apply(null, arguments));
        err.name = 'Trace';
        var stack = stackOf(err).split('\n');
        /* Drop the frame of trace() itself. */
        stack.splice(1, 1);
        writeTo(consoleState(this), true, stack.join('\n'));
    });
    method('assert', function assert() {
        if (!arguments[0]) {
            var args = Array.prototype.slice.call(arguments, 1);
            if (typeof args[0] === 'string') {
                args[0] = 'Assertion failed: ' + args[0];
            } else {
                args.unshift('Assertion failed');
            }
            writeTo(consoleState(this), true, format.apply(null, args));
        }
    });
    /* Node clears only a TTY (cursor to 1;1, then clear screen down), as two writes. */
    method('clear', function clear() {
        var stream = consoleState(this).stdout();
        var env = internals.process ? internals.process.env : undefined;
        if (stream.isTTY && !(env && env.TERM === 'dumb')) {
            stream.write('\x1b[1;1H');
            stream.write('\x1b[0J');
        }
    });
    method('count', function count() {
        var state = consoleState(this);
        var label = arguments[0] === undefined ? 'default' : String(arguments[0]);
        state.counts[label] = (state.counts[label] || 0) + 1;
        writeTo(state, false, label + ': ' + state.counts[label]);
    });
    method('countReset', function countReset() {
        var state = consoleState(this);
        var label = arguments[0] === undefined ? 'default' : String(arguments[0]);
        if (state.counts[label] === undefined) {
            warnLabel("Count for '" + label + "' does not exist");
            return;
        }
        delete state.counts[label];
    });
    method('group', function group() {
        var state = consoleState(this);
        if (arguments.length > 0) {
            writeTo(state, false, format.apply(null, arguments));
        }
        state.groupIndent += state.groupIndentation;
    });
    method('groupEnd', function groupEnd() {
        var state = consoleState(this);
        state.groupIndent = state.groupIndent.slice(0,
            state.groupIndent.length - state.groupIndentation.length);
    });
    method('table', function table(data, properties) {
        var state = consoleState(this);
        if (data === null || typeof data !== 'object') {
            writeTo(state, false, format(data));
            return;
        }
        var cell = function (v) {
            var depth = v !== null && typeof v === 'object' && !Array.isArray(v) &&
                Object.keys(v).length > 2 ? -1 : 0;
            return inspect(v, { depth: depth, maxArrayLength: 3, breakLength: Infinity });
        };
        var map = Object.create(null);
        var mapKeys = [];
        var hasPrimitives = false;
        var valuesColumn = [];
        var indexColumn = Object.keys(data);
        for (var i = 0; i < indexColumn.length; i++) {
            var item = data[indexColumn[i]];
            var primitive = item === null ||
                (typeof item !== 'function' && typeof item !== 'object');
            if (properties === undefined && primitive) {
                hasPrimitives = true;
                valuesColumn[i] = cell(item);
            } else {
                var keys = properties || Object.keys(item);
                for (var k = 0; k < keys.length; k++) {
                    var key = keys[k];
                    if (!map[key]) {
                        map[key] = [];
                        mapKeys.push(key);
                    }
                    map[key][i] = (primitive && properties) || !hasOwn.call(item, key) ? ''
                        : cell(item[key]);
                }
            }
        }
        var head = ['(index)'].concat(mapKeys);
        var columns = [indexColumn].concat(mapKeys.map(function (mk) {
            return map[mk];
        }));
        if (hasPrimitives) {
            head.push('Values');
            columns.push(valuesColumn);
        }
        writeTo(state, false, renderTable(head, columns));
    });
    /* The rest, in Node's key order; Node's dirxml is log itself, the others are named. */
    method('debug', function debug() {
        writeTo(consoleState(this), false, format.apply(null, arguments));
    });
    method('info', function info() {
        writeTo(consoleState(this), false, format.apply(null, arguments));
    });
    method('dirxml', methods.log);
    method('error', function error() {
        writeTo(consoleState(this), true, format.apply(null, arguments));
    });
    method('groupCollapsed', function groupCollapsed() {
        methods.group.apply(this, arguments);
    });

    function nodeTypeError(code, message) {
        return internals.nodeError ? internals.nodeError(TypeError, code, message)
            : new TypeError(message);
    }

    /* Gives target the console methods, bound to state like Node's (so `var log =
     * console.log; log(x)` works), with Node's names and length 0. */
    function bindMethods(target, state) {
        Object.defineProperty(target, kState, {
            value: state, writable: false, enumerable: false, configurable: true
        });
        Object.defineProperty(target, kIsConsole, {
            value: true, writable: false, enumerable: false, configurable: true
        });
        methodNames.forEach(function (name) {
            var impl = methods[name];
            var bound = function () {
                return impl.apply(target, arguments);
            };
            Object.defineProperty(bound, 'length', { value: 0, configurable: true });
            Object.defineProperty(bound, 'name', {
                value: name === 'dirxml' ? 'log' : name, configurable: true
            });
            Object.defineProperty(target, name, {
                value: bound, writable: true, enumerable: true, configurable: true
            });
        });
    }

    function newState(stdout, stderr, ignoreErrors, groupIndentation) {
        return {
            stdout: stdout, stderr: stderr, ignoreErrors: ignoreErrors,
            groupIndent: '', groupIndentation: groupIndentation,
            counts: Object.create(null), timers: Object.create(null)
        };
    }

    /* console.Console: new Console(stdout[, stderr[, ignoreErrors]]) or
     * new Console({stdout, stderr, ignoreErrors, groupIndentation}); callable without new. */
    function Console(options) {
        /* Not instanceof: Symbol.hasInstance below answers for finished consoles only. */
        if (!(this !== null && typeof this === 'object' &&
              Console.prototype.isPrototypeOf(this))) {
            var args = [null];
            for (var i = 0; i < arguments.length; i++) {
                args.push(arguments[i]);
            }
            return new (Function.prototype.bind.apply(Console, args))();
        }
        if (!options || typeof options.write === 'function') {
            options = { stdout: options, stderr: arguments[1], ignoreErrors: arguments[2] };
        }
        var stdout = options.stdout;
        var stderr = options.stderr || stdout;
        if (!stdout || typeof stdout.write !== 'function') {
            throw nodeTypeError('ERR_CONSOLE_WRITABLE_STREAM',
                'Console expects a writable stream instance for stdout');
        }
        if (!stderr || typeof stderr.write !== 'function') {
            throw nodeTypeError('ERR_CONSOLE_WRITABLE_STREAM',
                'Console expects a writable stream instance for stderr');
        }
        var indentation = options.groupIndentation === undefined ? 2
            : options.groupIndentation;
        if (typeof indentation !== 'number' || indentation < 0 || indentation > 1000 ||
            indentation !== Math.floor(indentation)) {
            throw internals.nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of ' +
                '"groupIndentation" is out of range. It must be >= 0 && <= 1000. Received ' +
                indentation);
        }
        var ignoreErrors = options.ignoreErrors === undefined ? true : !!options.ignoreErrors;
        var state = newState(function () { return stdout; }, function () { return stderr; },
            ignoreErrors, new Array(indentation + 1).join(' '));
        bindMethods(this, state);
        Object.defineProperty(this, '_stdout', {
            value: stdout, writable: true, enumerable: false, configurable: true
        });
        Object.defineProperty(this, '_stderr', {
            value: stderr, writable: true, enumerable: false, configurable: true
        });
        Object.defineProperty(this, '_ignoreErrors', {
            value: ignoreErrors, writable: true, enumerable: false, configurable: true
        });
    }
    methodNames.forEach(function (name) {
        Object.defineProperty(Console.prototype, name, {
            value: methods[name], writable: true, enumerable: true, configurable: true
        });
    });
    /* As in Node, the global console (not made by the constructor) is an instance too. */
    Object.defineProperty(Console, Symbol.hasInstance, {
        value: function (instance) {
            return instance !== null && typeof instance === 'object' && !!instance[kIsConsole];
        },
        writable: false, enumerable: false, configurable: true
    });

    /* The global console: its streams are process.stdout and process.stderr, read when
     * first used (as Node's lazy binding), so a script may still replace them first. */
    var console = Object.create({});
    var lazyStdout;
    var lazyStderr;
    bindMethods(console, newState(function () {
        return lazyStdout || (lazyStdout = internals.process.stdout);
    }, function () {
        return lazyStderr || (lazyStderr = internals.process.stderr);
    }, true, '  '));
    Object.defineProperty(console, '_stdout', {
        get: function () { return lazyStdout || (lazyStdout = internals.process.stdout); },
        set: function (v) { lazyStdout = v; },
        enumerable: false, configurable: true
    });
    Object.defineProperty(console, '_stderr', {
        get: function () { return lazyStderr || (lazyStderr = internals.process.stderr); },
        set: function (v) { lazyStderr = v; },
        enumerable: false, configurable: true
    });
    Object.defineProperty(console, '_ignoreErrors', {
        value: true, writable: true, enumerable: false, configurable: true
    });
    function extra(name, fn) {
        Object.defineProperty(console, name, {
            value: fn, writable: true, enumerable: true, configurable: true
        });
    }
    /* Node's global console also has these (inspector no-ops without an inspector). */
    extra('Console', Console);
    extra('profile', function profile() {});
    extra('profileEnd', function profileEnd() {});
    extra('timeStamp', function timeStamp() {});
    extra('context', function context() {
        var ctx = Object.create({});
        bindMethods(ctx, newState(console[kState].stdout, console[kState].stderr, true, '  '));
        return ctx;
    });
    extra('createTask', function createTask(name) {
        if (typeof name !== 'string') {
            throw internals.invalidArgType('name', 'string', name);
        }
        return { run: function run(fn) { return fn(); } };
    });

    internals.console = console;
    internals.Console = Console;
    internals.builtins = internals.builtins || Object.create(null);
    internals.builtins.console = console;

    function renderRow(row, widths) {
        var out = '│ ';
        for (var i = 0; i < row.length; i++) {
            out += padEnd(row[i], widths[i]);
            if (i !== row.length - 1) {
                out += ' │ ';
            }
        }
        return out + ' │';
    }

    function renderTable(head, columns) {
        var rows = [];
        var widths = head.map(function (h) {
            return h.length;
        });
        var longest = 0;
        columns.forEach(function (c) {
            longest = Math.max(longest, c.length);
        });
        for (var i = 0; i < head.length; i++) {
            var column = columns[i];
            for (var j = 0; j < longest; j++) {
                if (rows[j] === undefined) {
                    rows[j] = [];
                }
                var value = rows[j][i] = hasOwn.call(column, j) && column[j] !== undefined
                    ? column[j] : '';
                widths[i] = Math.max(widths[i] || 0, value.length);
            }
        }
        var divider = widths.map(function (w) {
            return repeat('─', w + 2);
        });
        var result = '┌' + divider.join('┬') + '┐\n' + renderRow(head, widths) + '\n' +
            '├' + divider.join('┼') + '┤\n';
        rows.forEach(function (r) {
            result += renderRow(r, widths) + '\n';
        });
        return result + '└' + divider.join('┴') + '┘';
    }

    if (defineConsole) {
        Object.defineProperty(global, 'console', {
            value: console, writable: true, enumerable: false, configurable: true
        });
    }
});

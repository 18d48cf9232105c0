/*
 * The process object and its EventEmitter subset, plus helpers the C side calls through the
 * internals object (emit, listenerCount, fatalMessage, invalidArgType). ES5 only: this runs
 * inside Duktape. Called as fn(global, native, internals); fills internals, returns nothing.
 */
(function (global, native, internals) {
    'use strict';

    function define(obj, name, value) {
        Object.defineProperty(obj, name, {
            value: value, writable: true, enumerable: false, configurable: true
        });
    }

    /* Node's ERR_INVALID_ARG_TYPE wording for the "Received ..." part. */
    function describeReceived(value) {
        if (value === null || value === undefined) {
            return ' Received ' + value;
        }
        if (typeof value === 'function') {
            return ' Received function ' + (value.name || '<anonymous>');
        }
        if (typeof value === 'object') {
            var ctor = value.constructor;
            if (ctor && typeof ctor === 'function' && ctor.name) {
                return ' Received an instance of ' + ctor.name;
            }
            return ' Received ' + internals.inspect(value, { depth: -1 });
        }
        var shown = internals.inspect(value, { colors: false });
        if (shown.length > 28) {
            shown = shown.slice(0, 25) + '...';
        }
        return ' Received type ' + typeof value + ' (' + shown + ')';
    }

    function nodeError(Ctor, code, message) {
        var err = new Ctor(message);
        Object.defineProperty(err, 'code', {
            value: code, writable: true, enumerable: true, configurable: true
        });
        /* Node's stack header names the code: "TypeError [ERR_X]: message". */
        try {
            var stack = err.stack;
            if (typeof stack === 'string' && stack.indexOf(err.name + ':') === 0) {
                define(err, 'stack', err.name + ' [' + code + ']' + stack.slice(err.name.length));
            }
        } catch (e) { /* stack is informative only */ }
        return err;
    }

    internals.nodeError = nodeError;
    internals.invalidArgType = function (name, expected, value) {
        /* Node says "must be an instance of X" for a class alone, "of type" otherwise. */
        var wording = /^an instance of /.test(expected) ? ' must be ' : ' must be of type ';
        return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "' + name + '" argument' +
            wording + expected + '.' + describeReceived(value));
    };

    /* Like Node, the emitter methods are inherited and the process's own functions are
     * enumerable properties. */
    var emitterProto = {};
    var process = Object.create(emitterProto);
    var events = Object.create(null);

    function own(name, fn) {
        Object.defineProperty(process, name, {
            value: fn, writable: true, enumerable: true, configurable: true
        });
    }

    function checkListener(fn) {
        if (typeof fn !== 'function') {
            throw internals.invalidArgType('listener', 'function', fn);
        }
    }

    /* Named *Impl so the public methods below can carry Node's names without their own
     * name binding shadowing these helpers. */
    function addListenerImpl(name, fn, once, prepend) {
        checkListener(fn);
        var list = events[name];
        if (!list) {
            list = events[name] = [];
        }
        var entry = { fn: fn, once: once };
        if (prepend) {
            list.unshift(entry);
        } else {
            list.push(entry);
        }
        return process;
    }

    function removeListenerImpl(name, fn) {
        checkListener(fn);
        var list = events[name];
        if (!list) {
            return process;
        }
        for (var i = list.length - 1; i >= 0; i--) {
            if (list[i].fn === fn) {
                list.splice(i, 1);
                break;
            }
        }
        if (list.length === 0) {
            delete events[name];
        }
        return process;
    }

    /* Calls the listeners of name with args; returns how many were called. Listener
     * exceptions propagate to the caller (Node's behaviour). */
    function emitCount(name, args) {
        var list = events[name];
        if (!list || list.length === 0) {
            if (name === 'error') {
                throw args[0] instanceof Error ? args[0]
                    : new Error('Unhandled error. (' + internals.inspect(args[0]) + ')');
            }
            return 0;
        }
        list = list.slice();
        for (var i = 0; i < list.length; i++) {
            if (list[i].once) {
                var cur = events[name];
                var at = cur ? cur.indexOf(list[i]) : -1;
                if (at >= 0) {
                    cur.splice(at, 1);
                    if (cur.length === 0) {
                        delete events[name];
                    }
                }
            }
            list[i].fn.apply(process, args);
        }
        return list.length;
    }

    /* As in Node, on/off are the same functions as addListener/removeListener. */
    define(emitterProto, 'addListener', function addListener(name, fn) {
        return addListenerImpl(name, fn, false, false);
    });
    define(emitterProto, 'on', emitterProto.addListener);
    define(emitterProto, 'prependListener', function prependListener(name, fn) {
        return addListenerImpl(name, fn, false, true);
    });
    define(emitterProto, 'once', function once(name, fn) {
        return addListenerImpl(name, fn, true, false);
    });
    define(emitterProto, 'prependOnceListener', function prependOnceListener(name, fn) {
        return addListenerImpl(name, fn, true, true);
    });
    define(emitterProto, 'removeListener', function removeListener(name, fn) {
        return removeListenerImpl(name, fn);
    });
    define(emitterProto, 'off', emitterProto.removeListener);
    define(emitterProto, 'removeAllListeners', function removeAllListeners(name) {
        if (arguments.length === 0) {
            events = Object.create(null);
        } else {
            delete events[name];
        }
        return process;
    });
    define(emitterProto, 'emit', function emit(name) {
        return emitCount(name, Array.prototype.slice.call(arguments, 1)) > 0;
    });
    define(emitterProto, 'listenerCount', function listenerCount(name, listener) {
        void listener;
        var list = events[name];
        return list ? list.length : 0;
    });
    define(emitterProto, 'listeners', function listeners(name) {
        var list = events[name];
        return list ? list.map(function (e) { return e.fn; }) : [];
    });
    define(emitterProto, 'eventNames', function eventNames() {
        return Object.keys(events);
    });

    internals.emit = function (name) {
        return emitCount(name, Array.prototype.slice.call(arguments, 1));
    };
    internals.listenerCount = function (name) {
        var list = events[name];
        return list ? list.length : 0;
    };

    process.title = 'evljs';
    process.version = 'v20.0.0';
    process.versions = { evl: native.version, duktape: native.duktapeVersion };
    process.arch = native.arch;
    process.platform = native.platform;
    process.release = { name: 'evljs' };
    process.argv = native.argv;
    process.execArgv = [];
    process.argv0 = native.argv.length > 0 ? native.argv[0] : 'evljs';
    process.execPath = process.argv0;
    process.env = native.env;
    process.pid = native.pid;
    process.ppid = native.ppid;
    process.exitCode = undefined;
    process._exiting = false;
    function stream(fd) {
        return {
            fd: fd,
            isTTY: false,
            write: function write(chunk, encoding, cb) {
                if (typeof encoding === 'function') {
                    cb = encoding;
                }
                native.write(fd, String(chunk));
                if (typeof cb === 'function') {
                    native.nextTick(cb);
                }
                return true;
            }
        };
    }
    process.stdout = stream(1);
    process.stderr = stream(2);
    own('cwd', function cwd() {
        return native.cwd();
    });
    own('exit', function exit(code) {
        native.exit(code);
    });
    own('nextTick', native.nextTick);
    own('uptime', function uptime() {
        return native.hrnow() / 1e3;
    });
    own('hrtime', function hrtime(time) {
        var t = native.hrtime();
        if (time === undefined) {
            return t;
        }
        if (!Array.isArray(time)) {
            throw internals.invalidArgType('time', 'an instance of Array', time);
        }
        if (time.length !== 2) {
            throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "time" is out of ' +
                'range. It must be 2. Received ' + time.length);
        }
        /* Node's arithmetic, with no coercion check: non-numbers give NaN. */
        var sec = t[0] - time[0];
        var nsec = t[1] - time[1];
        return [nsec < 0 ? sec - 1 : sec, nsec < 0 ? nsec + 1e9 : nsec];
    });
    own('memoryUsage', function memoryUsage() {
        var heap = native.heapBytes();
        return { rss: heap, heapTotal: heap, heapUsed: heap, external: 0, arrayBuffers: 0 };
    });

    var warned = Object.create(null);
    own('emitWarning', function emitWarning(warning, type, code, ctor) {
        void ctor;
        var options = type;
        if (options !== null && typeof options === 'object') {
            type = options.type;
            code = options.code;
        }
        var err;
        if (warning instanceof Error) {
            err = warning;
        } else if (typeof warning === 'string') {
            err = new Error(warning);
            err.name = typeof type === 'string' ? type : 'Warning';
            if (code !== undefined) {
                err.code = code;
            }
        } else {
            throw internals.invalidArgType('warning', 'string or an instance of Error', warning);
        }
        if (err.name === 'DeprecationWarning' && code !== undefined) {
            if (warned[code]) {
                return;
            }
            warned[code] = true;
        }
        native.nextTick(function () {
            var line = '(evljs:' + native.pid + ') ' +
                (err.code !== undefined ? '[' + err.code + '] ' : '') + err.name + ': ' +
                err.message + '\n';
            native.write(2, line);
            emitCount('warning', [err]);
        });
    });

    Object.defineProperty(process, Symbol.toStringTag, {
        value: 'process', writable: false, enumerable: false, configurable: true
    });
    /* Node defines process as an accessor pair on the global object. */
    var processValue = process;
    Object.defineProperty(global, 'process', {
        get: function () { return processValue; },
        set: function (v) { processValue = v; },
        enumerable: false, configurable: true
    });
    if (global.global === undefined) {
        Object.defineProperty(global, 'global', {
            value: global, writable: true, enumerable: true, configurable: true
        });
    }
    internals.process = process;

    /* The text printed for an uncaught exception with no listener (stderr). */
    /* The source line a file:line location points at, or '' when unavailable. */
    function sourceLine(file, line) {
        if (typeof file !== 'string' || file === '' || /^evl:|^duk_|\.c$/.test(file) ||
            typeof native.readFile !== 'function') {
            return '';
        }
        try {
            var text = native.readFile(file).split('\n')[line - 1];
            return text === undefined ? '' : text + '\n';
        } catch (e) {
            return '';
        }
    }

    /* The text printed for an uncaught exception with no listener (stderr): the location
     * (file:line and its source line, like Node), then "Uncaught " and the stack. */
    internals.fatalMessage = function (err) {
        var text;
        var header = '';
        if (err instanceof Error) {
            var stack = err.stack;
            if (typeof stack !== 'string' || stack.length === 0) {
                stack = String(err);
            }
            stack = internals.cleanStack(stack);
            var extra = '';
            var keys = Object.keys(err).filter(function (k) { return k !== 'stack'; });
            if (keys.length > 0) {
                var shown = {};
                keys.forEach(function (k) { shown[k] = err[k]; });
                extra = ' ' + internals.inspect(shown);
            }
            text = stack + extra;
            var file = err.fileName;
            var line = err.lineNumber;
            if (typeof file === 'string' && typeof line === 'number' && line > 0 &&
                !/^evl:|\.c$/.test(file)) {
                header = file + ':' + line + '\n' + sourceLine(file, line) + '\n';
            }
        } else {
            text = internals.inspect(err);
        }
        return header + 'Uncaught ' + text + '\n';
    };
});

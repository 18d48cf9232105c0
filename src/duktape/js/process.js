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
        /* Node's internal errors print their code: String(err) is "TypeError [ERR_X]: ...". */
        define(err, 'toString', function toString() {
            return this.name + ' [' + code + ']: ' + this.message;
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
        /* Node says "must be an instance of X" for a class alone, "of type" otherwise, and
         * "property" for a dotted name. */
        var wording = /^an instance of /.test(expected) ? ' must be ' : ' must be of type ';
        var kind = name.indexOf('.') >= 0 ? '" property' : '" argument';
        return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "' + name + kind +
            wording + expected + '.' + describeReceived(value));
    };

    /* process is an EventEmitter instance, as in Node: its prototype is an object whose
     * constructor is named process, and the emitter's own fields (_events...) are its own. */
    var EventEmitter = internals.EventEmitter;
    var processProto = Object.create(EventEmitter.prototype);
    define(processProto, 'constructor', function process() {});
    var process = Object.create(processProto);
    EventEmitter.call(process);

    function own(name, fn) {
        Object.defineProperty(process, name, {
            value: fn, writable: true, enumerable: true, configurable: true
        });
    }

    /* Node's C++ looks up process.emit at each emission, so a replaced emit (some libraries
     * filter warnings that way) sees the runtime's events too. Returns how many listeners
     * ran, 0 or 1 when emit was replaced. */
    internals.emit = function (name) {
        var emit = process.emit;
        var count = EventEmitter.prototype.listenerCount.call(process, name);
        var handled = emit.apply(process, arguments);
        return emit === EventEmitter.prototype.emit ? (handled ? count : 0) : (handled ? 1 : 0);
    };
    internals.listenerCount = function (name) {
        return EventEmitter.prototype.listenerCount.call(process, name);
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
    /* Node 20 validates process.exitCode (and so process.exit(code)): an integer, or a
     * string holding one; undefined and null clear it. */
    var exitCode;
    Object.defineProperty(process, 'exitCode', {
        enumerable: true,
        configurable: false,
        get: function () { return exitCode; },
        set: function (code) {
            if (code !== null && code !== undefined) {
                var value = code;
                if (typeof code === 'string' && code !== '' && Number.isInteger(+code)) {
                    value = +code;
                }
                if (typeof value !== 'number') {
                    throw internals.invalidArgType('code', 'number', code);
                }
                if (!Number.isInteger(value)) {
                    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "code" is ' +
                        'out of range. It must be an integer. Received ' +
                        internals.inspect(value));
                }
            }
            exitCode = code;
        }
    });
    process._exiting = false;
    /* process.stdout/stderr: emitters whose write is synchronous (native.write), like
     * Node's streams for files, pipes and TTYs on Linux, so nothing printed is lost if the
     * process is killed or crashes. */
    function WriteStream(fd) {
        EventEmitter.call(this);
        this.fd = fd;
        this.isTTY = native.isatty(fd);
        this.writable = true;
        this._isStdio = true;
    }
    WriteStream.prototype = Object.create(EventEmitter.prototype);
    define(WriteStream.prototype, 'constructor', WriteStream);
    define(WriteStream.prototype, 'write', function write(chunk, encoding, cb) {
        if (typeof encoding === 'function') {
            cb = encoding;
        }
        if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
            throw internals.invalidArgType('chunk', 'string or an instance of Buffer or ' +
                'Uint8Array', chunk);
        }
        native.write(this.fd, chunk);
        if (typeof cb === 'function') {
            native.nextTick(cb, null);
        }
        return true;
    });
    define(WriteStream.prototype, 'end', function end(chunk, encoding, cb) {
        if (typeof chunk === 'function') {
            cb = chunk;
            chunk = undefined;
        } else if (typeof encoding === 'function') {
            cb = encoding;
        }
        if (chunk !== undefined && chunk !== null) {
            this.write(chunk);
        }
        if (typeof cb === 'function') {
            native.nextTick(cb);
        }
        return this;
    });
    internals.isPlainStdio = function (stream) {
        return stream instanceof WriteStream && stream.write === WriteStream.prototype.write;
    };
    process.stdout = new WriteStream(1);
    process.stderr = new WriteStream(2);
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
    /* Signals as Node: the first listener of a signal name starts a watcher (which does not
     * keep the process alive), the last one's removal stops it and the signal gets its
     * default action back. The watcher emits the name once per delivery. */
    var signals = native.signals;
    var signalWatchers = {};
    function isSignal(type) {
        return typeof type === 'string' && Object.prototype.hasOwnProperty.call(signals, type);
    }
    function startListeningIfSignal(type) {
        if (isSignal(type) && !Object.prototype.hasOwnProperty.call(signalWatchers, type)) {
            signalWatchers[type] = native.signalWatch(signals[type], function (name) {
                process.emit(name, name);
            });
        }
    }
    function stopListeningIfSignal(type) {
        if (Object.prototype.hasOwnProperty.call(signalWatchers, type) &&
            process.listenerCount(type) === 0) {
            native.signalUnwatch(signalWatchers[type]);
            delete signalWatchers[type];
        }
    }
    own('kill', function kill(pid, sig) {
        /* Node's checks, in Node's order: pid an integer, then the signal by number or name
         * (default SIGTERM; 0 only probes). */
        if (pid != (pid | 0)) { // eslint-disable-line eqeqeq
            throw internals.invalidArgType('pid', 'number', pid);
        }
        var signum;
        if (sig === (sig | 0)) {
            signum = sig;
        } else {
            sig = sig || 'SIGTERM';
            if (!isSignal(sig)) {
                throw nodeError(TypeError, 'ERR_UNKNOWN_SIGNAL', 'Unknown signal: ' + sig);
            }
            signum = signals[sig];
        }
        native.kill(pid, signum);
        return true;
    });
    /* Node's own listeners: the signal bookkeeping above on newListener/removeListener, and
     * the warning printer, which a script may remove. */
    process.on('newListener', function () {});
    process.on('newListener', startListeningIfSignal);
    process.on('removeListener', function () {});
    process.on('removeListener', stopListeningIfSignal);
    process.on('warning', function onWarning(err) {
        if (process.noProcessWarnings) {
            return;
        }
        native.write(2, '(evljs:' + native.pid + ') ' +
            (err.code !== undefined ? '[' + err.code + '] ' : '') + err.name + ': ' +
            err.message + '\n' + (typeof err.detail === 'string' ? err.detail + '\n' : ''));
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
    own('abort', function abort() {
        native.abort();
    });
    own('umask', function umask(mask) {
        if (mask === undefined) {
            return native.umask(undefined);
        }
        if (typeof mask === 'string') {
            if (!/^[0-7]+$/.test(mask)) {
                throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', "The argument 'mask' must " +
                    'be a 32-bit unsigned integer or an octal string. Received ' +
                    internals.inspect(mask));
            }
            mask = parseInt(mask, 8);
        } else if (typeof mask !== 'number' || mask !== (mask >>> 0)) {
            throw internals.invalidArgType('mask', 'number', mask);
        }
        return native.umask(mask);
    });
    own('getuid', function getuid() { return native.ids()[0]; });
    own('geteuid', function geteuid() { return native.ids()[1]; });
    own('getgid', function getgid() { return native.ids()[2]; });
    own('getegid', function getegid() { return native.ids()[3]; });
    own('cpuUsage', function cpuUsage(prev) {
        var now = native.cpuUsage();
        if (prev !== undefined) {
            if (prev === null || typeof prev !== 'object') {
                throw internals.invalidArgType('prevValue', 'object', prev);
            }
            if (typeof prev.user !== 'number') {
                throw internals.invalidArgType('prevValue.user', 'number', prev.user);
            }
            if (typeof prev.system !== 'number') {
                throw internals.invalidArgType('prevValue.system', 'number', prev.system);
            }
            return { user: now[0] - prev.user, system: now[1] - prev.system };
        }
        return { user: now[0], system: now[1] };
    });
    own('memoryUsage', function memoryUsage() {
        var heap = native.heapBytes();
        return { rss: heap, heapTotal: heap, heapUsed: heap, external: 0, arrayBuffers: 0 };
    });

    /* Node 20's process.emitWarning: (warning[, type[, code]][, ctor]) or (warning, options);
     * the 'warning' event comes on the next tick; DeprecationWarnings honour noDeprecation and
     * throwDeprecation (thrown on a tick of its own, after earlier warnings). */
    own('emitWarning', function emitWarning(warning, type, code, ctor) {
        var detail;
        if (type !== null && typeof type === 'object' && !Array.isArray(type)) {
            ctor = type.ctor;
            code = type.code;
            if (typeof type.detail === 'string') {
                detail = type.detail;
            }
            type = type.type || 'Warning';
        } else if (typeof type === 'function') {
            ctor = type;
            code = undefined;
            type = 'Warning';
        }
        void ctor;
        if (type !== undefined && typeof type !== 'string') {
            throw internals.invalidArgType('type', 'string', type);
        }
        if (typeof code === 'function') {
            code = undefined;
        } else if (code !== undefined && typeof code !== 'string') {
            throw internals.invalidArgType('code', 'string', code);
        }
        if (typeof warning === 'string') {
            var message = warning;
            warning = new Error(message);
            warning.name = String(type || 'Warning');
            if (code !== undefined) {
                warning.code = code;
            }
            if (detail !== undefined) {
                warning.detail = detail;
            }
        } else if (!(warning instanceof Error)) {
            throw internals.invalidArgType('warning', 'string or an instance of Error', warning);
        }
        var err = warning;
        if (err.name === 'DeprecationWarning') {
            if (process.noDeprecation) {
                return;
            }
            if (process.throwDeprecation) {
                native.nextTick(function () {
                    throw err;
                });
                return;
            }
        }
        native.nextTick(function () {
            process.emit('warning', err);
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
            /* The message reaches stderr as a C string: a NUL would cut off the error. */
            return text === undefined ? '' : text.replace(/\u0000/g, '\u2400') + '\n';
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

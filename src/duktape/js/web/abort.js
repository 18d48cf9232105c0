/*
 * AbortController and AbortSignal (WHATWG DOM §3 "Aborting ongoing activities"), including
 * dependent signals from AbortSignal.any(). Called as fn(global, native, web); adds
 * web.signalAborted, web.addAbortAlgorithm, web.AbortSignal.
 *
 * Without weak references (ES5, Duktape) a source signal holds its unaborted dependents
 * strongly; dependents are dropped from every list as soon as they abort.
 */
(function (global, native, web) {
    'use strict';

    var impl = web.impl;
    var setTimeoutFn = global.setTimeout;

    /* Timers take at most 2^31-1 ms (longer delays are coerced to 1 ms, as in Node), so a
     * longer timeout runs as a chain of maximal timers. Each is unref'd: a pending timeout
     * signal never keeps the process alive (Node's behaviour; browsers have no notion of
     * it). */
    var TIMER_MAX = 2147483647;
    function armTimeout(ms, fn) {
        var step = ms > TIMER_MAX ? TIMER_MAX : ms;
        var t = setTimeoutFn(function () {
            if (ms > TIMER_MAX) {
                armTimeout(ms - TIMER_MAX, fn);
            } else {
                fn();
            }
        }, step);
        if (t && typeof t.unref === 'function') {
            t.unref();
        }
    }

    function AbortSignal() {
        throw web.illegalConstructor();
    }

    function createSignal() {
        var signal = Object.create(AbortSignal.prototype);
        var s = web.eventTargetInit(signal, ['AbortSignal']);
        s.aborted = false;
        s.reason = undefined;
        s.algorithms = [];
        s.dependent = false;
        s.sources = [];
        s.dependents = [];
        return { signal: signal, state: s };
    }

    function sig(self) {
        return impl(self, 'AbortSignal');
    }

    function defaultReason() {
        return web.domError('This operation was aborted', 'AbortError');
    }

    function dropDependent(s, signal) {
        for (var i = 0; i < s.sources.length; i++) {
            var src = s.sources[i].state;
            for (var j = 0; j < src.dependents.length; j++) {
                if (src.dependents[j].signal === signal) {
                    src.dependents.splice(j, 1);
                    break;
                }
            }
        }
        s.sources = [];
    }

    /* "run the abort steps": algorithms in registration order, then the abort event. */
    function runAbortSteps(signal, s) {
        var algorithms = s.algorithms;
        s.algorithms = [];
        for (var i = 0; i < algorithms.length; i++) {
            algorithms[i]();
        }
        web.fireEvent(signal, 'abort');
    }

    /* "signal abort": every dependent is marked aborted before any abort event fires, so
     * listeners observe a consistent graph even when they abort other signals. */
    function signalAbort(signal, s, reason) {
        if (s.aborted) {
            return;
        }
        s.aborted = true;
        s.reason = reason === undefined ? defaultReason() : reason;
        var toAbort = [];
        var deps = s.dependents;
        s.dependents = [];
        for (var i = 0; i < deps.length; i++) {
            var d = deps[i];
            if (!d.state.aborted) {
                d.state.aborted = true;
                d.state.reason = s.reason;
                dropDependent(d.state, d.signal);
                toAbort.push(d);
            }
        }
        if (s.dependent) {
            dropDependent(s, signal);
        }
        runAbortSteps(signal, s);
        for (var k = 0; k < toAbort.length; k++) {
            runAbortSteps(toAbort[k].signal, toAbort[k].state);
        }
    }

    web.defineInterface(AbortSignal, {
        name: 'AbortSignal',
        parent: web.EventTarget,
        length: 0,
        attrs: {
            aborted: [function () { return sig(this).aborted; }],
            reason: [function () { return sig(this).reason; }]
        },
        ops: {
            throwIfAborted: [function () {
                var s = sig(this);
                if (s.aborted) {
                    throw s.reason;
                }
            }, 0]
        },
        statics: {
            abort: [function (reason) {
                var c = createSignal();
                c.state.aborted = true;
                c.state.reason = reason === undefined ? defaultReason() : reason;
                return c.signal;
            }, 0],
            timeout: [function (milliseconds) {
                web.requireArgs(arguments.length, 1, 'AbortSignal', 'timeout');
                var ms = web.toEnforcedULL(milliseconds, 'milliseconds');
                var c = createSignal();
                armTimeout(ms, function () {
                    signalAbort(c.signal, c.state,
                        web.domError('The operation was aborted due to timeout', 'TimeoutError'));
                });
                return c.signal;
            }, 1],
            any: [function (signals) {
                web.requireArgs(arguments.length, 1, 'AbortSignal', 'any');
                var list = web.toSequence(signals, 'signals');
                for (var i = 0; i < list.length; i++) {
                    if (!web.is(list[i], 'AbortSignal')) {
                        throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                            'The "signals[' + i + ']" argument must be an instance of AbortSignal.');
                    }
                }
                var c = createSignal();
                for (i = 0; i < list.length; i++) {
                    var si = list[i][web.SLOT];
                    if (si.aborted) {
                        c.state.aborted = true;
                        c.state.reason = si.reason;
                        return c.signal;
                    }
                }
                c.state.dependent = true;
                for (i = 0; i < list.length; i++) {
                    var src = { signal: list[i], state: list[i][web.SLOT] };
                    var sources = src.state.dependent ? src.state.sources : [src];
                    for (var j = 0; j < sources.length; j++) {
                        var already = false;
                        for (var k = 0; k < c.state.sources.length; k++) {
                            if (c.state.sources[k].signal === sources[j].signal) {
                                already = true;
                            }
                        }
                        if (!already) {
                            c.state.sources.push(sources[j]);
                            sources[j].state.dependents.push(c);
                        }
                    }
                }
                return c.signal;
            }, 1]
        }
    });
    web.defineEventHandler(AbortSignal.prototype, 'AbortSignal', 'abort');

    function AbortController() {
        web.checkConstruct(this, AbortController, new.target);
        var c = createSignal();
        web.setSlot(this, { brands: { AbortController: true }, signal: c.signal, state: c.state });
    }

    web.defineInterface(AbortController, {
        name: 'AbortController',
        length: 0,
        attrs: {
            signal: [function () { return impl(this, 'AbortController').signal; }]
        },
        ops: {
            abort: [function (reason) {
                var s = impl(this, 'AbortController');
                signalAbort(s.signal, s.state, reason);
            }, 0]
        }
    });

    web.signalAborted = function (signal) {
        return sig(signal).aborted;
    };
    /* Abort algorithms run synchronously, in registration order, before the abort event. */
    web.addAbortAlgorithm = function (signal, fn) {
        var s = sig(signal);
        if (!s.aborted) {
            s.algorithms.push(fn);
        }
    };
    web.AbortSignal = AbortSignal;
    web.exposeGlobal('AbortSignal', AbortSignal, false);
    web.exposeGlobal('AbortController', AbortController, false);
})

/*
 * performance (W3C High Resolution Time: now, timeOrigin, toJSON), User Timing Level 3 (mark,
 * measure and their entries) and Performance Timeline (getEntries*, PerformanceObserver).
 * Replaces the plain `performance` object evl_duk_install defines (now and timeOrigin only),
 * keeping its clock: now() is milliseconds since the binding's time origin. Called as
 * fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var impl = web.impl;
    var now = native.hrnow;
    var setImmediateFn = global.setImmediate;
    var previous = global.performance;
    var timeOrigin = previous && typeof previous.timeOrigin === 'number' ? previous.timeOrigin : Date.now() - now();
    var supported = ['mark', 'measure'];

    /* The performance entry buffer (marks and measures) in insertion order. */
    var entries = [];
    /* Registered observers, in registration order. */
    var observers = [];
    var taskQueued = false;

    /* Entries sorted by startTime; ties keep insertion order (a stable merge, since the
     * engine's sort need not be stable). */
    function sorted(list) {
        var idx = [];
        for (var i = 0; i < list.length; i++) {
            idx.push(i);
        }
        idx.sort(function (a, b) {
            var d = list[a][web.SLOT].startTime - list[b][web.SLOT].startTime;
            return d !== 0 ? d : a - b;
        });
        return idx.map(function (i) { return list[i]; });
    }

    function filter(list, name, type) {
        var out = [];
        for (var i = 0; i < list.length; i++) {
            var s = list[i][web.SLOT];
            if ((name === undefined || s.name === name) && (type === undefined || s.entryType === type)) {
                out.push(list[i]);
            }
        }
        return sorted(out);
    }

    /* ---- PerformanceEntry, PerformanceMark, PerformanceMeasure ---- */

    function PerformanceEntry() {
        throw web.illegalConstructor();
    }

    function ent(self) {
        return impl(self, 'PerformanceEntry');
    }

    web.defineInterface(PerformanceEntry, {
        name: 'PerformanceEntry',
        length: 0,
        attrs: {
            name: [function () { return ent(this).name; }],
            entryType: [function () { return ent(this).entryType; }],
            startTime: [function () { return ent(this).startTime; }],
            duration: [function () { return ent(this).duration; }]
        },
        ops: {
            toJSON: [function () {
                var s = ent(this);
                var o = { name: s.name, entryType: s.entryType, startTime: s.startTime, duration: s.duration };
                if (s.brands.PerformanceMark || s.brands.PerformanceMeasure) {
                    o.detail = s.detail;
                }
                return o;
            }, 0]
        }
    });

    function cloneDetail(detail) {
        return detail === undefined || detail === null ? null : web.clone(detail, []);
    }

    function initMark(self, markName, markOptions) {
        var dict = web.toDictionary(markOptions, 'PerformanceMarkOptions');
        /* Members in lexicographic order, each read once: detail, then startTime. */
        var rawDetail = dict.detail;
        var rawStart = dict.startTime;
        var startTime;
        if (rawStart !== undefined) {
            startTime = web.toDouble(rawStart, 'startTime');
            if (startTime < 0) {
                throw new TypeError(markName + ' cannot have a negative start time.');
            }
        } else {
            startTime = now();
        }
        var detail = cloneDetail(rawDetail);
        return web.setSlot(self, {
            brands: { PerformanceEntry: true, PerformanceMark: true },
            name: markName,
            entryType: 'mark',
            startTime: startTime,
            duration: 0,
            detail: detail
        });
    }

    function PerformanceMark(markName, markOptions) {
        web.checkConstruct(this, PerformanceMark, new.target);
        web.requireArgs(arguments.length, 1, 'PerformanceMark', 'constructor');
        initMark(this, web.toDOMString(markName), markOptions);
    }

    web.defineInterface(PerformanceMark, {
        name: 'PerformanceMark',
        parent: PerformanceEntry,
        length: 1,
        attrs: {
            detail: [function () { return impl(this, 'PerformanceMark').detail; }]
        }
    });

    function PerformanceMeasure() {
        throw web.illegalConstructor();
    }

    web.defineInterface(PerformanceMeasure, {
        name: 'PerformanceMeasure',
        parent: PerformanceEntry,
        length: 0,
        attrs: {
            detail: [function () { return impl(this, 'PerformanceMeasure').detail; }]
        }
    });

    /* ---- observers ---- */

    function PerformanceObserverEntryList() {
        throw web.illegalConstructor();
    }

    function list(self) {
        return impl(self, 'PerformanceObserverEntryList').entries;
    }

    web.defineInterface(PerformanceObserverEntryList, {
        name: 'PerformanceObserverEntryList',
        length: 0,
        ops: {
            getEntries: [function () { return filter(list(this)); }, 0],
            getEntriesByType: [function (type) {
                var l = list(this);
                web.requireArgs(arguments.length, 1, 'PerformanceObserverEntryList', 'getEntriesByType');
                return filter(l, undefined, web.toDOMString(type));
            }, 1],
            getEntriesByName: [function (name, type) {
                var l = list(this);
                web.requireArgs(arguments.length, 1, 'PerformanceObserverEntryList', 'getEntriesByName');
                return filter(l, web.toDOMString(name), type === undefined ? undefined : web.toDOMString(type));
            }, 1]
        }
    });

    function makeEntryList(items) {
        var l = Object.create(PerformanceObserverEntryList.prototype);
        web.setSlot(l, { brands: { PerformanceObserverEntryList: true }, entries: items });
        return l;
    }

    /* "queue the PerformanceObserver task": one task delivers every observer's buffer. */
    function queueObserverTask() {
        if (taskQueued) {
            return;
        }
        taskQueued = true;
        setImmediateFn(function () {
            taskQueued = false;
            var current = observers.slice();
            for (var i = 0; i < current.length; i++) {
                var s = current[i][web.SLOT];
                var items = s.buffer;
                s.buffer = [];
                if (items.length === 0) {
                    continue;
                }
                try {
                    s.callback.call(current[i], makeEntryList(items), current[i]);
                } catch (err) {
                    web.reportError(err);
                }
            }
        });
    }

    /* "queue a PerformanceEntry". */
    function queueEntry(entry) {
        var type = entry[web.SLOT].entryType;
        var interested = false;
        for (var i = 0; i < observers.length; i++) {
            var s = observers[i][web.SLOT];
            if (s.types.indexOf(type) >= 0) {
                s.buffer.push(entry);
                interested = true;
            }
        }
        if (interested) {
            queueObserverTask();
        }
    }

    function PerformanceObserver(callback) {
        web.checkConstruct(this, PerformanceObserver, new.target);
        web.requireArgs(arguments.length, 1, 'PerformanceObserver', 'constructor');
        if (typeof callback !== 'function') {
            throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function.');
        }
        web.setSlot(this, {
            brands: { PerformanceObserver: true },
            callback: callback,
            buffer: [],
            types: [],
            observerType: null
        });
    }

    function obs(self) {
        return impl(self, 'PerformanceObserver');
    }

    var supportedFrozen = Object.freeze(supported.slice());

    web.defineInterface(PerformanceObserver, {
        name: 'PerformanceObserver',
        length: 1,
        ops: {
            observe: [function (options) {
                var s = obs(this);
                var dict = web.toDictionary(options, 'PerformanceObserverInit');
                /* Members in lexicographic order, each read once. */
                var rawBuffered = dict.buffered;
                var rawEntryTypes = dict.entryTypes;
                var entryTypes = rawEntryTypes === undefined ? undefined : web.toSequence(rawEntryTypes, 'entryTypes').map(web.toDOMString);
                var rawType = dict.type;
                var type = rawType === undefined ? undefined : web.toDOMString(rawType);
                var buffered = !!rawBuffered;
                if (entryTypes === undefined && type === undefined) {
                    throw new TypeError("Failed to execute 'observe' on 'PerformanceObserver': either an 'entryTypes' or a 'type' member must be present.");
                }
                if (entryTypes !== undefined && (type !== undefined || rawBuffered !== undefined)) {
                    throw new TypeError("Failed to execute 'observe' on 'PerformanceObserver': an 'entryTypes' member cannot be combined with 'type' or 'buffered'.");
                }
                if (s.observerType === null) {
                    s.observerType = entryTypes !== undefined ? 'multiple' : 'single';
                }
                if (s.observerType === 'single' && entryTypes !== undefined) {
                    throw web.domError('This observer was set up with a type, entryTypes cannot be used now', 'InvalidModificationError');
                }
                if (s.observerType === 'multiple' && type !== undefined) {
                    throw web.domError('This observer was set up with entryTypes, type cannot be used now', 'InvalidModificationError');
                }
                var types;
                if (s.observerType === 'multiple') {
                    types = entryTypes.filter(function (t) { return supported.indexOf(t) >= 0; });
                    if (types.length === 0) {
                        return;
                    }
                    s.types = types;
                } else {
                    if (supported.indexOf(type) < 0) {
                        return;
                    }
                    if (s.types.indexOf(type) < 0) {
                        s.types.push(type);
                    }
                    if (buffered) {
                        var old = filter(entries, undefined, type);
                        for (var i = 0; i < old.length; i++) {
                            s.buffer.push(old[i]);
                        }
                        if (old.length > 0) {
                            queueObserverTask();
                        }
                    }
                }
                if (observers.indexOf(this) < 0) {
                    observers.push(this);
                }
            }, 0],
            disconnect: [function () {
                var s = obs(this);
                var i = observers.indexOf(this);
                if (i >= 0) {
                    observers.splice(i, 1);
                }
                s.buffer = [];
                s.types = [];
                s.observerType = null;
            }, 0],
            takeRecords: [function () {
                var s = obs(this);
                var items = s.buffer;
                s.buffer = [];
                return items;
            }, 0]
        }
    });
    Object.defineProperty(PerformanceObserver, 'supportedEntryTypes', {
        get: web.fnShape(function () { return supportedFrozen; }, 'get supportedEntryTypes', 0),
        enumerable: true,
        configurable: true
    });

    /* ---- Performance ---- */

    function Performance() {
        throw web.illegalConstructor();
    }

    function perf(self) {
        return impl(self, 'Performance');
    }

    /* "convert a mark to a timestamp". */
    function markTime(mark) {
        if (typeof mark === 'number') {
            if (mark < 0) {
                throw new TypeError('A negative value is not a valid timestamp');
            }
            return mark;
        }
        var name = web.toDOMString(mark);
        for (var i = entries.length - 1; i >= 0; i--) {
            var s = entries[i][web.SLOT];
            if (s.entryType === 'mark' && s.name === name) {
                return s.startTime;
            }
        }
        throw web.domError('The "' + name + '" performance mark has not been set', 'SyntaxError');
    }

    function clearEntries(type, name) {
        var kept = [];
        for (var i = 0; i < entries.length; i++) {
            var s = entries[i][web.SLOT];
            if (s.entryType !== type || (name !== undefined && s.name !== name)) {
                kept.push(entries[i]);
            }
        }
        entries = kept;
    }

    web.defineInterface(Performance, {
        name: 'Performance',
        parent: web.EventTarget,
        length: 0,
        attrs: {
            timeOrigin: [function () {
                perf(this);
                return timeOrigin;
            }]
        },
        ops: {
            now: [function () {
                perf(this);
                return now();
            }, 0],
            toJSON: [function () {
                perf(this);
                return { timeOrigin: timeOrigin };
            }, 0],
            mark: [function (markName, markOptions) {
                perf(this);
                web.requireArgs(arguments.length, 1, 'Performance', 'mark');
                var entry = Object.create(PerformanceMark.prototype);
                initMark(entry, web.toDOMString(markName), markOptions);
                entries.push(entry);
                queueEntry(entry);
                return entry;
            }, 1],
            clearMarks: [function (markName) {
                perf(this);
                clearEntries('mark', markName === undefined ? undefined : web.toDOMString(markName));
            }, 0],
            measure: [function (measureName, startOrMeasureOptions, endMark) {
                perf(this);
                web.requireArgs(arguments.length, 1, 'Performance', 'measure');
                measureName = web.toDOMString(measureName);
                var options = null;
                var startString;
                if (startOrMeasureOptions !== null && typeof startOrMeasureOptions === 'object') {
                    options = startOrMeasureOptions;
                } else if (startOrMeasureOptions !== undefined) {
                    startString = web.toDOMString(startOrMeasureOptions);
                }
                var start, end, duration, detail;
                if (options) {
                    /* Members in lexicographic order, each read once. */
                    detail = options.detail;
                    duration = options.duration;
                    duration = duration === undefined ? undefined : web.toDouble(duration, 'duration');
                    end = options.end;
                    start = options.start;
                }
                var nonEmpty = options !== null &&
                    (start !== undefined || end !== undefined || duration !== undefined || detail !== undefined);
                if (nonEmpty) {
                    if (endMark !== undefined) {
                        throw new TypeError('Options cannot be passed with endMark.');
                    }
                    if (start === undefined && end === undefined) {
                        throw new TypeError('Options must include a start or an end.');
                    }
                    if (start !== undefined && duration !== undefined && end !== undefined) {
                        throw new TypeError('Options cannot include start, end and duration together.');
                    }
                }
                var endTime;
                if (endMark !== undefined) {
                    endTime = markTime(endMark);
                } else if (nonEmpty && end !== undefined) {
                    endTime = markTime(end);
                } else if (nonEmpty && start !== undefined && duration !== undefined) {
                    endTime = markTime(start) + duration;
                } else {
                    endTime = now();
                }
                var startTime;
                if (nonEmpty && start !== undefined) {
                    startTime = markTime(start);
                } else if (nonEmpty && duration !== undefined && end !== undefined) {
                    startTime = endTime - duration;
                } else if (startString !== undefined) {
                    startTime = markTime(startString);
                } else {
                    startTime = 0;
                }
                var entry = Object.create(PerformanceMeasure.prototype);
                web.setSlot(entry, {
                    brands: { PerformanceEntry: true, PerformanceMeasure: true },
                    name: measureName,
                    entryType: 'measure',
                    startTime: startTime,
                    duration: endTime - startTime,
                    detail: nonEmpty ? cloneDetail(detail) : null
                });
                entries.push(entry);
                queueEntry(entry);
                return entry;
            }, 1],
            clearMeasures: [function (measureName) {
                perf(this);
                clearEntries('measure', measureName === undefined ? undefined : web.toDOMString(measureName));
            }, 0],
            getEntries: [function () {
                perf(this);
                return filter(entries);
            }, 0],
            getEntriesByType: [function (type) {
                perf(this);
                web.requireArgs(arguments.length, 1, 'Performance', 'getEntriesByType');
                return filter(entries, undefined, web.toDOMString(type));
            }, 1],
            getEntriesByName: [function (name, type) {
                perf(this);
                web.requireArgs(arguments.length, 1, 'Performance', 'getEntriesByName');
                return filter(entries, web.toDOMString(name), type === undefined ? undefined : web.toDOMString(type));
            }, 1]
        }
    });

    var performance = Object.create(Performance.prototype);
    web.eventTargetInit(performance, ['Performance']);

    /* The plain object evl_duk_install made is replaced; a host's own full implementation
     * (one with mark) is kept. */
    if (!previous || typeof previous.mark !== 'function') {
        web.exposeAttribute('performance', performance, true, true);
    }
    web.exposeGlobal('Performance', Performance, false);
    web.exposeGlobal('PerformanceEntry', PerformanceEntry, false);
    web.exposeGlobal('PerformanceMark', PerformanceMark, false);
    web.exposeGlobal('PerformanceMeasure', PerformanceMeasure, false);
    web.exposeGlobal('PerformanceObserver', PerformanceObserver, false);
    web.exposeGlobal('PerformanceObserverEntryList', PerformanceObserverEntryList, false);
})

/*
 * Loop observability for scripts, with Node v20's shapes: performance.eventLoopUtilization(),
 * the 'perf_hooks' core module (performance, monitorEventLoopDelay and the Performance*
 * interfaces the runtime has) and process.metrics(). ES5 only: this runs inside Duktape.
 * Called as fn(global, native, internals) after the web layer, so `performance` is final.
 *
 * The event-loop delay histogram follows Node's ELDHistogram: an unref'd timer every
 * `resolution` ms records the time between its own runs (nanoseconds) into an HDR
 * histogram with Node's parameters (lowest discernible value 1000 ns, 3 significant
 * figures), so min/max/mean/stddev/percentiles are the values Node reports for the same
 * samples.
 */
(function (global, native, internals) {
    'use strict';

    var nodeError = internals.nodeError;
    var invalidArgType = internals.invalidArgType;
    var setIntervalFn = global.setInterval;
    var clearIntervalFn = global.clearInterval;
    var performance = global.performance;

    function define(obj, name, value) {
        Object.defineProperty(obj, name, {
            value: value, writable: true, enumerable: false, configurable: true
        });
    }

    function isInteger(v) {
        return typeof v === 'number' && isFinite(v) && Math.floor(v) === v;
    }

    /* Node's ERR_OUT_OF_RANGE "Received" part: integers above 2^32 get digit separators. */
    function received(value) {
        if (typeof value === 'number' && isInteger(value) && Math.abs(value) > 4294967296) {
            var s = String(Math.abs(value));
            var out = '';
            while (s.length > 3) {
                out = '_' + s.slice(-3) + out;
                s = s.slice(0, -3);
            }
            return (value < 0 ? '-' : '') + s + out;
        }
        if (typeof value === 'string') {
            return "'" + value + "'";
        }
        return String(value);
    }

    function outOfRange(name, range, value) {
        return nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "' + name +
            '" is out of range. It must be ' + range + '. Received ' + received(value));
    }

    function invalidThis(type) {
        return nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type ' + type);
    }

    function illegalConstructor() {
        return nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    }

    /* ---- performance.eventLoopUtilization ---------------------------------------------- */

    /* Node's internalEventLoopUtilization, fed by the loop's idle-time accounting:
     * native.eluRaw() is [idle ms, active ms] since the loop started, null before. */
    function eventLoopUtilization(util1, util2) {
        var raw = native.eluRaw();
        if (raw === null) {
            return { idle: 0, active: 0, utilization: 0 };
        }
        if (util2) {
            var idle2 = util1.idle - util2.idle;
            var active2 = util1.active - util2.active;
            return { idle: idle2, active: active2, utilization: active2 / (idle2 + active2) };
        }
        var idle = raw[0];
        var active = raw[1];
        if (!util1) {
            return { idle: idle, active: active, utilization: active / (idle + active) };
        }
        var idleDelta = idle - util1.idle;
        var activeDelta = active - util1.active;
        return {
            idle: idleDelta,
            active: activeDelta,
            utilization: activeDelta / (idleDelta + activeDelta)
        };
    }

    if (performance && typeof performance === 'object') {
        /* Node defines it on Performance.prototype (a non-enumerable method); a plain
         * performance object (no web layer) gets it as its own. */
        var perfProto = typeof global.Performance === 'function' &&
            performance instanceof global.Performance ? global.Performance.prototype : performance;
        define(perfProto, 'eventLoopUtilization', eventLoopUtilization);
    }

    /* The histogram classes are built on the first require('perf_hooks'): start-up pays
     * only for eventLoopUtilization and process.metrics. Returns monitorEventLoopDelay. */
    function histogramApi() {
        /* ---- HDR histogram (the layout Node's hdr_histogram uses) ---------------------------- */

        var UNIT_MAG = 9;          /* floor(log2(1000)): lowest discernible value 1000 ns */
        var SUB_HALF_MAG = 10;     /* 3 significant figures: 2048 sub-buckets, half 1024 */
        var SUB_HALF = 1024;
        var INT64_MAX = 9223372036854775807;

        function pow2(n) {
            return Math.pow(2, n);
        }

        /* Number of bits of a non-negative integer value (exact: powers of two are exact). */
        function bitLength(v) {
            var n = 0;
            var p = 1;
            while (p <= v) {
                p *= 2;
                n++;
            }
            return n;
        }

        function bucketOf(v) {
            var b = bitLength(v) - (UNIT_MAG + SUB_HALF_MAG + 1);
            return b > 0 ? b : 0;
        }

        function countsIndex(v) {
            var b = bucketOf(v);
            var sub = Math.floor(v / pow2(b + UNIT_MAG));
            return b * SUB_HALF + sub;
        }

        function valueAtIndex(i) {
            var b = Math.floor(i / SUB_HALF) - 1;
            var sub = (i % SUB_HALF) + SUB_HALF;
            if (b < 0) {
                sub -= SUB_HALF;
                b = 0;
            }
            return sub * pow2(b + UNIT_MAG);
        }

        function rangeSize(v) {
            return pow2(bucketOf(v) + UNIT_MAG);
        }

        function lowestEquivalent(v) {
            var b = bucketOf(v);
            return Math.floor(v / pow2(b + UNIT_MAG)) * pow2(b + UNIT_MAG);
        }

        function highestEquivalent(v) {
            return lowestEquivalent(v) + rangeSize(v) - 1;
        }

        function medianEquivalent(v) {
            return lowestEquivalent(v) + Math.floor(rangeSize(v) / 2);
        }

        function Hdr() {
            this.reset();
        }

        Hdr.prototype.reset = function () {
            this.counts = Object.create(null); /* counts index -> count, recorded ones only */
            this.order = [];                    /* the indices in counts, ascending */
            this.total = 0;
            this.minValue = INT64_MAX;
            this.maxValue = 0;
            this.exceeds = 0;
            this.prev = 0;
        };

        Hdr.prototype.record = function (v) {
            if (!(v >= 0) || v > INT64_MAX) {
                return false;
            }
            var i = countsIndex(v);
            if (this.counts[i] === undefined) {
                this.counts[i] = 0;
                /* Insert keeping the order: few distinct buckets, mostly appended. */
                var k = this.order.length;
                while (k > 0 && this.order[k - 1] > i) {
                    k--;
                }
                this.order.splice(k, 0, i);
            }
            this.counts[i]++;
            this.total++;
            if (v < this.minValue && v !== 0) {
                this.minValue = v;
            }
            if (v > this.maxValue) {
                this.maxValue = v;
            }
            return true;
        };

        /* Node's Histogram::RecordDelta: the time since the previous call, from the second on. */
        Hdr.prototype.recordDelta = function () {
            var now = native.hrns();
            if (this.prev > 0 && now > this.prev) {
                if (!this.record(now - this.prev)) {
                    this.exceeds++;
                }
            }
            this.prev = now;
        };

        Hdr.prototype.min = function () {
            if (this.counts[0] > 0) {
                return 0;
            }
            return this.minValue === INT64_MAX ? INT64_MAX : lowestEquivalent(this.minValue);
        };

        Hdr.prototype.max = function () {
            return this.maxValue === 0 ? 0 : highestEquivalent(this.maxValue);
        };

        Hdr.prototype.mean = function () {
            var sum = 0;
            for (var k = 0; k < this.order.length; k++) {
                var i = this.order[k];
                sum += this.counts[i] * medianEquivalent(valueAtIndex(i));
            }
            return sum / this.total;
        };

        Hdr.prototype.stddev = function () {
            var mean = this.mean();
            var dev = 0;
            for (var k = 0; k < this.order.length; k++) {
                var i = this.order[k];
                var d = medianEquivalent(valueAtIndex(i)) - mean;
                dev += d * d * this.counts[i];
            }
            return Math.sqrt(dev / this.total);
        };

        /* hdr_value_at_percentile: the highest value equivalent to the one at that rank. */
        Hdr.prototype.percentile = function (p) {
            var want = Math.floor((Math.min(p, 100) / 100) * this.total + 0.5);
            if (want < 1) {
                want = 1;
            }
            var value = 0;
            var seen = 0;
            for (var k = 0; k < this.order.length; k++) {
                seen += this.counts[this.order[k]];
                if (seen >= want) {
                    value = valueAtIndex(this.order[k]);
                    break;
                }
            }
            return highestEquivalent(value);
        };

        /* The percentile iteration Node's percentiles() reports (one tick per half distance):
         * calls fn(percentile, value) with the lowest value equivalent to each. */
        Hdr.prototype.percentiles = function (fn) {
            var next = 0;
            var cumulative = 0;
            var value = 0;
            for (var k = 0; k < this.order.length; k++) {
                var i = this.order[k];
                cumulative += this.counts[i];
                value = valueAtIndex(i);
                while (next <= (100 * cumulative) / this.total) {
                    fn(next, value);
                    if (cumulative >= this.total) {
                        break;
                    }
                    var ticks = pow2(Math.floor(Math.log(100 / (100 - next)) / Math.log(2)) + 1);
                    next += 100 / ticks;
                }
                if (cumulative >= this.total) {
                    break;
                }
            }
            fn(100, value);
        };

        /* ---- Histogram, IntervalHistogram (ELDHistogram) ------------------------------------- */

        var kHandle = Symbol('kHandle');
        var kEnabled = Symbol('kEnabled');
        var kMap = Symbol('kMap');
        var kTimer = Symbol('kTimer');
        var constructing = false;

        /*
         * What `percentiles` returns: Duktape has no Map, so a read-only object with Map's
         * reading interface (size, get, has, forEach; keys/values/entries give arrays), keys in
         * ascending percentile order. One per histogram, refilled on each read, as Node reuses
         * its map.
         */
        function PercentileMap() {
            define(this, '_keys', []);
            define(this, '_values', []);
        }
        Object.defineProperty(PercentileMap.prototype, 'size', {
            get: function () { return this._keys.length; },
            enumerable: false,
            configurable: true
        });
        define(PercentileMap.prototype, 'get', function get(key) {
            var i = this._keys.indexOf(key);
            return i < 0 ? undefined : this._values[i];
        });
        define(PercentileMap.prototype, 'has', function has(key) {
            return this._keys.indexOf(key) >= 0;
        });
        define(PercentileMap.prototype, 'forEach', function forEach(fn, thisArg) {
            for (var i = 0; i < this._keys.length; i++) {
                fn.call(thisArg, this._values[i], this._keys[i], this);
            }
        });
        define(PercentileMap.prototype, 'keys', function keys() {
            return this._keys.slice();
        });
        define(PercentileMap.prototype, 'values', function values() {
            return this._values.slice();
        });
        define(PercentileMap.prototype, 'entries', function entries() {
            var out = [];
            for (var i = 0; i < this._keys.length; i++) {
                out.push([this._keys[i], this._values[i]]);
            }
            return out;
        });
        define(PercentileMap.prototype, 'toJSON', function toJSON() {
            var o = {};
            this.forEach(function (v, k) { o[k] = v; });
            return o;
        });

        function handle(self) {
            var h = self !== null && self !== undefined ? self[kHandle] : undefined;
            if (h === undefined) {
                throw invalidThis('Histogram');
            }
            return h;
        }

        function Histogram() {
            if (!constructing) {
                throw illegalConstructor();
            }
        }

        function getter(name, fn) {
            Object.defineProperty(Histogram.prototype, name, {
                get: fn, enumerable: false, configurable: true
            });
        }

        getter('count', function () { return handle(this).total; });
        getter('min', function () { return handle(this).min(); });
        getter('max', function () { return handle(this).max(); });
        getter('mean', function () { return handle(this).mean(); });
        getter('exceeds', function () { return handle(this).exceeds; });
        getter('stddev', function () { return handle(this).stddev(); });
        getter('percentiles', function () {
            var h = handle(this);
            var map = this[kMap];
            map._keys.length = 0;
            map._values.length = 0;
            h.percentiles(function (p, v) {
                map._keys.push(p);
                map._values.push(v);
            });
            return map;
        });
        define(Histogram.prototype, 'percentile', function percentile(p) {
            var h = handle(this);
            if (typeof p !== 'number') {
                throw invalidArgType('percentile', 'number', p);
            }
            if (p !== p || p <= 0 || p > 100) {
                throw outOfRange('percentile', '> 0 && <= 100', p);
            }
            return h.percentile(p);
        });
        define(Histogram.prototype, 'reset', function reset() {
            handle(this).reset();
        });
        define(Histogram.prototype, 'toJSON', function toJSON() {
            return {
                count: this.count,
                min: this.min,
                max: this.max,
                mean: this.mean,
                exceeds: this.exceeds,
                stddev: this.stddev,
                percentiles: this.percentiles.toJSON()
            };
        });

        function ELDHistogram() {
            if (!constructing) {
                throw illegalConstructor();
            }
            Histogram.call(this);
        }
        ELDHistogram.prototype = Object.create(Histogram.prototype);
        define(ELDHistogram.prototype, 'constructor', ELDHistogram);
        define(Histogram.prototype, 'constructor', Histogram);

        define(ELDHistogram.prototype, 'enable', function enable() {
            if (this === null || this === undefined || this[kEnabled] === undefined) {
                throw invalidThis('ELDHistogram');
            }
            var was = this[kEnabled];
            this[kEnabled] = true;
            if (!was) {
                var h = this[kHandle];
                /* As libuv's timer under Node's histogram: unref'd, never keeps the loop alive.
                 * The first run after creation or reset() records nothing (nothing to measure
                 * from); after a disable() it measures from the last run before it, as Node. */
                var t = setIntervalFn(function () { h.recordDelta(); }, this[kTimer].resolution);
                t.unref();
                this[kTimer].timer = t;
            }
            return !was;
        });
        define(ELDHistogram.prototype, 'disable', function disable() {
            if (this === null || this === undefined || this[kEnabled] === undefined) {
                throw invalidThis('ELDHistogram');
            }
            var was = this[kEnabled];
            this[kEnabled] = false;
            if (was) {
                clearIntervalFn(this[kTimer].timer);
                this[kTimer].timer = null;
            }
            return was;
        });

        /* Node's setInterval coerces delays above 2^31 - 1 to 1 ms; its histogram's libuv
         * timer does not. 2^31 - 1 ms (24.8 days) keeps "practically never" meaning that. */
        var MAX_DELAY = 2147483647;

        function monitorEventLoopDelay(options) {
            if (options === undefined) {
                options = {};
            }
            if (options === null || typeof options !== 'object' || Array.isArray(options)) {
                throw invalidArgType('options', 'object', options);
            }
            var resolution = options.resolution;
            if (resolution === undefined) {
                resolution = 10;
            }
            if (typeof resolution !== 'number') {
                throw invalidArgType('options.resolution', 'number', resolution);
            }
            if (!isInteger(resolution)) {
                throw outOfRange('options.resolution', 'an integer', resolution);
            }
            if (resolution < 1 || resolution > 9007199254740991) {
                throw outOfRange('options.resolution', '>= 1 && <= 9007199254740991', resolution);
            }
            constructing = true;
            var h;
            try {
                h = new ELDHistogram();
            } finally {
                constructing = false;
            }
            h[kEnabled] = false;
            h[kHandle] = new Hdr();
            h[kMap] = new PercentileMap();
            h[kTimer] = { resolution: Math.min(resolution, MAX_DELAY), timer: null };
            return h;
        }
        define(monitorEventLoopDelay, 'length', 0);

        return monitorEventLoopDelay;
    }

    /* ---- the perf_hooks module ------------------------------------------------------------- */

    /* Taken now, as Node's module holds its own references: a script that replaces the
     * globals does not change what require('perf_hooks') gives. */
    var exported = {};
    var names = ['Performance', 'PerformanceEntry', 'PerformanceMark', 'PerformanceMeasure',
        'PerformanceObserver', 'PerformanceObserverEntryList'];
    for (var n = 0; n < names.length; n++) {
        if (typeof global[names[n]] === 'function') {
            exported[names[n]] = global[names[n]];
        }
    }
    var lazy = internals.lazyBuiltins = internals.lazyBuiltins || Object.create(null);
    lazy.perf_hooks = function () {
        var m = {};
        for (var k in exported) {
            m[k] = exported[k];
        }
        m.monitorEventLoopDelay = histogramApi();
        m.performance = performance;
        return m;
    };

    /* ---- process.metrics ------------------------------------------------------------------- */

    var process = global.process;

    function nonNegativeInteger(options, key, max) {
        var v = options[key];
        if (v === undefined) {
            return 0;
        }
        if (typeof v !== 'number') {
            throw invalidArgType('options.' + key, 'number', v);
        }
        if (!isInteger(v)) {
            throw outOfRange('options.' + key, 'an integer', v);
        }
        if (v < 0 || v > max) {
            throw outOfRange('options.' + key, '>= 0 && <= ' + max, v);
        }
        return v;
    }

    /* The loop's metrics snapshot (include/evl/metrics.h) as a plain object; never throws.
     * Off (never enabled): the same shape, enabled false and zeroes. */
    function metrics() {
        return native.metrics();
    }
    /* Starts recording (options: sampleEvery, cpuSampleEvery, slowMs, delayResolutionMs;
     * 0 or absent: libevl's defaults); again: applies new options, keeps what was recorded. */
    define(metrics, 'enable', function enable(options) {
        if (options === undefined) {
            options = {};
        }
        if (options === null || typeof options !== 'object' || Array.isArray(options)) {
            throw invalidArgType('options', 'object', options);
        }
        var sampleEvery = nonNegativeInteger(options, 'sampleEvery', 4294967295);
        var cpuSampleEvery = nonNegativeInteger(options, 'cpuSampleEvery', 4294967295);
        var slowMs = options.slowMs;
        if (slowMs === undefined) {
            slowMs = 0;
        } else if (typeof slowMs !== 'number') {
            throw invalidArgType('options.slowMs', 'number', slowMs);
        } else if (!(slowMs >= 0 && slowMs <= 9007199254)) {
            throw outOfRange('options.slowMs', '>= 0 && <= 9007199254', slowMs);
        }
        var delayResolutionMs = nonNegativeInteger(options, 'delayResolutionMs', 4294967294);
        native.metricsEnable(sampleEvery, cpuSampleEvery, Math.round(slowMs * 1e6), delayResolutionMs);
    });
    define(metrics, 'disable', function disable() {
        native.metricsDisable();
    });
    if (process && typeof process === 'object') {
        Object.defineProperty(process, 'metrics', {
            value: metrics, writable: true, enumerable: true, configurable: true
        });
    }
})

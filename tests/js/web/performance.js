// performance: now/timeOrigin/toJSON (HR-Time), User Timing Level 3 (mark, measure in every
// argument form with its errors, entry getters, clear*), the entry classes and
// PerformanceObserver (type/entryTypes, buffered, takeRecords, disconnect, task delivery).
var h = require('./_harness.js');
var check = h.check;
// Measures "b" and "c" end now, so their durations are not printed.
function e(x) { return x.name + '/' + x.entryType + '/' + x.startTime + '/' + (x.name === 'b' || x.name === 'c' ? 'now' : x.duration); }
function all(list) { return list.map(e); }

check('now', function () { var a = performance.now(), b = performance.now(); return typeof a === 'number' && a >= 0 && b >= a; });
check('timeOrigin', function () { return Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 100; });
check('toJSON', function () { var j = performance.toJSON(); return typeof j.timeOrigin === 'number' && j.timeOrigin === performance.timeOrigin; });
check('instanceof', function () { return [performance instanceof Performance, performance instanceof EventTarget, Object.prototype.toString.call(performance)]; });

var ordered = [];
var obsType = new PerformanceObserver(function (list, observer) {
    ordered.push('type:' + all(list.getEntries()).join(',') + ':' + (observer === obsType) + ':' + (this === obsType));
});
obsType.observe({ type: 'mark' });
var obsMulti = new PerformanceObserver(function (list) {
    ordered.push('multi:' + all(list.getEntriesByType('measure')).join(',') + ':' + all(list.getEntriesByName('m1')).join(','));
});
obsMulti.observe({ entryTypes: ['measure', 'bogus'] });

var m1 = performance.mark('m1', { startTime: 10 });
performance.mark('m2', { startTime: 30, detail: { k: [1, 2] } });
performance.mark('m1', { startTime: 20 });
check('mark', function () { return [e(m1), m1.detail, m1 instanceof PerformanceMark, m1 instanceof PerformanceEntry]; });
check('mark detail cloned', function () {
    var d = { v: 1 };
    var m = new PerformanceMark('x', { detail: d, startTime: 1 });
    d.v = 2;
    return [m.detail.v, m.detail !== d, m.detail === m.detail];
});
check('mark now', function () { var t0 = performance.now(); var m = new PerformanceMark('n'); return m.startTime >= t0 && m.startTime <= performance.now(); });
check('mark negative', function () { return performance.mark('bad', { startTime: -1 }); });
check('mark NaN', function () { return performance.mark('bad', { startTime: NaN }); });
check('mark detail function', function () { return performance.mark('bad', { detail: function () {} }); });
check('mark no args', function () { return performance.mark(); });
check('mark options not object', function () { return performance.mark('bad', 5); });

check('measure name to name', function () { return e(performance.measure('a', 'm1', 'm2')); });
check('measure start only', function () { var x = performance.measure('b', 'm2'); return [x.startTime, x.duration > 0 || x.duration <= 0]; });
check('measure no start', function () { return performance.measure('c').startTime; });
check('measure {start,end}', function () { return e(performance.measure('d', { start: 5, end: 'm2' })); });
check('measure {start,duration}', function () { return e(performance.measure('e', { start: 'm1', duration: 4 })); });
check('measure {duration,end}', function () { return e(performance.measure('f', { duration: 4, end: 50 })); });
check('measure detail', function () { return performance.measure('g', { start: 1, end: 2, detail: [1] }).detail; });
check('measure null detail', function () { return performance.measure('g2', { start: 1, end: 2 }).detail; });
check('measure empty options', function () { return performance.measure('h', {}, 'm2').duration === 30; });
check('measure options with endMark', function () { return performance.measure('x', { start: 1 }, 'm2'); });
check('measure options without start/end', function () { return performance.measure('x', { duration: 1 }); });
check('measure start+end+duration', function () { return performance.measure('x', { start: 1, end: 2, duration: 1 }); });
check('measure unknown mark', function () { return performance.measure('x', 'nope'); });
check('measure unknown end', function () { return performance.measure('x', 'm1', 'nope'); });
check('measure negative start', function () { return performance.measure('x', { start: -1, end: 2 }); });
check('measure no args', function () { return performance.measure(); });
check('measure instanceof', function () { return performance.getEntriesByType('measure')[0] instanceof PerformanceMeasure; });

check('getEntries', function () { return all(performance.getEntries()).slice(0, 6); });
check('getEntriesByName', function () { return all(performance.getEntriesByName('m1')); });
check('getEntriesByName type', function () { return all(performance.getEntriesByName('m1', 'measure')); });
check('getEntriesByType', function () { return all(performance.getEntriesByType('mark')).filter(function (s) { return s.indexOf('m') === 0; }); });
check('getEntriesByType unknown', function () { return performance.getEntriesByType('paint').length; });
check('toJSON entry', function () { return JSON.stringify(m1.toJSON()); });
check('takeRecords', function () { return all(obsType.takeRecords()).slice(0, 3); });
check('takeRecords empty', function () { return obsType.takeRecords().length; });
performance.clearMarks('m1');
check('clearMarks name', function () { return performance.getEntriesByName('m1', 'mark').length + '/' + performance.getEntriesByName('m2').length; });
performance.clearMarks();
check('clearMarks', function () { return performance.getEntriesByType('mark').length; });
performance.clearMeasures('a');
check('clearMeasures name', function () { return performance.getEntriesByName('a').length; });
performance.clearMeasures();
check('clearMeasures', function () { return performance.getEntries().length; });

check('observe nothing', function () { return new PerformanceObserver(function () {}).observe({}); });
check('observe both', function () { return new PerformanceObserver(function () {}).observe({ type: 'mark', entryTypes: ['mark'] }); });
check('observe entryTypes+buffered', function () { return new PerformanceObserver(function () {}).observe({ entryTypes: ['mark'], buffered: true }); });
check('observe switch', function () { var o = new PerformanceObserver(function () {}); o.observe({ type: 'mark' }); return o.observe({ entryTypes: ['mark'] }); });
check('observe switch back', function () { var o = new PerformanceObserver(function () {}); o.observe({ entryTypes: ['mark'] }); return o.observe({ type: 'mark' }); });
check('callback not function', function () { return new PerformanceObserver({}); });
check('PerformanceObserver()', function () { return PerformanceObserver(function () {}); });
check('supportedEntryTypes', function () { var s = PerformanceObserver.supportedEntryTypes; return [s.indexOf('mark') >= 0, s.indexOf('measure') >= 0, Object.isFrozen(s), s === PerformanceObserver.supportedEntryTypes]; });
check('new PerformanceEntry', function () { return new PerformanceEntry(); });
check('new PerformanceMeasure', function () { return new PerformanceMeasure(); });
check('new Performance', function () { return new Performance(); });
check('wrong receiver now', function () { return Performance.prototype.now.call({}); });
check('wrong receiver name', function () { return Object.getOwnPropertyDescriptor(PerformanceEntry.prototype, 'name').get.call({}); });
check('mark op', function () { return h.attrs(Performance.prototype, 'mark'); });
check('measure op', function () { return h.attrs(Performance.prototype, 'measure'); });
check('timeOrigin attr', function () { return h.attrs(Performance.prototype, 'timeOrigin'); });
check('PerformanceMark.length', function () { return PerformanceMark.length; });
check('global performance', function () { return h.attrs(globalThis, 'performance'); });

// Delivery is a task: nothing synchronously, nothing in the same microtask checkpoint.
var buffered = new PerformanceObserver(function (list) { ordered.push('buffered:' + all(list.getEntries()).join(',')); });
performance.mark('late', { startTime: 7 });
buffered.observe({ type: 'mark', buffered: true });
var disconnected = new PerformanceObserver(function () { ordered.push('disconnected called'); });
disconnected.observe({ type: 'mark' });
performance.mark('late2', { startTime: 8 });
disconnected.disconnect();
ordered.push('sync');
Promise.resolve().then(function () { ordered.push('microtask'); });
setTimeout(function () {
    console.log(ordered.join('\n'));
}, 20);

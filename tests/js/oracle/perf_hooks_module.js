// perf_hooks: the module's exports the runtime has, identity with the globals, and the shape
// of performance.eventLoopUtilization (a non-enumerable method of Performance.prototype).
var ph = require('perf_hooks');
console.log(ph === require('node:perf_hooks'), ph.performance === performance,
    ph.performance === globalThis.performance);
['Performance', 'PerformanceEntry', 'PerformanceMark', 'PerformanceMeasure', 'PerformanceObserver',
    'PerformanceObserverEntryList'].forEach(function (n) {
    console.log(n, typeof ph[n], ph[n] === globalThis[n]);
});
console.log('monitorEventLoopDelay', typeof ph.monitorEventLoopDelay, ph.monitorEventLoopDelay.length,
    ph.monitorEventLoopDelay.name);
var elu = performance.eventLoopUtilization;
var d = Object.getOwnPropertyDescriptor(Performance.prototype, 'eventLoopUtilization');
console.log(typeof elu, elu.length, elu.name, d.enumerable, d.writable, d.configurable,
    Object.prototype.hasOwnProperty.call(performance, 'eventLoopUtilization'),
    Object.keys(performance).indexOf('eventLoopUtilization'));
// A replaced global changes neither the module nor its performance.
var real = performance;
globalThis.performance = { fake: true };
console.log(require('perf_hooks').performance === real, performance.fake);

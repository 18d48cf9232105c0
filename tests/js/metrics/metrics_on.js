// process.metrics() with metrics enabled from the script (every callback timed): exact
// counts per kind, quantiles in order, loop time split into idle and busy, promise counters.
process.metrics.enable({ sampleEvery: 1 });
var timers = 0;
var immediates = 0;
var ticks = 0;
var jobs = 0;
for (var i = 0; i < 5; i++) {
    setTimeout(function () { timers++; }, 2 + i);
}
for (var k = 0; k < 7; k++) {
    setImmediate(function () { immediates++; });
}
for (var t = 0; t < 3; t++) {
    process.nextTick(function () { ticks++; });
}
for (var p = 0; p < 4; p++) {
    Promise.resolve(p).then(function () { jobs++; });
}
setTimeout(function () {
    var m = process.metrics();
    var c = m.callbacks;
    console.log('enabled', m.enabled, 'sampleEvery', m.sampleEvery, 'slow threshold 50 ms', m.slowNs === 50e6);
    console.log('ran', timers, immediates, ticks, jobs);
    // The 5 timers plus this one (counted when it began).
    console.log('timer', c.timer.count, 'immediate', c.immediate.count);
    console.log('nextTick >= 3', c.nextTick.count >= 3, 'microtask >= 4', c.microtask.count >= 4);
    console.log('all timed', c.immediate.sampled === c.immediate.count);
    var q = c.immediate;
    console.log('quantiles ordered', q.minNs <= q.p50Ns && q.p50Ns <= q.p90Ns && q.p90Ns <= q.p99Ns &&
        q.p99Ns <= q.p999Ns && q.p999Ns <= q.maxNs, 'mean', q.meanNs > 0 && q.meanNs <= q.maxNs,
        'sum', q.sumNs >= q.maxNs);
    console.log('iterations > 0', m.iterations > 0, 'idle+busy > 0', m.idleNs + m.busyNs > 0,
        'utilization in [0, 1]', m.utilization >= 0 && m.utilization <= 1);
    console.log('waited for timers', m.wakeups.timer + m.wakeups.other + m.wakeups.task + m.wakeups.io > 0);
    console.log('promises created >= 4', m.promises.created >= 4, 'unhandled', m.promises.unhandledRejections);
    console.log('queues observed', m.queues.timers.observed > 0, 'timers max >= 5', m.queues.timers.max >= 5);
}, 30);

// Slow callbacks and loop delay: a timer that blocks for 40 ms is slow against a 20 ms
// threshold, and the lateness probe (delayResolutionMs) sees the loop 30+ ms late.
process.metrics.enable({ sampleEvery: 1, slowMs: 20, delayResolutionMs: 5 });
function spin(ms) { var t = Date.now(); while (Date.now() - t < ms) { /* busy */ } }
setTimeout(function () { spin(40); }, 10);
setTimeout(function () {
    var m = process.metrics();
    console.log('slow threshold', m.slowNs / 1e6, 'ms');
    console.log('slow timer', m.callbacks.timer.slow >= 1, 'max >= 35 ms', m.callbacks.timer.maxNs >= 35e6);
    console.log('delay samples', m.delay.count >= 2, 'max >= 30 ms', m.delay.maxNs >= 30e6,
        'ordered', m.delay.minNs <= m.delay.p50Ns && m.delay.p50Ns <= m.delay.p99Ns &&
        m.delay.p99Ns <= m.delay.maxNs, 'stddev > 0', m.delay.stddevNs > 0);
    // disable keeps what was recorded; counting stops.
    process.metrics.disable();
    var off = process.metrics();
    console.log('after disable', off.enabled, off.callbacks.timer.count === m.callbacks.timer.count + 0);
    setTimeout(function () {
        var later = process.metrics();
        console.log('frozen', later.enabled, later.callbacks.timer.count === off.callbacks.timer.count);
        // Enabling again keeps the recorded figures and counts on.
        process.metrics.enable();
        setImmediate(function () {
            var again = process.metrics();
            console.log('again', again.enabled, again.callbacks.immediate.count >= 1,
                again.callbacks.timer.slow >= 1);
        });
    }, 5);
}, 80);

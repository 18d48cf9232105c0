// monitorEventLoopDelay records the time between the runs of its own timer: a callback that
// blocks the loop for 120 ms shows up as a delay of at least that much. (No lower bound
// near the resolution: after a late run Node's libuv timer re-arms from the phase's cached
// time and may run again at once.) After disable() nothing more is recorded; reset()
// empties it.
var ph = require('perf_hooks');
var h = ph.monitorEventLoopDelay({ resolution: 10 });
console.log(h.enable());
function spin(ms) { var t = Date.now(); while (Date.now() - t < ms) { /* busy */ } }
setTimeout(function () { spin(120); }, 45);
setTimeout(function () {
    console.log(h.disable());
    var n = h.count;
    console.log('count >= 5', n >= 5, 'exceeds', h.exceeds);
    console.log('max >= 110 ms', h.max >= 110e6, 'max < 2 s', h.max < 2e9);
    console.log('min > 0', h.min > 0, 'min <= max', h.min <= h.max);
    console.log('mean between', h.mean >= h.min && h.mean <= h.max, 'stddev > 0', h.stddev > 0);
    console.log('p100 is max', h.percentile(100) === h.max, 'p50 <= p99', h.percentile(50) <= h.percentile(99));
    var keys = [];
    var vals = [];
    h.percentiles.forEach(function (v, k) { keys.push(k); vals.push(v); });
    var sorted = true;
    for (var i = 1; i < vals.length; i++) {
        sorted = sorted && vals[i] >= vals[i - 1] && keys[i] > keys[i - 1];
    }
    console.log('percentiles from 0 to 100', keys[0] === 0, keys[keys.length - 1] === 100, sorted,
        vals[0] === h.min, vals[vals.length - 1] <= h.max);
    var j = h.toJSON();
    console.log('toJSON', j.count === n, j.max === h.max, j.min === h.min, j.mean === h.mean);
    setTimeout(function () {
        console.log('disabled: unchanged', h.count === n);
        h.reset();
        console.log('reset', h.count, h.min, h.max, String(h.mean), String(h.stddev), h.percentiles.size);
        // Enabled again after a reset: the first run records nothing (no earlier run).
        console.log(h.enable());
        setTimeout(function () {
            console.log('recording again', h.count >= 1, h.min > 0, h.max < 1e9);
            h.disable();
        }, 150);
    }, 50);
}, 300);

// 2,000 timers with random delays (seeded Park-Miller PRNG), in 10 batches of 200; each
// batch is scheduled from an immediate once the previous batch has fired (never from inside
// the timers phase). Deadlines come from the real clock at scheduling, so on a loaded
// machine a preempted scheduling run legitimately reorders timers of different delays, and
// Node then orders them by its per-duration lists rather than strictly by deadline. The
// printed properties hold for both regardless of timing: every timer fires exactly once,
// equal delays fire in scheduling order (FIFO), and no timer fires before its delay. (Strict
// deadline order against a sorted model is pinned by the loop's fake-clock unit tests.)
var seed = 12345;
function rand() {
    seed = (seed * 16807) % 2147483647;
    return seed;
}
var batch = 0;
var total = 0;
var early = 0;
var fifoBroken = 0;
var twice = 0;
var perDelay = {};
function runBatch() {
    var fired = [];
    var remaining = 200;
    for (var i = 0; i < 200; i++) {
        var delay = (rand() % 8) * 20;
        var t = { seq: i, delay: delay, start: Date.now(), count: 0 };
        perDelay[delay] = (perDelay[delay] || 0) + 1;
        setTimeout((function (t) {
            return function () {
                t.count++;
                if (Date.now() - t.start < t.delay - 1) {
                    early++;
                }
                fired.push(t);
                remaining--;
                if (remaining === 0) {
                    setTimeout(function () { finish(fired); }, 20);
                }
            };
        })(t), delay);
    }
}
function finish(fired) {
    var lastSeq = {};
    for (var i = 0; i < fired.length; i++) {
        var t = fired[i];
        if (t.count !== 1) {
            twice++;
        }
        if (lastSeq[t.delay] !== undefined && lastSeq[t.delay] > t.seq) {
            fifoBroken++;
        }
        lastSeq[t.delay] = t.seq;
        total++;
    }
    batch++;
    if (batch < 10) {
        setImmediate(runBatch);
    } else {
        var counts = [];
        for (var d = 0; d < 160; d += 20) {
            counts.push(d + ':' + perDelay[d]);
        }
        console.log('fired ' + total + ' per delay ' + counts.join(' '));
        console.log('early ' + early + ' fifo broken ' + fifoBroken + ' fired twice ' + twice);
    }
}
setImmediate(runBatch);

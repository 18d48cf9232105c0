// 2,000 timers with random delays (seeded Park-Miller PRNG), in 10 batches of 200; each
// batch is scheduled from an immediate once the previous batch has fired (never from inside
// the timers phase). Delays are multiples of 20 ms, so distinct delays within a batch never
// race even if the scheduling run is preempted, and equal delays must fire FIFO. Prints a
// checksum of the firing order and the number of places where it differs from the model
// order (delay, then scheduling sequence).
var seed = 12345;
function rand() {
    seed = (seed * 16807) % 2147483647;
    return seed;
}
var batch = 0;
var mismatches = 0;
var hash = 0;
var total = 0;
function runBatch() {
    var fired = [];
    var model = [];
    var remaining = 200;
    for (var i = 0; i < 200; i++) {
        var delay = (rand() % 8) * 20;
        model.push({ delay: delay, seq: i });
        setTimeout((function (seq) {
            return function () {
                fired.push(seq);
                remaining--;
                if (remaining === 0) {
                    finish(fired, model);
                }
            };
        })(i), delay);
    }
}
function finish(fired, model) {
    model.sort(function (a, b) { return a.delay - b.delay || a.seq - b.seq; });
    for (var i = 0; i < fired.length; i++) {
        if (fired[i] !== model[i].seq) {
            mismatches++;
        }
        hash = (hash * 31 + fired[i] + 1) % 1000000007;
        total++;
    }
    batch++;
    if (batch < 10) {
        setImmediate(runBatch);
    } else {
        console.log('fired ' + total + ' mismatches ' + mismatches + ' hash ' + hash);
    }
}
setImmediate(runBatch);

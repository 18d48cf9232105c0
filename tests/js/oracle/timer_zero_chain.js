// Chains of zero timers and immediates started from a timer alternate deterministically:
// each round's immediate runs before its zero timer.
var log = [];
var n = 0;
function step() {
    n++;
    log.push('timeout ' + n);
    if (n < 6) {
        setImmediate(function () { log.push('immediate ' + n); });
        setTimeout(step, 0);
    } else {
        console.log(log.join('\n'));
    }
}
setTimeout(step, 5);

// From a timer callback, an immediate always runs before a zero timer (the check phase
// comes before the next timers phase).
var log = [];
var round = 0;
function go() {
    round++;
    setTimeout(function () { log.push('timeout0 ' + round); if (round < 5) { go2(); } else { done(); } }, 0);
    setImmediate(function () { log.push('immediate ' + round); });
}
function go2() {
    setTimeout(go, 5);
}
function done() {
    console.log(log.join('\n'));
}
setTimeout(go, 5);

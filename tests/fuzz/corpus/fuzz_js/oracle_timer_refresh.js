// Timeout.refresh(): from inside the timer's own callback it re-arms the timer; after the
// timer fired it re-arms it; on a cleared timer it does nothing; on a pending timer it
// restarts the delay (so it fires after a sibling due earlier). Steps are >= 40 ms apart so
// that a loaded machine cannot reorder them.
var log = [];
/* Set first: timers set in one run use the real clock, so a 1 ms timer set after the 5 ms
 * one could come second on a loaded machine. */
var fired = setTimeout(function () {
    log.push('fired once');
}, 1);
var n = 0;
var self = setTimeout(function () {
    n++;
    log.push('self ' + n);
    if (n < 3) {
        self.refresh();
    }
}, 5);
var cleared = setTimeout(function () {
    log.push('cleared fired');
}, 5);
clearTimeout(cleared);
cleared.refresh();
var pending = setTimeout(function () {
    log.push('pending (restarted)');
}, 120);
setTimeout(function () {
    pending.refresh();
    log.push('refreshed pending at 80');
}, 80);
setTimeout(function () {
    log.push('sibling at 160');
}, 160);
setTimeout(function () {
    fired.refresh();
}, 250);
setTimeout(function () {
    console.log(log.join('\n'));
}, 320);

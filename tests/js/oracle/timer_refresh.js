// Timeout.refresh(): from inside the timer's own callback it re-arms the timer; after the
// timer fired it re-arms it; on a cleared timer it does nothing; on a pending timer it
// restarts the delay (fires after a later sibling).
var log = [];
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
}, 30);
setTimeout(function () {
    pending.refresh();
    log.push('refreshed pending at 20');
}, 20);
setTimeout(function () {
    log.push('sibling at 40');
}, 40);
var fired = setTimeout(function () {
    log.push('fired once');
}, 1);
setTimeout(function () {
    fired.refresh();
}, 60);
setTimeout(function () {
    console.log(log.join('\n'));
}, 120);

// An unref'd setImmediate runs only while other work keeps the loop going: one set from the
// last ref'd callback waits, and runs only because a 'beforeExit' listener adds work; the
// one set in the last 'beforeExit' never runs.
var log = [];
var alone = setImmediate(function () { log.push('unref immediate with company'); });
alone.unref();
log.push('hasRef ' + alone.hasRef());
/* The timer is set from the immediate: set by the main script it could race the
 * immediates on a loaded machine (in Node too). */
setImmediate(function () {
    log.push('ref immediate');
    setTimeout(function () {
        log.push('last timer');
        setImmediate(function () { log.push('nested unref immediate, after beforeExit added work'); }).unref();
    }, 5);
});
var rounds = 0;
process.on('beforeExit', function () {
    rounds++;
    log.push('beforeExit ' + rounds);
    setImmediate(function () { log.push('unref from beforeExit ' + rounds); }).unref();
    if (rounds === 1) {
        setTimeout(function () { log.push('timer from beforeExit'); }, 5);
    }
});
process.on('exit', function () { console.log(log.join('\n')); });

// From an immediate: the zero timer's deadline passes while the immediate busy-waits, so the
// next iteration's timers phase runs it before the immediate queued next to it.
var log = [];
function spin(ms) {
    var t = Date.now();
    while (Date.now() - t < ms) {
        // Wait so the zero timer is certainly due at the next timers phase.
    }
}
setTimeout(function () {
    setImmediate(function () {
        log.push('outer immediate');
        setImmediate(function () { log.push('inner immediate'); });
        setTimeout(function () {
            log.push('zero timeout');
            setImmediate(function () {
                log.push('immediate from timeout');
                console.log(log.join('\n'));
            });
            setTimeout(function () { log.push('never before immediate'); }, 0);
        }, 0);
        spin(6);
    });
}, 5);
process.on('exit', function () { console.log('last: ' + log[log.length - 1]); });

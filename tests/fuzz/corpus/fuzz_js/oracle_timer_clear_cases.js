// clearTimeout of a fired id, unknown ids, undefined, null and strings is harmless; a timer
// can clear a sibling due in the same phase and one due later; clearing twice is harmless.
var log = [];
var fired = setTimeout(function () { log.push('fired'); }, 5);
var sibling;
setTimeout(function () {
    log.push('clearer');
    clearTimeout(sibling);
    clearTimeout(later);
    clearTimeout(fired);
    clearTimeout(fired);
    clearTimeout(123456);
    clearTimeout(undefined);
    clearTimeout(null);
    clearTimeout('not an id');
    clearTimeout({});
    clearInterval(987654);
    clearImmediate(undefined);
}, 10);
sibling = setTimeout(function () { log.push('never sibling'); }, 10);
var later = setTimeout(function () { log.push('never later'); }, 20);
var cleared = setTimeout(function () { log.push('never cleared'); }, 15);
clearTimeout(cleared);
clearTimeout(cleared);
setTimeout(function () { log.push('end'); console.log(log.join(' ')); }, 30);

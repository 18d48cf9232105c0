// Fractional delays are truncated like Node's (1.8 is 1 ms), so timers of 1, 1.8, 1.1 and 1
// share one deadline and fire in the order they were set; 2.9 joins 2.
var log = [];
setTimeout(function () { log.push('1'); }, 1);
setTimeout(function () { log.push('1.8'); }, 1.8);
setTimeout(function () { log.push('1.1'); }, 1.1);
setTimeout(function () { log.push('1 again'); }, 1);
setTimeout(function () { log.push('2.9'); }, 2.9);
setTimeout(function () { log.push('2'); }, 2);
setTimeout(function () { log.push('"1.9" string'); }, '1.9');
var ticks = [];
var n = 0;
var iv = setInterval(function () {
    ticks.push('interval 1.5 #' + ++n);
    if (n === 3) {
        clearInterval(iv);
    }
}, 1.5);
setTimeout(function () { console.log(log.concat(ticks).join('\n')); }, 40);

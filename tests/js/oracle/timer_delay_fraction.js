// Fractional delays are truncated like Node's (1.8 is 1 ms), so timers of 1, 1.8, 1.1, "1.9"
// and 1 share one delay and fire in the order they were set; 2.9 joins 2. (Each group is
// logged apart: timers set in one run use the real clock, so the groups may interleave.)
var ones = [];
var twos = [];
setTimeout(function () { ones.push('1'); }, 1);
setTimeout(function () { twos.push('2.9'); }, 2.9);
setTimeout(function () { ones.push('1.8'); }, 1.8);
setTimeout(function () { ones.push('1.1'); }, 1.1);
setTimeout(function () { twos.push('2'); }, 2);
setTimeout(function () { ones.push('"1.9" string'); }, '1.9');
setTimeout(function () { ones.push('1 again'); }, 1);
setTimeout(function () { twos.push('2.0001'); }, 2.0001);
var ticks = [];
var n = 0;
var iv = setInterval(function () {
    ticks.push('interval 1.5 #' + ++n);
    if (n === 3) {
        clearInterval(iv);
    }
}, 1.5);
setTimeout(function () { console.log(ones.concat(twos, ticks).join('\n')); }, 40);

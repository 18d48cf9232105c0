// Node's delay coercion: missing, negative, NaN, non-numeric and huge delays mean 1 ms;
// numeric strings are numbers. Deadlines that must not race are at least 20 ms apart.
var log = [];
setTimeout(function () { log.push('string 60'); }, '60');
setTimeout(function () { log.push('twenty'); }, 20);
setTimeout(function () {
    setTimeout(function () { log.push('missing'); });
    setTimeout(function () { log.push('negative'); }, -5);
    setTimeout(function () { log.push('NaN'); }, NaN);
    setTimeout(function () { log.push('word'); }, 'abc');
    setTimeout(function () { log.push('huge'); }, Math.pow(2, 31));
    setTimeout(function () { log.push('fraction'); }, 0.5);
    setTimeout(function () { log.push('at 30'); }, 30);
}, 100);
setTimeout(function () { console.log(log.join(' ')); }, 250);

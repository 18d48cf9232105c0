// Node's delay coercion: missing, negative, NaN, non-numeric and huge delays mean 1 ms;
// numeric strings are numbers.
var log = [];
setTimeout(function () { log.push('string 20'); }, '20');
setTimeout(function () { log.push('ten'); }, 10);
setTimeout(function () {
    setTimeout(function () { log.push('missing'); });
    setTimeout(function () { log.push('negative'); }, -5);
    setTimeout(function () { log.push('NaN'); }, NaN);
    setTimeout(function () { log.push('word'); }, 'abc');
    setTimeout(function () { log.push('huge'); }, Math.pow(2, 31));
    setTimeout(function () { log.push('fraction'); }, 0.5);
    setTimeout(function () { log.push('at 10'); }, 10);
}, 30);
setTimeout(function () { console.log(log.join(' ')); }, 60);

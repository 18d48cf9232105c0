// An interval that clears itself from its own callback stops; an interval cleared by
// clearTimeout (ids are interchangeable) stops too; clearInterval(this) works. The three run
// one after the other so their deadlines never race.
var log = [];
var n = 0;
var iv = setInterval(function (a, b) {
    n++;
    log.push('iv ' + n + ' ' + a + b);
    if (n === 3) {
        clearInterval(iv);
        startSecond();
    }
}, 5, 'x', 'y');
function startSecond() {
    var m = 0;
    var iv2 = setInterval(function () {
        m++;
        log.push('iv2 ' + m);
        if (m === 2) {
            clearTimeout(iv2);
            Promise.resolve().then(function () { log.push('microtask after clear'); });
            startThird();
        }
    }, 7);
}
function startThird() {
    var k = 0;
    var iv3 = setInterval(function () {
        k++;
        log.push('iv3 ' + k);
        if (k === 4) {
            clearInterval(this);
            log.push('iv3 cleared via this ' + (this === iv3));
        }
    }, 5);
}
process.on('exit', function () { console.log(log.join('\n')); });

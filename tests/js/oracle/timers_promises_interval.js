// timers/promises setInterval: an async iterator (driven through next(), as Duktape has no
// for-await) that starts at the first next(), yields the value per tick, and stops on
// return(); bad options reject the first next().
var tp = require('timers/promises');
var log = [];
var it = tp.setInterval(5, 'tick');
console.log(typeof it.next, typeof it[Symbol.asyncIterator]);
var n = 0;
function pull() {
    it.next().then(function (r) {
        log.push('got ' + JSON.stringify(r));
        if (++n < 3) {
            pull();
        } else {
            it['return']().then(function (end) {
                log.push('returned ' + JSON.stringify(end));
                return it.next();
            }).then(function (after) { log.push('after return ' + JSON.stringify(after)); });
        }
    });
}
pull();
tp.setInterval(5, 'x', { ref: 1 }).next().then(null, function (e) { log.push('bad ref ' + e.code); });
process.on('exit', function () { console.log(log.join('\n')); });

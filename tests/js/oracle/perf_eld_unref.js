// An enabled event-loop delay histogram never keeps the process alive (its timer is
// unref'd, as Node's libuv timer): the process exits once the other work is done.
var ph = require('perf_hooks');
var h = ph.monitorEventLoopDelay({ resolution: 1 });
var other = ph.monitorEventLoopDelay({ resolution: 1000000 });
console.log(h.enable(), other.enable());
var start = Date.now();
// Ref'd work until the 1 ms histogram has two runs (one sample), or 3 s at most.
(function wait() {
    if (h.count > 0 || Date.now() - start > 3000) {
        console.log('recorded', h.count > 0);
        return;
    }
    setTimeout(wait, 5);
})();
process.on('exit', function (code) {
    console.log('exit', code, 'took < 5 s', Date.now() - start < 5000, 'other empty', other.count === 0);
});

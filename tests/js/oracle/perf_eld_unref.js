// An enabled event-loop delay histogram never keeps the process alive (its timer is
// unref'd, as Node's libuv timer): the process exits once the other work is done.
var ph = require('perf_hooks');
var h = ph.monitorEventLoopDelay({ resolution: 1 });
var other = ph.monitorEventLoopDelay({ resolution: 1000000 });
console.log(h.enable(), other.enable());
var start = Date.now();
setTimeout(function () {
    console.log('timer ran');
}, 30);
process.on('exit', function (code) {
    console.log('exit', code, 'took < 1 s', Date.now() - start < 1000, 'recorded', h.count > 0,
        'other empty', other.count === 0);
});

// Several listeners, once(), and a count per delivery: each delivery is one emit.
var log = [];
process.on('SIGUSR1', function (s) { log.push('a:' + s); });
process.once('SIGUSR1', function (s) { log.push('once:' + s); });
process.kill(process.pid, 'SIGUSR1');
setTimeout(function () {
    process.kill(process.pid, 'SIGUSR1');
    setTimeout(function () {
        console.log(log.join(' '));
        process.removeAllListeners('SIGUSR1');
    }, 20);
}, 20);

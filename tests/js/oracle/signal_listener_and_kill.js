// process.on(signal) delivers to its listener with the name; process.kill and its errors.
var got = [];
function h(s) {
    got.push(s + ':' + (this === process));
    process.removeListener('SIGUSR2', h);
    setTimeout(function () { console.log(got.join(), process.listenerCount('SIGUSR2')); }, 5);
}
process.on('SIGUSR2', h);
console.log(process.kill(process.pid, 'SIGUSR2'));
setTimeout(function () {}, 50);
try { process.kill(999999, 0); } catch (e) { console.log(e.message, e.code, e.errno, e.syscall); }
try { process.kill(process.pid, 'SIGFOO'); } catch (e) { console.log(e.name, e.message, e.code); }
try { process.kill('abc'); } catch (e) { console.log(e.name, e.message, e.code); }
try { process.on('SIGKILL', function () {}); } catch (e) { console.log(e.message, e.code, e.errno, e.syscall, process.listenerCount('SIGKILL')); }
console.log(process.kill(process.pid, 0));
console.log(process.listeners('newListener').length, process.listeners('removeListener').length);

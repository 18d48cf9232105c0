// process.kill, umask, the id getters, cpuUsage and abort exist with Node's validation.
var log = [];
function t(label, fn) { try { log.push(label + ' ' + fn()); } catch (e) { log.push(label + ' ' + e.name + ' ' + e.code + ' ' + e.message + ' ' + e.syscall); } }
t('types', function () { return [typeof process.kill, typeof process.abort, typeof process.umask, typeof process.cpuUsage, typeof process.getuid, typeof process.getegid].join(); });
t('kill 0', function () { return process.kill(process.pid, 0); });
t('kill bad signal', function () { return process.kill(process.pid, 'SIGNOPE'); });
t('kill bad pid', function () { return process.kill('x'); });
t('kill ESRCH', function () { return process.kill(2147483646, 0); });
t('umask', function () { var old = process.umask(); var prev = process.umask('077'); var now = process.umask(); process.umask(old); return [typeof old, prev === old, now.toString(8)].join(); });
t('umask bad', function () { return process.umask('9'); });
t('ids', function () { return [process.getuid() === process.geteuid(), typeof process.getgid()].join(); });
t('cpuUsage', function () { var a = process.cpuUsage(); var d = process.cpuUsage(a); return [typeof a.user, typeof a.system, d.user >= 0, d.system >= 0].join(); });
t('cpuUsage bad', function () { return process.cpuUsage(1); });
console.log(log.join('\n'));

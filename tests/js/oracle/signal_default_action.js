// With no listener a signal takes its default action: SIGTERM ends the process (status 143),
// and a listener that was added then removed leaves the default back.
function h() { console.log('never'); }
process.on('SIGTERM', h);
process.removeListener('SIGTERM', h);
console.log('before');
process.kill(process.pid, 'SIGTERM');
setTimeout(function () { console.log('not reached'); }, 200);

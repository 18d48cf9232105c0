// SIGINT with no listener ends the process as Node's default does (status 130).
console.log('before');
process.kill(process.pid, 'SIGINT');
setTimeout(function () { console.log('not reached'); }, 200);

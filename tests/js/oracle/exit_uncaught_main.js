// An exception in the main script: stdout written before it stays, no callback runs, status 1.
console.log('before');
setTimeout(function () { console.log('never'); }, 5);
Promise.resolve().then(function () { console.log('never microtask'); });
process.on('exit', function (code) { console.log('exit ' + code); });
throw new TypeError('main');

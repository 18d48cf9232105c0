setTimeout(function () { console.log('t'); }, 1);
setImmediate(function () { console.log('i'); });
queueMicrotask(function () { console.log('m'); });
process.nextTick(function () { console.log('n'); });
Promise.resolve(1).then(function (v) { console.log('p', v); });
var iv = setInterval(function () { clearInterval(iv); console.log('iv'); }, 0);
process.on('beforeExit', function () { console.log('be'); });
process.on('exit', function (c) { console.log('exit', c); });

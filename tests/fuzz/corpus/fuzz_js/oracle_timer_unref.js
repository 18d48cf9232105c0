// An unref'd timer does not keep the process alive; ref() brings it back; refresh restarts
// a timer's countdown.
var log = [];
var long = setTimeout(function () { log.push('never unref'); }, 5000);
long.unref();
var back = setTimeout(function () { log.push('ref again'); }, 300);
back.unref();
back.ref();
var iv = setInterval(function () { log.push('never interval'); }, 10000);
iv.unref();
var im = setImmediate(function () { log.push('unref immediate runs if loop still alive'); });
var r = setTimeout(function () { log.push('refreshed fired'); }, 100);
setTimeout(function () { r.refresh(); log.push('refreshed at 50'); }, 50);
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

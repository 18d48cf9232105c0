// process.stdout.write(chunk, cb): the text is out at once, the callback comes on the next
// tick with null, queued before ticks scheduled after the write, as Node's synchronous stdout.
var log = [];
process.stdout.write('line\n', function (err) { log.push('write cb ' + err); });
process.nextTick(function () { log.push('tick after'); });
Promise.resolve().then(function () { log.push('micro'); });
setImmediate(function () { log.push('immediate'); });
setTimeout(function () { console.log(log.join("\n")); }, 30);

// hostile: status=1 args=--timeout-ms=200 guard=20 stdout=^interrupted in time$ stderr=ERR_EVL_LIMIT_CPU
// Array.prototype.forEach over a 1e9-length array-like reads (or moves) one element at a time
// in native code, with no bytecode to reach the interrupt: without its own check it ran for
// minutes under --timeout-ms=200.
var start = Date.now();
process.on('exit', function () {
    console.log(Date.now() - start < 3000 ? 'interrupted in time' : 'too slow');
});
try { Array.prototype.forEach.call({ length: 1e9 }, function () {}); } catch (e) { console.log('caught'); }
console.log('not reached');

// hostile: status=1 args=--timeout-ms=200 guard=20 stdout=^interrupted in time$ stderr=ERR_EVL_LIMIT_CPU
// Array.prototype.sort over a 1e9-length array-like compares in native code only (no
// comparator, no bytecode): without its own check it never ended under --timeout-ms=200.
var start = Date.now();
process.on('exit', function () {
    console.log(Date.now() - start < 3000 ? 'interrupted in time' : 'too slow');
});
try { Array.prototype.sort.call({ length: 1e9 }); } catch (e) { console.log('caught'); }
console.log('not reached');

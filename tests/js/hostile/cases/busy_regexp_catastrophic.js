// hostile: status=1 args=--timeout-ms=200 guard=20 stdout=^interrupted in time$ stderr=ERR_EVL_LIMIT_CPU
// A catastrophic regexp runs in Duktape's native matcher, which executes no bytecode: without
// its own check it ran 17 s (or forever) under --timeout-ms=200. The catch must not swallow
// the interrupt, and the run must end well within the limit plus a margin for a loaded machine.
var start = Date.now();
process.on('exit', function () {
    console.log(Date.now() - start < 3000 ? 'interrupted in time' : 'too slow');
});
var s = '';
for (var i = 0; i < 40; i++) s += 'a';
try { /(a+)+$/.test(s + 'b'); } catch (e) { console.log('caught'); }
console.log('not reached');

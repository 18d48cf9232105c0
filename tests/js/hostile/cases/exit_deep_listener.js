// hostile: status=14 stdout=^exit 14$
// process.exit(14) twenty frames below the deepest call the engine allows: the code is
// kept and the 'exit' listener runs.
process.on('exit', function (c) { console.log('exit', c); });
var max = 0, stop = Infinity;
function f(n) { max = n; if (n >= stop) { process.exit(14); } f(n + 1); }
try { f(0); } catch (e) { }
stop = max - 20;
f(0);

// hostile: status=14 stdout=^exit 14$ nostderr=RangeError
// process.exit(14) five calls below the deepest the engine allows: too little room for the
// 'exit' listener there (it used to fail with "RangeError: callstack limit", printed, and
// never ran); the listener runs after the stack unwound and the run ends with 14.
process.on('exit', function (c) { console.log('exit', c); });
var max = 0, stop = Infinity;
function f(n) { max = n; if (n >= stop) { process.exit(14); } f(n + 1); }
try { f(0); } catch (e) { }
stop = max - 5;
f(0);

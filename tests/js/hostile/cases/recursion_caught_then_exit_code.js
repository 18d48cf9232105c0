// hostile: status=7 stdout=^exit 7$
process.on('exit', function (c) { console.log('exit', c); });
function f(n) { return f(n + 1) + 1; }
try { f(0); } catch (e) { process.exitCode = 7; }

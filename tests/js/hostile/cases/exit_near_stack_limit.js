// hostile: status=14 stdout=^exit 14$
// process.exit(14) from the catch of a stack overflow, at the deepest frames: the code is
// kept and the 'exit' listener still runs (it runs once the stack has unwound).
process.on('exit', function (c) { console.log('exit', c); });
function f() { try { f(); } catch (e) { process.exit(14); } }
f();

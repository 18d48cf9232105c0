// hostile: status=14
function f() { try { f(); } catch (e) { process.exit(14); } }
f();

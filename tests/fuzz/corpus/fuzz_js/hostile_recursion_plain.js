// hostile: status=1 stderr=RangeError
function f() { return f() + 1; }
f();

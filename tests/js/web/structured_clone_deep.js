// structuredClone of 10,000-deep nesting: the walk keeps its own stack, so depth never
// exhausts the C stack or Duktape's call stack (leaf containers are copied natively, their
// parents by the walk).
var h = require('./_harness.js');
var check = h.check;

check('10,000-deep objects', function () {
    var root = { depth: 0 };
    var cur = root;
    for (var i = 1; i < 10000; i++) {
        cur.child = { depth: i };
        cur = cur.child;
    }
    var c = structuredClone(root);
    var n = 0;
    while (c.child) {
        c = c.child;
        n++;
    }
    return [n, c.depth];
});
check('10,000-deep arrays', function () {
    var root = [0];
    var cur = root;
    for (var i = 1; i < 10000; i++) {
        var next = [i];
        cur.push(next);
        cur = next;
    }
    var c = structuredClone(root);
    var n = 0;
    while (c.length > 1) {
        c = c[1];
        n++;
    }
    return [n, c[0]];
});

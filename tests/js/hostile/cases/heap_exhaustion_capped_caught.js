// hostile: status=0 args=--max-heap=32 stdout=^caught RangeError$
var keep = [];
var x = new Array(1000).join('x'); // made once: Duktape's join of 1000 holes costs 0.5 ms
try { for (;;) keep.push(x + keep.length); }
catch (e) { keep = null; console.log('caught', e.name); }

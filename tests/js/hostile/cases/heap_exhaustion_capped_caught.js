// hostile: status=0 args=--max-heap=32 stdout=^caught guard=10
var keep = [];
try { for (;;) keep.push(new Array(1000).join('x') + keep.length); }
catch (e) { keep = null; console.log('caught', e.name); }

// hostile: status=1 ulimit=120000 guard=60 stderr=RangeError: JavaScript heap out of memory
var keep = [];
for (;;) keep.push({ a: keep.length, b: [keep.length] });

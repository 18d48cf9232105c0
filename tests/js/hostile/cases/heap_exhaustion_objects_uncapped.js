// hostile: status=1 ulimit=1000000 stderr=RangeError|out of memory|alloc guard=10
var keep = [];
for (;;) keep.push({ a: keep.length, b: [keep.length] });

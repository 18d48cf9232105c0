// hostile: status=1 args=--max-heap=32 stderr=RangeError|out of memory|alloc
var keep = [];
for (;;) keep.push({ a: keep.length, b: [keep.length] });

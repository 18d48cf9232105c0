// hostile: status=7 args=--max-heap=16 stdout=^caught RangeError$ stderr=RangeError: JavaScript heap out of memory
var keep = [];
process.on('uncaughtException', function (e) {
    console.log('caught', e.name);
    for (;;) keep.push({ again: keep.length });
});
for (;;) keep.push({ a: keep.length });

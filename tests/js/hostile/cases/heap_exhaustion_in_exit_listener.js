// hostile: status=1 args=--max-heap=16 stdout=^exit 0$ stderr=RangeError: JavaScript heap out of memory
var keep = [];
process.on('exit', function (c) {
    console.log('exit', c);
    for (;;) keep.push({ a: keep.length });
});

// hostile: status=1 ulimit=200000 stderr=RangeError: JavaScript heap out of memory
var s = 'xxxxxxxxxxxxxxxx';
for (;;) s += s + 'y';

// hostile: status=1 ulimit=1500000 stderr=RangeError|out of memory|alloc guard=10
var s = 'xxxxxxxxxxxxxxxx';
for (;;) s += s + 'y';

// hostile: status=0 stdout=^\[ <4294967294 empty items>, 1 \]$
var a = [];
a[4294967294] = 1;
console.log(a);
var b = [];
b.length = 4294967295;
console.log(b);

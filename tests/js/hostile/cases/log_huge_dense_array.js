// hostile: status=0 stdout=999900 more items
var a = new Array(1000000);
for (var i = 0; i < a.length; i++) a[i] = i;
console.log(a);

// hostile: status=0 stdout=Circular
var root = {}, cur = root;
for (var i = 0; i < 100000; i++) { cur.next = { i: i }; cur = cur.next; }
cur.next = root;
console.log(root);
var c = [1]; c.push(c);
console.log(c);
console.log(JSON.stringify(c.slice(0, 1)));

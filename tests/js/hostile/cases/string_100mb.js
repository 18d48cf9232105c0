// hostile: status=0 stdout=^true 100 MB$
var s = 'x';
while (s.length < 104857600) s += s;
console.log(s.length >= 104857600, (s.length >> 20) >= 100 ? '100 MB' : 'short');
console.log([s]);

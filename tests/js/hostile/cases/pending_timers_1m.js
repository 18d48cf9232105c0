// hostile: status=0 guard=80 stdout=^fired 1000000$
var n = 0;
for (var i = 0; i < 1000000; i++) setTimeout(function () { n++; }, 1 + (i & 7));
process.on('exit', function () { console.log('fired', n); });

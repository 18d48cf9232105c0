// hostile: status=9 stdout=^exit 3$
process.on('exit', function (c) { console.log('exit', c); process.exit(9); });
process.exit(3);

// hostile: status=7 stdout=^string 7$
process.on('exit', function (c) { console.log(typeof c, c); });
process.exit('7');

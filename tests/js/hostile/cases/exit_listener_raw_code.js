// hostile: status=0 stdout=^number 256$
// Node passes the listener the code as given (256); the status keeps its low 8 bits (0).
process.on('exit', function (c) { console.log(typeof c, c); });
process.exit(256);

// When the run ends by itself, the 'exit' listener receives process.exitCode converted to an
// int32 (2^31 + 300 arrives as -2147483348) while the status keeps its low 8 bits (44).
// tests/js/hostile has the process.exit(256) and process.exit('7') cases.
process.on('exit', function (c) {
    console.log(typeof c + ' ' + c);
});
process.exitCode = 2147483648 + 300;

// hostile: status=16 stdout=^exit 16$
process.on('exit', function (c) { console.log('exit', c); });
try { throw new Error('x'); } finally { process.exit(16); }

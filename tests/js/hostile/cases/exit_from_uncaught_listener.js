// hostile: status=17
process.on('uncaughtException', function () { process.exit(17); });
setTimeout(function () { throw new Error('x'); }, 1);

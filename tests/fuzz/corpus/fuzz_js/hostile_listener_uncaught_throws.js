// hostile: status=7 stderr=second
process.on('uncaughtException', function () { throw new Error('second'); });
throw new Error('first');

// hostile: status=7 stderr=monitor
process.on('uncaughtException', function () { console.log('handled'); });
process.on('uncaughtExceptionMonitor', function () { throw new Error('monitor'); });
setTimeout(function () { throw new Error('first'); }, 1);

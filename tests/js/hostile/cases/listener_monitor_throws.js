// hostile: status=7 stderr=monitor
process.on('uncaughtExceptionMonitor', function () { throw new Error('monitor'); });
throw new Error('first');

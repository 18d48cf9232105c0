// hostile: status=7 stderr=RangeError
process.on('uncaughtExceptionMonitor', function r() { r(); });
throw new Error('first');

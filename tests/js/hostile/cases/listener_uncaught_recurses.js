// hostile: status=7 stderr=RangeError
process.on('uncaughtException', function r() { r(); });
throw new Error('first');

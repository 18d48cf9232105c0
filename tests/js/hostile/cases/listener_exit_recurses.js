// hostile: status=1 stderr=RangeError
process.on('exit', function r() { r(); });

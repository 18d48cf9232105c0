// hostile: status=1 args=--timeout-ms=200 stderr=ERR_EVL_TIMEOUT|timeout|Timeout
process.on('x', function () { while (true) {} }); setTimeout(function () { process.emit('x'); }, 1);

// hostile: status=1 stderr=in exit
process.on('exit', function () { throw new Error('in exit'); });

// hostile: status=1 stderr=from warning
process.on('warning', function () { throw new Error('from warning'); });
process.emitWarning('w');

// A 'warning' listener that throws: an ordinary uncaught error, handled here.
process.on('warning', function (w) {
    console.log('warning ' + w.name + ' ' + w.message);
    throw new Error('from warning listener');
});
process.on('uncaughtException', function (err) { console.log('handled ' + err.message); });
process.on('exit', function (code) { console.log('exit ' + code); });
process.emitWarning('something odd');
setTimeout(function () { console.log('timer still runs'); }, 5);

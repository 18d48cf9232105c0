// A 'beforeExit' listener that throws: handled by 'uncaughtException', then 'beforeExit'
// comes again; without a handler the error would be fatal.
var n = 0;
process.on('beforeExit', function (code) {
    n++;
    console.log('beforeExit ' + n + ' ' + code);
    if (n < 3) {
        throw new Error('from beforeExit ' + n);
    }
});
process.on('uncaughtException', function (err) { console.log('handled ' + err.message); });
process.on('exit', function (code) { console.log('exit ' + code); });

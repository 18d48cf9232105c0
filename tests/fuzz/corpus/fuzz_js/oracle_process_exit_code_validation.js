// process.exitCode is validated as in Node 20: integers and integer strings are kept as
// given, anything else throws (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE), and process.exit(code)
// validates the same way before anything exits.
function attempt(label, fn) {
    try {
        fn();
        console.log(label, 'ok', typeof process.exitCode, process.exitCode);
    } catch (e) {
        console.log(label, e.name, e.code, e.message);
    }
}
attempt('string', function () { process.exitCode = 'x'; });
attempt('fraction', function () { process.exitCode = 1.5; });
attempt('object', function () { process.exitCode = {}; });
attempt('integer string', function () { process.exitCode = '3'; });
attempt('null', function () { process.exitCode = null; });
attempt('exit with text', function () { process.exit('nope'); });
attempt('exit with NaN', function () { process.exit(NaN); });
process.on('exit', function (code) { console.log('exit', code, process.exitCode); });
process.exitCode = 4;

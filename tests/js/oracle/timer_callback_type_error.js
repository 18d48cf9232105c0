// A non-function callback throws TypeError with code ERR_INVALID_ARG_TYPE and schedules
// nothing.
var log = [];
var bad = [undefined, null, 42, 'str', {}];
for (var i = 0; i < bad.length; i++) {
    try {
        setTimeout(bad[i], 5);
        log.push('no throw');
    } catch (e) {
        log.push('setTimeout ' + e.name + ' ' + e.code + ' ' + (e instanceof TypeError));
    }
}
try { setInterval(null, 5); } catch (e) { log.push('setInterval ' + e.code); }
try { setImmediate(1); } catch (e) { log.push('setImmediate ' + e.code); }
try { queueMicrotask('x'); } catch (e) { log.push('queueMicrotask ' + e.code); }
try { process.nextTick(5); } catch (e) { log.push('nextTick ' + e.code); }
process.on('exit', function (code) { log.push('exit ' + code); console.log(log.join('\n')); });

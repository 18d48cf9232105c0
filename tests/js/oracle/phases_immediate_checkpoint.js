// Immediates run FIFO with a checkpoint after each; an immediate queued by an immediate
// waits for the next check phase, after the ones already queued.
var log = [];
setTimeout(function () {
    setImmediate(function () {
        log.push('imm 1');
        Promise.resolve().then(function () { log.push('imm 1 promise'); });
        setImmediate(function () { log.push('imm 1 child'); });
    });
    setImmediate(function () {
        log.push('imm 2');
        process.nextTick(function () { log.push('imm 2 tick'); });
    });
    setImmediate(function () {
        log.push('imm 3');
        setImmediate(function () {
            log.push('imm 3 child');
            setImmediate(function () {
                log.push('imm 3 grandchild');
                console.log(log.join('\n'));
            });
        });
    });
}, 5);

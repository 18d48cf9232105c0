// eventLoopUtilization delta semantics (Node's internalEventLoopUtilization): elu(u1) is now
// minus u1; elu(u1, u2) is u1 minus u2 without reading the clock; utilization is
// active / (idle + active) of the delta, NaN for an empty one. Busy time counts as active,
// time blocked waiting for a timer as idle.
var elu = performance.eventLoopUtilization;
function spin(ms) { var t = Date.now(); while (Date.now() - t < ms) { /* busy */ } }
setTimeout(function () {
    var a = elu();
    spin(60);
    var busy = elu(a);
    console.log('busy: active >= 55', busy.active >= 55, 'idle < 5', busy.idle < 5,
        'utilization > 0.9', busy.utilization > 0.9);
    var b = elu();
    var pair = elu(b, a);
    console.log('pair is b - a', pair.idle === b.idle - a.idle, pair.active === b.active - a.active,
        pair.utilization === pair.active / (pair.idle + pair.active));
    var same = elu(b, b);
    console.log('same', same.idle, same.active, String(same.utilization));
    var rev = elu(a, b);
    console.log('reversed', rev.idle === -(pair.idle), rev.active === -(pair.active),
        rev.utilization === pair.utilization);
    // A user-made object works as an argument, as in Node.
    var custom = elu({ idle: b.idle, active: b.active });
    console.log('custom', custom.active >= 0, custom.idle >= 0);
    var c = elu();
    setTimeout(function () {
        var idle = elu(c);
        console.log('idle: idle >= 100', idle.idle >= 100, 'utilization < 0.5', idle.utilization < 0.5);
        // Totals only grow.
        var now = elu();
        console.log('monotonic', now.idle >= b.idle, now.active >= b.active);
    }, 150);
}, 20);

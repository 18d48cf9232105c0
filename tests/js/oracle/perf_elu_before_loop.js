// eventLoopUtilization before the loop starts (the main script): zeros whatever the arguments,
// as Node (loopStart is not set yet); from the first callback on, real figures.
var elu = performance.eventLoopUtilization;
var u0 = elu();
console.log(JSON.stringify(u0), Object.keys(u0).join());
console.log(JSON.stringify(elu(u0)), JSON.stringify(elu(u0, u0)));
console.log(JSON.stringify(elu({ idle: 5, active: 5 })), JSON.stringify(elu(undefined, undefined)));
var t0 = Date.now();
while (Date.now() - t0 < 300) { /* the main script's time is not the loop's */ }
console.log(JSON.stringify(elu()));
setImmediate(function () {
    var u = elu();
    console.log(Object.keys(u).join(), typeof u.idle, typeof u.active, typeof u.utilization);
    console.log('idle >= 0', u.idle >= 0, 'active > 0', u.active > 0,
        'utilization in (0, 1]', u.utilization > 0 && u.utilization <= 1);
    // The main script ran before the loop started: not counted as active.
    console.log('main script not counted', u.active < 200);
    // Delta against the zeros taken before the start: the totals.
    var d = elu(u0);
    console.log('delta from zeros', d.idle >= u.idle, d.active >= u.active);
});

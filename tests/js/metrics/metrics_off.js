// process.metrics() while metrics were never enabled: the whole shape, enabled false, every
// figure zero; it never throws.
var m = process.metrics();
function walk(o, path, out) {
    Object.keys(o).forEach(function (k) {
        var v = o[k];
        if (v !== null && typeof v === 'object') {
            walk(v, path + k + '.', out);
        } else {
            out.push(path + k + '=' + (typeof v === 'number' ? (v === 0 ? '0' : 'nonzero') : String(v)));
        }
    });
    return out;
}
console.log(typeof process.metrics, typeof process.metrics.enable, typeof process.metrics.disable);
console.log(Object.keys(m).join());
console.log(Object.keys(m.callbacks).join());
console.log(Object.keys(m.callbacks.timer).join());
console.log(Object.keys(m.queues).join());
console.log(Object.keys(m.queues.submit).join());
console.log(Object.keys(m.delay).join());
console.log(Object.keys(m.promises).join());
console.log(Object.keys(m.wakeups).join(), Object.keys(m.fastPath).join());
var leaves = walk(m, '', []);
console.log(leaves.length, leaves.filter(function (l) { return !/=(0|false)$/.test(l); }).join() || 'all zero');
// A fresh object each call (plain data, the caller's to keep).
console.log(process.metrics() !== m, Object.getPrototypeOf(m) === Object.prototype);
setTimeout(function () {
    var later = process.metrics();
    console.log('still off after a run', later.enabled, later.callbacks.timer.count, later.iterations);
}, 5);

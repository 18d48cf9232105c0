// process.metrics.enable validates its options as Node validates its own (codes, messages);
// a refused call changes nothing.
function show(f) {
    try {
        f();
        console.log('ok', process.metrics().enabled);
    } catch (e) {
        console.log(e.name, e.code, e.message);
    }
}
var en = process.metrics.enable;
show(function () { en(null); });
show(function () { en(5); });
show(function () { en([]); });
show(function () { en({ sampleEvery: '1' }); });
show(function () { en({ sampleEvery: -1 }); });
show(function () { en({ sampleEvery: 1.5 }); });
show(function () { en({ sampleEvery: 4294967296 }); });
show(function () { en({ delayResolutionMs: 8589934592 }); });
show(function () { en({ cpuSampleEvery: NaN }); });
show(function () { en({ slowMs: 'x' }); });
show(function () { en({ slowMs: -1 }); });
show(function () { en({ delayResolutionMs: Infinity }); });
show(function () { en({ sampleEvery: 16, cpuSampleEvery: 4, slowMs: 0.5, delayResolutionMs: 0 }); });
console.log(process.metrics().sampleEvery, process.metrics().slowNs);
show(function () { en(); });
show(function () { process.metrics.disable(); });
show(function () { process.metrics.disable(); });

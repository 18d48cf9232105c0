// Web platform API workloads (issue 18), ES5 so the same file runs under evljs and node:
//   bench/web/run.sh [BUILD_DIR]   prints each workload's ns/op under both and the ratio.
// Each workload runs once cold and is measured warm; results print as
//   NAME ns_per_op X
// Run one process per workload (`RUNTIME web.js NAME`) so heaps do not interfere.
var name = process.argv[2];
var now = function () { return performance.now(); };

function oneMiB(seed) {
    var u = new Uint8Array(1 << 20);
    for (var i = 0; i < u.length; i++) {
        u[i] = (i * 31 + seed) & 255;
    }
    return u;
}

function byteString(u) {
    var parts = [];
    for (var i = 0; i < u.length; i += 4096) {
        parts.push(String.fromCharCode.apply(null, Array.prototype.slice.call(u.subarray(i, i + 4096))));
    }
    return parts.join('');
}

var workloads = {
    structured_clone_1000_keys: function (done) {
        var o = {};
        for (var i = 0; i < 1000; i++) {
            o['key' + i] = i % 3 === 0 ? 'v' + i : i;
        }
        var n = 200;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            if (Object.keys(structuredClone(o)).length !== 1000) {
                throw new Error('bad clone');
            }
        }
        done(n, now() - t0);
    },
    btoa_1mib: function (done) {
        var s = byteString(oneMiB(1));
        var n = 10;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            if (btoa(s).length !== 1398104) {
                throw new Error('bad btoa');
            }
        }
        done(n, now() - t0);
    },
    atob_1mib: function (done) {
        var b = btoa(byteString(oneMiB(2)));
        var n = 10;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            if (atob(b).length !== 1 << 20) {
                throw new Error('bad atob');
            }
        }
        done(n, now() - t0);
    },
    text_encode_1mib: function (done) {
        var parts = [];
        for (var i = 0; i < 1 << 16; i++) {
            parts.push('abcdefghijklm\u00e9\u20ac');
        }
        var s = parts.join('');
        var te = new TextEncoder();
        var n = 20;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            if (te.encode(s).length !== (1 << 16) * 18) {
                throw new Error('bad encode');
            }
        }
        done(n, now() - t0);
    },
    text_decode_1mib: function (done) {
        var parts = [];
        for (var i = 0; i < 1 << 16; i++) {
            parts.push('abcdefghijklm\u00e9\u20ac');
        }
        var bytes = new TextEncoder().encode(parts.join(''));
        var td = new TextDecoder();
        var n = 20;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            if (td.decode(bytes).length !== (1 << 16) * 15) {
                throw new Error('bad decode');
            }
        }
        done(n, now() - t0);
    },
    dispatch_event_3_listeners: function (done) {
        var t = new EventTarget();
        var count = 0;
        var f = function () { count++; };
        t.addEventListener('x', f);
        t.addEventListener('x', function () { count++; });
        t.addEventListener('x', { handleEvent: function () { count++; } });
        var n = 100000;
        var t0 = now();
        for (var k = 0; k < n; k++) {
            t.dispatchEvent(new Event('x'));
        }
        if (count !== 3 * n) {
            throw new Error('bad dispatch');
        }
        done(n, now() - t0);
    },
    message_channel_round_trip: function (done) {
        var ch = new MessageChannel();
        var n = 20000;
        var i = 0;
        var t0;
        ch.port2.onmessage = function (e) { ch.port2.postMessage(e.data); };
        ch.port1.onmessage = function () {
            if (++i === n) {
                var ms = now() - t0;
                ch.port1.close();
                done(n, ms);
                return;
            }
            ch.port1.postMessage(i);
        };
        t0 = now();
        ch.port1.postMessage(0);
    }
};

if (!workloads[name]) {
    console.log('workloads: ' + Object.keys(workloads).join(' '));
} else {
    /* A cold run first (JIT warm-up, heap growth), then the measured one. */
    workloads[name](function () {
        workloads[name](function (n, ms) {
            console.log(name + ' ns_per_op ' + (ms * 1e6 / n).toFixed(0));
        });
    });
}

// The event-loop delay histogram's HDR arithmetic (src/duktape/js/perf_hooks.js) against
// Node's own hdr_histogram: the same samples into both (Node's createHistogram with the
// ELD parameters: lowest 1000, 3 figures) must give the same min, max, count, mean, stddev,
// percentile() and percentiles iteration. Runs under node; usage: node hdr_vs_node.js SRC.
'use strict';
const fs = require('fs');
const ph = require('perf_hooks');
const src = fs.readFileSync(process.argv[2], 'utf8');
const a = src.indexOf('var UNIT_MAG');
const b = src.indexOf('/* ---- Histogram, IntervalHistogram');
if (a < 0 || b < 0) {
    console.log('cannot find the HDR code in ' + process.argv[2]);
    process.exit(1);
}
// The slice holds the Hdr constructor and its helpers, nothing else.
const Hdr = new Function('native', src.slice(a, b) + '\nreturn Hdr;')({ hrns: () => 0 });
let seed = 1;
function rnd() {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
}
function close(x, y, eps) {
    return x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= eps * Math.abs(y);
}
let bad = 0;
let cases = 0;
for (let trial = 0; trial < 300; trial++) {
    const n = trial === 0 ? 0 : Math.floor(rnd() * 400);
    const mine = new Hdr();
    const node = ph.createHistogram({ lowest: 1000, figures: 3 });
    for (let i = 0; i < n; i++) {
        let v = Math.floor(Math.pow(10, 2 + rnd() * 10)) + 1; /* 100 ns .. 1000 s */
        if (trial % 5 === 0) {
            v = Math.floor(rnd() * 4000) + 1; /* the first buckets, below the lowest value */
        }
        mine.record(v);
        node.record(v);
    }
    const pm = [];
    mine.percentiles((p, v) => pm.push(p + '=' + v));
    const pn = [];
    node.percentiles.forEach((v, p) => pn.push(p + '=' + v));
    const checks = [
        ['count', mine.total === node.count],
        ['min', mine.min() === node.min],
        ['max', mine.max() === node.max],
        ['mean', close(mine.mean(), node.mean, 1e-12)],
        ['stddev', close(mine.stddev(), node.stddev, 1e-9)],
        ['percentiles', pm.join() === pn.join()]
    ];
    for (const p of [0.001, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.999, 100]) {
        checks.push(['p' + p, mine.percentile(p) === node.percentile(p)]);
    }
    for (const [what, ok] of checks) {
        cases++;
        if (!ok && bad++ < 10) {
            console.log('mismatch: trial ' + trial + ' (' + n + ' samples): ' + what);
        }
    }
}
console.log(bad === 0 ? 'ok: ' + cases + ' comparisons' : bad + ' mismatches');
process.exit(bad === 0 ? 0 : 1);

// then on an already settled promise takes one turn; reactions run in registration order;
// a missing handler still costs a turn (pass-through reaction).
var log = [];
var f = Promise.resolve('v');
var r = Promise.reject(new Error('r'));
r.catch(function () {});
f.then(function (v) { log.push('f1 ' + v); });
r.then(null, function (e) { log.push('r1 ' + e.message); });
f.then(function (v) { log.push('f2 ' + v); });
f.then(null, function () { log.push('never'); }).then(function (v) { log.push('passed ' + v); });
r.then(function () { log.push('never'); }).then(null, function (e) { log.push('passed reject ' + e.message); });
f.then().then().then(function (v) { log.push('double pass ' + v); });
Promise.resolve().then(function () { log.push('x1'); }).then(function () { log.push('x2'); }).then(function () { log.push('x3'); }).then(function () { log.push('x4'); });
setTimeout(function () { console.log(log.join('\n')); }, 5);

// hostile: status=0 stdout=^settled 200000$
// 200,000 pending promises with reactions, all resolved from one timer (1M takes 12 s of CPU
// and 1.4 GB: pending_promises_never_settled and pending_timers_1m keep the 1M scale).
var n = 0, res = [];
for (var i = 0; i < 200000; i++) new Promise(function (r) { res.push(r); }).then(function () { n++; });
setTimeout(function () { for (var j = 0; j < res.length; j++) res[j](j); res = null; }, 1);
process.on('exit', function () { console.log('settled', n); });

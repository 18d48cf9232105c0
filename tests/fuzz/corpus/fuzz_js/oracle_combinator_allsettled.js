// Promise.allSettled records, in input order, with exactly the status/value/reason keys.
var log = [];
var err = new Error('boom');
Promise.allSettled([Promise.resolve('a'), Promise.reject(err), 'c', new Promise(function (r) { setTimeout(function () { r('d'); }, 5); })]).then(function (rs) {
    for (var i = 0; i < rs.length; i++) {
        log.push(i + ' ' + Object.keys(rs[i]).join(',') + ' ' + rs[i].status + ' ' + (rs[i].status === 'fulfilled' ? rs[i].value : rs[i].reason.message));
    }
    log.push('same reason ' + (rs[1].reason === err));
});
Promise.allSettled([]).then(function (v) { log.push('empty ' + JSON.stringify(v)); });
Promise.allSettled([Promise.reject(1), Promise.reject(2)]).then(function (v) { log.push('all rejected ' + JSON.stringify(v)); });
setTimeout(function () { console.log(log.join('\n')); }, 20);

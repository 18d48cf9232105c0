// Promise.any: first fulfilment wins; all rejected => AggregateError (a real Error) whose
// errors lists reasons in input order; empty input rejects with an empty AggregateError.
var log = [];
Promise.any([Promise.reject(new Error('x')), Promise.resolve('y'), Promise.resolve('z')]).then(function (v) { log.push('any ' + v); });
Promise.any([Promise.reject(1), new Promise(function (r, j) { setTimeout(function () { j(2); }, 5); }), Promise.reject(3)]).catch(function (e) {
    log.push('name ' + e.name);
    log.push('message ' + e.message);
    log.push('instanceof Error ' + (e instanceof Error));
    log.push('instanceof AggregateError ' + (e instanceof AggregateError));
    log.push('errors ' + JSON.stringify(e.errors) + ' isArray ' + Array.isArray(e.errors));
    log.push('errors own ' + Object.prototype.hasOwnProperty.call(e, 'errors'));
    log.push('toString ' + String(e));
});
Promise.any([]).catch(function (e) {
    log.push('empty ' + e.name + ' ' + e.errors.length + ' ' + (e instanceof AggregateError));
});
setTimeout(function () { console.log(log.join('\n')); }, 20);

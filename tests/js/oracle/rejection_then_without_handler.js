// then without a rejection handler on a rejected promise rejects the child (never fulfils
// it); the child is the one reported unhandled, the parent counts as handled.
var log = [];
var parent = Promise.reject(new Error('parent'));
var child = parent.then(function () { log.push('never'); });
process.on('unhandledRejection', function (reason, promise) {
    log.push('unhandled ' + reason.message + ' is child ' + (promise === child) + ' is parent ' + (promise === parent));
});
setTimeout(function () { console.log(log.join('\n')); }, 5);

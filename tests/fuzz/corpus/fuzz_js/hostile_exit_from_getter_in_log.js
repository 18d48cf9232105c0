// hostile: status=12 stdout=^before$
var o = { toString: function () { process.exit(12); } };
console.log('before');
console.log('%s', o);
console.log('never');

// hostile: status=0 stdout=^ok$
clearTimeout(Symbol()); clearInterval(Symbol('x')); clearTimeout({}); clearTimeout('1');
clearTimeout(null); clearTimeout(NaN); clearTimeout(-1); clearTimeout(1e300);
clearTimeout({ valueOf: function () { throw new Error('never'); } });
console.log('ok');

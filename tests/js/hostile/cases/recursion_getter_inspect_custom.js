// hostile: status=1 stderr=RangeError
var o = {};
o[Symbol.for('nodejs.util.inspect.custom')] = function () { return console.log(o); };
console.log(o);

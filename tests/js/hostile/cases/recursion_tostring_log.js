// hostile: status=1 stderr=RangeError
var o = { toString: function () { return String(this); } };
console.log('%s', o);

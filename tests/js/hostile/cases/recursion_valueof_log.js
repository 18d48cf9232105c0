// hostile: status=1 stderr=RangeError
var o = { valueOf: function () { return +this; } };
console.log('%d', o);

// hostile: status=1 stderr=RangeError
var d = { valueOf: function () { return setTimeout(function () {}, d); } };
setTimeout(function () {}, d);

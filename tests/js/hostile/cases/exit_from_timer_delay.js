// hostile: status=15
setTimeout(function () {}, { valueOf: function () { process.exit(15); } });

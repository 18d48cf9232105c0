(function (global, native, internals) {
    'use strict';
    internals.inspect = function (v) { return String(v); };
    global.console = { log: function () { native.write(1, Array.prototype.join.call(arguments, ' ') + '\n'); } };
});

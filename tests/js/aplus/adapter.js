// The Promises/A+ adapter for the global Promise (written for this project).
'use strict';

exports.deferred = function () {
    var d = {};
    d.promise = new Promise(function (resolve, reject) {
        d.resolve = resolve;
        d.reject = reject;
    });
    return d;
};

exports.resolved = function (value) {
    var d = exports.deferred();
    d.resolve(value);
    return d.promise;
};

exports.rejected = function (reason) {
    var d = exports.deferred();
    d.reject(reason);
    return d.promise;
};

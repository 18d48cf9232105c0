// The part of Node's 'assert' module the Promises/A+ suite uses: assert(value),
// strictEqual and notStrictEqual (written for this project).
'use strict';

function AssertionError(message) {
    this.message = message;
    this.stack = new Error(message).stack;
}
AssertionError.prototype = Object.create(Error.prototype);
AssertionError.prototype.constructor = AssertionError;
AssertionError.prototype.name = 'AssertionError';

function show(v) {
    try {
        return typeof v === 'string' ? JSON.stringify(v) : String(v);
    } catch (e) {
        return Object.prototype.toString.call(v);
    }
}

function assert(value, message) {
    if (!value) {
        throw new AssertionError(message || 'expected a truthy value, got ' + show(value));
    }
}
module.exports = assert;
exports = assert;

exports.AssertionError = AssertionError;

exports.strictEqual = function (actual, expected, message) {
    if (actual !== expected) {
        throw new AssertionError(message || show(actual) + ' !== ' + show(expected));
    }
};

exports.notStrictEqual = function (actual, expected, message) {
    if (actual === expected) {
        throw new AssertionError(message || show(actual) + ' === ' + show(expected));
    }
};

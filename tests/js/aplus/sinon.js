// The part of sinon the Promises/A+ suite uses: spy, stub().returns/throws, match.same and
// assert.calledWith/notCalled/callOrder (written for this project).
'use strict';

var AssertionError = require('assert').AssertionError;
var callSequence = 0;

function makeSpy(fn) {
    var behaviour = { returns: undefined, throws: undefined, hasThrows: false };
    function proxy() {
        var call = { args: Array.prototype.slice.call(arguments), thisValue: this, seq: ++callSequence };
        proxy.calls.push(call);
        proxy.callCount++;
        proxy.called = true;
        if (fn) {
            return fn.apply(this, arguments);
        }
        if (behaviour.hasThrows) {
            throw behaviour.throws;
        }
        return behaviour.returns;
    }
    proxy.calls = [];
    proxy.callCount = 0;
    proxy.called = false;
    proxy.displayName = fn && fn.name ? fn.name : 'spy';
    proxy.returns = function (v) {
        behaviour.returns = v;
        return proxy;
    };
    proxy.throws = function (e) {
        behaviour.throws = e;
        behaviour.hasThrows = true;
        return proxy;
    };
    return proxy;
}

function Matcher(test, description) {
    this.test = test;
    this.description = description;
}

function argMatches(expected, actual) {
    if (expected instanceof Matcher) {
        return expected.test(actual);
    }
    return expected === actual;
}

exports.spy = function (fn) {
    return makeSpy(fn);
};

exports.stub = function () {
    return makeSpy(null);
};

exports.match = {
    same: function (expected) {
        return new Matcher(function (actual) { return actual === expected; }, 'same');
    }
};

exports.assert = {
    calledWith: function (spy) {
        var expected = Array.prototype.slice.call(arguments, 1);
        for (var i = 0; i < spy.calls.length; i++) {
            var ok = true;
            for (var j = 0; j < expected.length; j++) {
                if (!argMatches(expected[j], spy.calls[i].args[j])) {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                return;
            }
        }
        throw new AssertionError('expected ' + spy.displayName + ' to be called with the given arguments');
    },
    notCalled: function (spy) {
        if (spy.called) {
            throw new AssertionError('expected ' + spy.displayName + ' not to be called');
        }
    },
    callOrder: function () {
        var last = 0;
        for (var i = 0; i < arguments.length; i++) {
            var spy = arguments[i];
            if (!spy.called || spy.calls[0].seq < last) {
                throw new AssertionError('expected the spies to be called in order');
            }
            last = spy.calls[0].seq;
        }
    }
};

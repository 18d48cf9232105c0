/*
 * The Promise adapter's JavaScript half, run once per heap: AggregateError, the combinators
 * (PerformPromiseAll, AllSettled, Any, Race with GetIterator/IteratorStep/IteratorClose; arrays
 * are walked by index) and the error Node raises for a non-Error unhandled rejection.
 * Called as fn(Promise) by src/duktape/promise.c; returns the helpers object. ES5 only: this
 * runs inside Duktape.
 */
(function (Promise) {
'use strict';
var iteratorSymbol = typeof Symbol === 'function' ? Symbol.iterator : undefined;
function forOf(iterable, each) {
  var i;
  if (Array.isArray(iterable)) {
    for (i = 0; i < iterable.length; i++) { each(iterable[i]); }
    return;
  }
  if (typeof iterable === 'string') {
    for (i = 0; i < iterable.length; i++) {
      var c = iterable.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < iterable.length) {
        var d = iterable.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { each(iterable.substr(i, 2)); i++; continue; }
      }
      each(iterable.charAt(i));
    }
    return;
  }
  var method = iterable === null || iterable === undefined || iteratorSymbol === undefined
      ? undefined : iterable[iteratorSymbol];
  if (typeof method !== 'function') {
    throw new TypeError((typeof iterable === 'object' && iterable !== null ? 'object' :
        String(iterable)) + ' is not iterable (cannot read property Symbol(Symbol.iterator))');
  }
  var iterator = method.call(iterable);
  if (typeof iterator !== 'object' && typeof iterator !== 'function' || iterator === null) {
    throw new TypeError('Result of the Symbol.iterator method is not an object');
  }
  var next = iterator.next;
  for (;;) {
    var step = next.call(iterator);
    if (typeof step !== 'object' && typeof step !== 'function' || step === null) {
      throw new TypeError('Iterator result ' + String(step) + ' is not an object');
    }
    if (step.done) { return; }
    var value = step.value;
    try {
      each(value);
    } catch (e) {
      var ret = iterator['return'];
      if (ret !== undefined && ret !== null) { try { ret.call(iterator); } catch (ignored) {} }
      throw e;
    }
  }
}
function toList(iterable) { var out = []; forOf(iterable, function (v) { out.push(v); }); return out; }
function AggregateError(errors, message) {
  var e = message === undefined ? new Error() : new Error(String(message));
  var proto = this instanceof AggregateError ? Object.getPrototypeOf(this) : AggregateError.prototype;
  Object.setPrototypeOf(e, proto);
  if (arguments.length > 2 && arguments[2] !== null && typeof arguments[2] === 'object' &&
      'cause' in arguments[2]) {
    Object.defineProperty(e, 'cause', { value: arguments[2].cause, writable: true, configurable: true });
  }
  Object.defineProperty(e, 'errors', { value: toList(errors), writable: true, configurable: true });
  return e;
}
AggregateError.prototype = Object.create(Error.prototype, {
  constructor: { value: AggregateError, writable: true, configurable: true },
  name: { value: 'AggregateError', writable: true, configurable: true },
  message: { value: '', writable: true, configurable: true }
});
Object.defineProperty(AggregateError, 'prototype', { writable: false });
Object.setPrototypeOf(AggregateError, Error);
function combinator(C, iterable, kind) {
  var resolve, reject;
  var promise = new C(function (res, rej) { resolve = res; reject = rej; });
  try {
    var promiseResolve = C.resolve;
    if (typeof promiseResolve !== 'function') {
      throw new TypeError('Promise resolve or reject function is not callable');
    }
    var values = [];
    var remaining = 1;
    var index = 0;
    var finish = function () {
      if (kind === 2) { reject(new AggregateError(values, 'All promises were rejected')); }
      else { resolve(values); }
    };
    forOf(iterable, function (next) {
      var nextPromise = promiseResolve.call(C, next);
      if (kind === 3) { nextPromise.then(resolve, reject); return; }
      var i = index++;
      var called = false;
      values.push(undefined);
      remaining++;
      var element = function (status) {
        return function (x) {
          if (called) { return; }
          called = true;
          values[i] = status === 0 ? x : status === 1 ? { status: 'fulfilled', value: x }
              : { status: 'rejected', reason: x };
          if (--remaining === 0) { finish(); }
        };
      };
      if (kind === 0) { nextPromise.then(element(0), reject); }
      else if (kind === 1) { nextPromise.then(element(1), element(2)); }
      else { nextPromise.then(resolve, element(0)); }
    });
    if (kind !== 3 && --remaining === 0) { finish(); }
  } catch (e) {
    reject(e);
  }
  return promise;
}
function unhandledError(reason) {
  if (reason instanceof Error) { return reason; }
  var text;
  try { text = String(reason); } catch (e) { text = Object.prototype.toString.call(reason); }
  var err = new Error('This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "' + text + '".');
  err.name = 'UnhandledPromiseRejection';
  err.code = 'ERR_UNHANDLED_REJECTION';
  return err;
}
return { AggregateError: AggregateError, combinator: combinator, unhandledError: unhandledError };
})

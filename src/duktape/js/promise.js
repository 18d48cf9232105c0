/*
 * The Promise adapter's JavaScript half, run once per heap: AggregateError, the combinators
 * (PerformPromiseAll, AllSettled, Any, Race with GetIterator/IteratorStep/IteratorClose; arrays
 * are walked by index), NewPromiseCapability and the statics, then and finally for `this`
 * values other than %Promise% (subclasses, other constructors, thenables), and the error Node
 * raises for a non-Error unhandled rejection. Algorithm steps follow ECMA-262 §27.2.
 * Called as fn(Promise, natives) by src/duktape/promise.c (natives: builtin(steps, length)
 * makes a built-in function object, isConstructor, thenRaw); returns the helpers object.
 * ES5 only: this runs inside Duktape.
 */
(function (Promise, natives) {
'use strict';
var builtin = natives.builtin;
var isConstructor = natives.isConstructor;
var thenRaw = natives.thenRaw;

/* A List: an array nobody else sees, filled with defineProperty so that setters a script
 * put on Array.prototype never run (the spec's Lists are not objects at all). */
function listSet(list, i, v) {
  Object.defineProperty(list, i, { value: v, writable: true, enumerable: true, configurable: true });
}
/* CreateArrayFromList: a fresh array built with CreateDataProperty. */
function arrayFromList(list, n) {
  var a = [];
  for (var i = 0; i < n; i++) { listSet(a, i, list[i]); }
  return a;
}

/* NewPromiseCapability(C) (§27.2.1.5). */
function newPromiseCapability(C) {
  if (!isConstructor(C)) { throw new TypeError('Promise capability constructor is not a constructor'); }
  var cap = { promise: undefined, resolve: undefined, reject: undefined };
  var executor = builtin(function (resolve, reject) {
    if (cap.resolve !== undefined) { throw new TypeError('Promise executor has already been invoked with non-undefined arguments'); }
    if (cap.reject !== undefined) { throw new TypeError('Promise executor has already been invoked with non-undefined arguments'); }
    cap.resolve = resolve;
    cap.reject = reject;
  }, 2);
  var promise = new C(executor);
  if (typeof cap.resolve !== 'function') { throw new TypeError('Promise resolve or reject function is not callable'); }
  if (typeof cap.reject !== 'function') { throw new TypeError('Promise resolve or reject function is not callable'); }
  cap.promise = promise;
  return cap;
}
/* Promise.resolve / reject / withResolvers / try with a `this` other than %Promise% (the C
 * side has done the type check and PromiseResolve's same-constructor shortcut). */
function resolveWith(C, x) {
  var cap = newPromiseCapability(C);
  cap.resolve.call(undefined, x);
  return cap.promise;
}
function rejectWith(C, r) {
  var cap = newPromiseCapability(C);
  cap.reject.call(undefined, r);
  return cap.promise;
}
function withResolversOf(C) {
  var cap = newPromiseCapability(C);
  return { promise: cap.promise, resolve: cap.resolve, reject: cap.reject };
}
function tryWith(C, fn, args) {
  var cap = newPromiseCapability(C);
  var value;
  try {
    value = fn.apply(undefined, args);
  } catch (e) {
    cap.reject.call(undefined, e);
    return cap.promise;
  }
  cap.resolve.call(undefined, value);
  return cap.promise;
}
/* PromiseResolve(C, x) for a generic C. */
function promiseResolve(C, x) {
  if (natives.isPromise(x) && x.constructor === C) { return x; }
  return resolveWith(C, x);
}
/* then with a species C other than %Promise% (§27.2.5.4.1 PerformPromiseThen with a
 * capability of C): each reaction job calls the handler with this = undefined and settles
 * the capability with its result, as NewPromiseReactionJob does. */
function thenThrough(onFulfilled, onRejected, C, promise) {
  var cap = newPromiseCapability(C);
  thenRaw.call(promise, function (value) {
    var result;
    if (typeof onFulfilled !== 'function') { cap.resolve.call(undefined, value); return; }
    try { result = onFulfilled.call(undefined, value); } catch (e) { cap.reject.call(undefined, e); return; }
    cap.resolve.call(undefined, result);
  }, function (reason) {
    var result;
    if (typeof onRejected !== 'function') { cap.reject.call(undefined, reason); return; }
    try { result = onRejected.call(undefined, reason); } catch (e) { cap.reject.call(undefined, e); return; }
    cap.resolve.call(undefined, result);
  });
  return cap.promise;
}
/* Promise.prototype.finally for any object `promise` (§27.2.5.3): Invoke(promise, "then")
 * (then already read by the C side, after SpeciesConstructor) with the then-finally and
 * catch-finally functions, built-in functions of length 1 whose value thunks have length 0. */
function finallyThrough(promise, onFinally, C, then) {
  var thenFinally = onFinally;
  var catchFinally = onFinally;
  if (typeof onFinally === 'function') {
    thenFinally = builtin(function (value) {
      var result = onFinally.call(undefined);
      return promiseResolve(C, result).then(builtin(function () { return value; }, 0));
    }, 1);
    catchFinally = builtin(function (reason) {
      var result = onFinally.call(undefined);
      return promiseResolve(C, result).then(builtin(function () { throw reason; }, 0));
    }, 1);
  }
  if (typeof then !== 'function') { throw new TypeError('then is not a function'); }
  return then.call(promise, thenFinally, catchFinally);
}
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
/* Promise.all (kind 0), allSettled (1), any (2), race (3): §27.2.4.1-5 with
 * NewPromiseCapability(C), GetPromiseResolve, and element functions that are built-in
 * functions (length 1, name '') sharing one alreadyCalled record per element. The values
 * List becomes the result array only when complete (CreateArrayFromList). */
function combinator(C, iterable, kind) {
  var cap = newPromiseCapability(C);
  var resolve = cap.resolve;
  var reject = cap.reject;
  try {
    var promiseResolveFn = C.resolve;
    if (typeof promiseResolveFn !== 'function') {
      throw new TypeError('resolve is not a function');
    }
    var values = [];
    var remaining = 1;
    var index = 0;
    var finish = function () {
      var list = arrayFromList(values, index);
      if (kind === 2) {
        var err = new AggregateError([], 'All promises were rejected');
        Object.defineProperty(err, 'errors', { value: list, writable: true, enumerable: false, configurable: true });
        reject.call(undefined, err);
      } else {
        resolve.call(undefined, list);
      }
    };
    forOf(iterable, function (next) {
      var nextPromise = promiseResolveFn.call(C, next);
      if (kind === 3) { nextPromise.then(resolve, reject); return; }
      var i = index++;
      var record = { called: false };
      listSet(values, i, undefined);
      remaining++;
      var element = function (status) {
        return builtin(function (x) {
          if (record.called) { return undefined; }
          record.called = true;
          var entry = x;
          if (status === 1) { entry = { status: 'fulfilled', value: x }; }
          else if (status === 2) { entry = { status: 'rejected', reason: x }; }
          listSet(values, i, entry);
          if (--remaining === 0) { finish(); }
          return undefined;
        }, 1);
      };
      if (kind === 0) { nextPromise.then(element(0), reject); }
      else if (kind === 1) { nextPromise.then(element(1), element(2)); }
      else { nextPromise.then(resolve, element(0)); }
    });
    if (kind !== 3 && --remaining === 0) { finish(); }
  } catch (e) {
    reject.call(undefined, e);
  }
  return cap.promise;
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
return {
  AggregateError: AggregateError, combinator: combinator, unhandledError: unhandledError,
  resolveWith: resolveWith, rejectWith: rejectWith, withResolversOf: withResolversOf,
  tryWith: tryWith, thenThrough: thenThrough, finallyThrough: finallyThrough
};
})

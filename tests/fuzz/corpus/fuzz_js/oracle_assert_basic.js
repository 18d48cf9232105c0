// assert: every function's pass/fail behaviour and Node's AssertionError fields and messages
// (ok with the call's source text, equal/strictEqual/deep variants, throws/doesNotThrow with
// classes, RegExps and objects, match, fail, ifError, rejects/doesNotReject, assert/strict).
var assert = require('assert');
function t(label, fn) { try { fn(); console.log(label, 'passed'); } catch (e) { console.log(label, '|', e.name, '|', e.code, '|', JSON.stringify(e.message), '|', e.generatedMessage, e.operator, JSON.stringify(e.actual), JSON.stringify(e.expected)); } }
t('ok', function () { assert.ok(false); });
t('ok msg', function () { assert.ok(0, 'custom'); });
t('assert', function () { assert(null); });
t('ok noargs', function () { assert.ok(); });
t('equal', function () { assert.equal(1, 2); });
t('equal loose', function () { assert.equal(1, '1'); });
t('notEqual', function () { assert.notEqual(1, '1'); });
t('strictEqual', function () { assert.strictEqual(1, 2); });
t('strictEqual str', function () { assert.strictEqual('a', 'b'); });
t('strictEqual obj', function () { assert.strictEqual({ a: 1 }, { a: 1 }); });
t('notStrictEqual', function () { assert.notStrictEqual(1, 1); });
t('deepStrictEqual', function () { assert.deepStrictEqual({ a: 1 }, { a: 2 }); });
t('deepStrictEqual prim', function () { assert.deepStrictEqual(1, 2); });
t('deepStrictEqual arr', function () { assert.deepStrictEqual([1, 2, 3], [1, 2, 4]); });
t('deepEqual', function () { assert.deepEqual({ a: 1 }, { a: '1' }); });
t('notDeepStrictEqual', function () { assert.notDeepStrictEqual({ a: 1 }, { a: 1 }); });
t('throws', function () { assert.throws(function () {}); });
t('throws ok', function () { assert.throws(function () { throw new TypeError('x'); }, TypeError); });
t('throws wrong', function () { assert.throws(function () { throw new TypeError('x'); }, RangeError); });
t('throws regexp', function () { assert.throws(function () { throw new Error('abc'); }, /xyz/); });
t('throws obj', function () { assert.throws(function () { throw new Error('abc'); }, { message: 'abc' }); });
t('throws obj bad', function () { assert.throws(function () { throw new Error('abc'); }, { message: 'abd' }); });
t('doesNotThrow', function () { assert.doesNotThrow(function () { throw new Error('boom'); }); });
t('match', function () { assert.match('abc', /x/); });
t('doesNotMatch', function () { assert.doesNotMatch('abc', /b/); });
t('fail', function () { assert.fail(); });
t('fail msg', function () { assert.fail('boom'); });
t('ifError', function () { assert.ifError(new Error('e')); });
t('ifError null', function () { assert.ifError(null); });
t('strict', function () { assert.strict.equal(1, '1'); });
t('AssertionError', function () { var e = new assert.AssertionError({ actual: 1, expected: 2, operator: 'strictEqual' }); console.log(e.message, e.name, e.code); });
console.log(typeof assert.rejects, typeof assert.doesNotReject, require('assert/strict') === assert.strict, assert.strict.strict === assert.strict);
assert.rejects(Promise.reject(new Error('r')), /r/).then(function () { console.log('rejects ok'); });
assert.rejects(Promise.resolve(1)).then(null, function (e) { console.log('rejects failed', JSON.stringify(e.message)); });
assert.doesNotReject(Promise.reject(new Error('q'))).then(null, function (e) { console.log('doesNotReject failed', JSON.stringify(e.message)); });

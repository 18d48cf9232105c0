// assert: Node 20's diff layout for multi-line values, custom messages and errors, the
// legacy vs strict comparisons, ERR_MISSING_ARGS, and an uncaught AssertionError (status 1).
var assert = require('assert');
function t(label, fn) { try { fn(); console.log(label, 'passed'); } catch (e) { console.log(label, '|', e.name, '|', JSON.stringify(e.message), '|', e.generatedMessage, e.operator, String(e).slice(0, 40)); } }
t('big diff', function () { assert.deepStrictEqual({ a: 1, b: [1, 2, 3, 4, 5, 6, 7, 8], c: { d: 'x', e: 'y' }, f: 1 }, { a: 1, b: [1, 2, 3, 4, 5, 6, 7, 9], c: { d: 'x', e: 'z' }, f: 1 }); });
t('extra key', function () { assert.deepStrictEqual({ a: 1, b: 2 }, { a: 1 }); });
t('missing key', function () { assert.deepStrictEqual({ a: 1 }, { a: 1, b: 2 }); });
t('long strings', function () { assert.strictEqual('hello world this is long', 'hello world this is lung'); });
t('proto', function () { assert.deepStrictEqual(Object.create(null), {}); });
t('validate fn', function () { assert.throws(function () { throw new Error('v'); }, function validate(e) { return false; }); });
t('throws msg', function () { assert.throws(function () {}, TypeError, 'should throw'); });
t('throws string msg', function () { assert.throws(function () {}, 'just text'); });
t('doesNotThrow msg', function () { assert.doesNotThrow(function () { throw new Error('b'); }, 'nope'); });
t('strict deepEqual', function () { assert.strict.deepEqual([1], ['1']); });
t('notDeepEqual', function () { assert.notDeepEqual([1], ['1']); });
t('deepEqual loose diff', function () { assert.deepEqual({ a: 1 }, { a: 2 }); });
t('err message', function () { assert.strictEqual(1, 2, new TypeError('own error')); });
t('fail 2 args', function () { assert.fail(1, 2); });
t('nested ok', function () { var x = 0; assert.ok(x > 1 && (x < 5)); });
t('equal NaN', function () { assert.equal(NaN, NaN); });
t('missing args', function () { assert.strictEqual(1); });
var e = new assert.AssertionError({ message: 'm', actual: 1, expected: 2, operator: 'x' });
console.log(e instanceof Error, e instanceof assert.AssertionError, e.name, e.code, String(e), e.generatedMessage);
assert.ok(true); assert(1); assert.deepStrictEqual([{ a: [1] }], [{ a: [1] }]);
assert.strictEqual(1, 2);

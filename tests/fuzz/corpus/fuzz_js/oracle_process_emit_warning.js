// process.emitWarning as Node 20: argument validation, (type, code), options with detail,
// Error objects, repeated DeprecationWarnings all emitted, noDeprecation silencing them, and
// the callback checks of nextTick, setTimeout, setImmediate and queueMicrotask.
function t(label, fn) { try { var r = fn(); console.log(label, 'ok', typeof r); } catch (e) { console.log(label, e.name, e.code, e.message); } }
t('nextTick', function () { process.nextTick(1); });
t('setTimeout', function () { setTimeout('str'); });
t('setImmediate', function () { setImmediate(null); });
t('queueMicrotask', function () { queueMicrotask({}); });
t('emitWarning num', function () { process.emitWarning(5); });
t('emitWarning type num', function () { process.emitWarning('w', 5); });
t('emitWarning code num', function () { process.emitWarning('w', 'T', 5); });
var warnings = [];
process.on('warning', function (w) { warnings.push([w.name, w.message, w.code, w.detail].join('|')); });
process.emitWarning('plain');
process.emitWarning('typed', 'MyWarning');
process.emitWarning('coded', 'MyWarning', 'MY_CODE');
process.emitWarning('opts', { type: 'OptWarning', code: 'OPT', detail: 'more info' });
process.emitWarning(new Error('an error object'));
process.emitWarning('dep', 'DeprecationWarning', 'DEP1');
process.emitWarning('dep', 'DeprecationWarning', 'DEP1');
process.noDeprecation = true;
process.emitWarning('silenced', 'DeprecationWarning');
process.noDeprecation = false;
setTimeout(function () { console.log(warnings.join('\n')); }, 5);

// console writes through process.stdout.write / process.stderr.write (replacing them
// captures console output; a throwing write is swallowed), console.Console with streams or
// options (callable without new, Node's stream checks), require('console'), and the global
// console's extra members.
var out = [];
var sink = { write: function (s) { out.push(JSON.stringify(s)); } };
var c = new console.Console({ stdout: sink, ignoreErrors: false });
c.log('hello %d', 5);
c.error('to err goes to stdout too');
c.group('g');
c.log('in\ntwo lines');
c.groupEnd();
c.table([1]);
c.count();
c.count();
c.dir({ a: [1, { b: 2 }] }, { depth: 0 });
var c4 = new console.Console({ stdout: sink, ignoreErrors: false, groupIndentation: 4 });
c4.group();
c4.info('four');
console.log(out.join('\n'));
var original = process.stdout.write;
var captured = [];
process.stdout.write = function (s) { captured.push(s); return true; };
console.log('captured', 1);
console.info('info');
console.table([{ a: 1 }]);
process.stdout.write = function () { throw new Error('x'); };
console.log('swallowed');
process.stdout.write = original;
console.log(captured);
var errs = [];
var originalErr = process.stderr.write;
process.stderr.write = function (s) { errs.push(s); return true; };
console.error('e1');
console.warn('w1');
console.assert(false, 'bad %s', 'thing');
process.stderr.write = originalErr;
console.log(errs);
console.log(typeof require('console').Console, require('console') === console,
    require('node:console') === console, console.Console === require('console').Console);
var C = console.Console;
var c2 = C(process.stdout);
c2.log('without new');
var log = c2.log;
log('detached method');
try { new C(); } catch (e) { console.log(e.name, e.code, e.message); }
try { new C({ write: 1 }); } catch (e) { console.log(e.name, e.code, e.message); }
try { new C({ stdout: sink, stderr: {} }); } catch (e) { console.log(e.name, e.code, e.message); }
console.log(Object.keys(console).join(','));
console.log(Object.keys(c).join(','));
console.log(c instanceof C, console instanceof C, console.log.name, console.log.length,
    console.dirxml === console.log);
console.clear(); // stdout is not a TTY here: nothing is written
console.log('end');

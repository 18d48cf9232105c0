// A replaced process.stdout.write that logs again recurses into a RangeError that console
// lets through (a stack overflow is the one write error it does not swallow), never a crash.
var orig = process.stdout.write;
process.stdout.write = function (s) { console.log('again ' + s.length); return true; };
try { console.log('x'); } catch (e) { process.stdout.write = orig; console.log('caught', e.name); }
process.stdout.write = orig;
console.log('end');

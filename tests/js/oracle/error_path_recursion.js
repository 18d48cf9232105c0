// Recursion JS can drive through native code ends in a RangeError, never a crash.
var log = [];
var o = {};
o.toString = function () { return String(o) + 'x'; };
try { String(o); } catch (e) { log.push('toString ' + e.name); }
function viaEmit(n) { process.emit('deep', n); }
process.on('deep', function (n) { viaEmit(n + 1); });
try { viaEmit(0); } catch (e) { log.push('emit ' + e.name); }
var proxy = new Proxy({}, { get: function (t, k) { return proxy[k]; } });
try { void proxy.x; } catch (e) { log.push('proxy ' + e.name); }
function viaMap() { return [1].map(viaMap); }
try { viaMap(); } catch (e) { log.push('map ' + e.name); }
var nested = [];
for (var i = 0; i < 100000; i++) {
    nested = [nested];
}
try { JSON.stringify(nested); } catch (e) { log.push('json ' + e.name); }
console.log(log.join('\n'));

// hostile: status=0 stdout=^\{\}$
var p = new Proxy({}, { ownKeys: function () { console.log(p); return []; } });
try { console.log(p); } catch (e) { console.log(e.name); }
console.log('done');

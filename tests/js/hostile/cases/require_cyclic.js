// hostile: status=0 stdout=^a sees b: true, b saw partial a: true$
var a = require(process.env.HOSTILE_DIR + '/cyc_a.js');
console.log('a sees b: ' + (a.b.name === 'b') + ', b saw partial a: ' + a.b.sawPartial);

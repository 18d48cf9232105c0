// hostile: status=0 stdout=^same true$
var m = require(process.env.HOSTILE_DIR + '/self.js');
console.log('same', m.self === m);

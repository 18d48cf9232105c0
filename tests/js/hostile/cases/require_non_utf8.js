// hostile: status=0 stdout=^len 3 65533$
var s = require(process.env.HOSTILE_DIR + '/latin1.js');
console.log('len', s.length, s.charCodeAt(1));

// hostile: status=0 stdout=^refused
try { require(process.env.HOSTILE_DIR + '/huge.js'); } catch (e) { console.log('refused', e.code); }

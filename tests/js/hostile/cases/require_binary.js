// hostile: status=0 stdout=^refused SyntaxError$
try { require(process.env.HOSTILE_DIR + '/binary.js'); } catch (e) { console.log('refused', e.name); }

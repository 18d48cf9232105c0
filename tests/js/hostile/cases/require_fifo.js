// hostile: status=0 stdout=^refused
try { require(process.env.HOSTILE_DIR + '/fifo'); } catch (e) { console.log('refused', e.code); }

// hostile: status=0 stdout=^refused MODULE_NOT_FOUND$
try { require(process.env.HOSTILE_DIR + '/dir'); } catch (e) { console.log('refused', e.code); }

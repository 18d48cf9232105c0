// hostile: status=0 stdout=^refused
try { require('/dev/zero'); } catch (e) { console.log('refused', e.code); }

// hostile: status=0 args=--max-heap=16 stdout=^refused ERR_EVL_LIMIT_HEAP RangeError .*over_cap.js': its 20971520 bytes do not fit
// A module bigger than what is left under the heap cap is refused before a byte is read (the
// source used to be read outside the JS heap, uncounted).
try { require(process.env.HOSTILE_DIR + '/over_cap.js'); }
catch (e) { console.log('refused', e.code, e.name, e.message); }

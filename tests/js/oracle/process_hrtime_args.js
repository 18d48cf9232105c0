// process.hrtime(time): Node's ERR_INVALID_ARG_TYPE for non-arrays ("must be an instance of
// Array") and ERR_OUT_OF_RANGE RangeError for arrays whose length is not 2; the difference
// is [sec, nsec] with 0 <= nsec < 1e9.
[undefined, [1], [1, 2, 3], [], 'ab', 5, null, {}, { length: 2, 0: 1, 1: 2 }, ['a', 'b'], [0, 0]].forEach(function (v, i) {
  try {
    var r = process.hrtime(v);
    console.log(i, 'ok', Array.isArray(r), r.length, typeof r[0], typeof r[1], r[1] >= 0 && r[1] < 1e9);
  } catch (e) {
    console.log(i, e.name, e.code, e.message, e instanceof RangeError, e instanceof TypeError);
  }
});
var t = process.hrtime();
var d = process.hrtime(t);
console.log(d[0] >= 0, d[1] >= 0);
console.log(process.hrtime([t[0] + 10, 0])[0] < 0);

/*
 * Fuzzes atob and btoa (src/duktape/js/web/base64.js over the natives in web.c) against a
 * reference forgiving-base64 decoder written from the HTML and Infra standards in the
 * driver. Invariants: btoa of any Latin-1 string is canonical base64 of the right length and
 * atob reverses it; atob of any string decodes exactly as the reference does, or throws
 * InvalidCharacterError exactly when the reference fails; btoa of a string with a code unit
 * above U+00FF throws InvalidCharacterError; nothing else is ever thrown.
 */
#include "js_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char driver[] =
    "(function () {\n"
    "  var ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';\n"
    "  /* Strings from code unit arrays in slices (no quadratic concatenation). */\n"
    "  function text(units) {\n"
    "    var s = '';\n"
    "    for (var i = 0; i < units.length; i += 4096) {\n"
    "      s += String.fromCharCode.apply(null, units.slice(i, i + 4096));\n"
    "    }\n"
    "    return s;\n"
    "  }\n"
    "  /* https://infra.spec.whatwg.org/#forgiving-base64-decode; null on failure. */\n"
    "  function reference(s) {\n"
    "    s = s.replace(/[\\t\\n\\f\\r ]/g, '');\n"
    "    if (s.length % 4 === 0) { s = s.replace(/==?$/, ''); }\n"
    "    if (s.length % 4 === 1) { return null; }\n"
    "    var out = [], bits = 0, n = 0;\n"
    "    for (var i = 0; i < s.length; i++) {\n"
    "      var v = ALPHA.indexOf(s.charAt(i));\n"
    "      if (v < 0) { return null; }\n"
    "      bits = ((bits << 6) | v) & 0xffffff; n += 6;\n"
    "      if (n >= 8) { n -= 8; out.push((bits >> n) & 0xff); }\n"
    "    }\n"
    "    return text(out);\n"
    "  }\n"
    "  function invalidChar(e) {\n"
    "    return e instanceof DOMException && e.name === 'InvalidCharacterError' && e.code === 5;\n"
    "  }\n"
    "  return function (bytes) {\n"
    "    var s = text(Array.prototype.slice.call(bytes));\n"
    "    var b = btoa(s);\n"
    "    check(b.length === 4 * Math.ceil(s.length / 3), 'btoa length');\n"
    "    check(/^[A-Za-z0-9+\\/]*={0,2}$/.test(b), 'btoa alphabet: ' + b);\n"
    "    check(atob(b) === s, 'atob(btoa(s)) !== s');\n"
    "    var want = reference(s), got = null;\n"
    "    try {\n"
    "      got = atob(s);\n"
    "    } catch (e) {\n"
    "      check(invalidChar(e), 'atob threw ' + e);\n"
    "    }\n"
    "    check(got === want, 'atob(' + JSON.stringify(s) + ') = ' + JSON.stringify(got) +\n"
    "          ', reference ' + JSON.stringify(want));\n"
    "    /* Pairs of bytes as UTF-16 code units: btoa refuses any above U+00FF. */\n"
    "    var units = [], high = false;\n"
    "    for (var i = 0; i + 1 < bytes.length; i += 2) {\n"
    "      var u = bytes[i] | (bytes[i + 1] << 8);\n"
    "      high = high || u > 0xff;\n"
    "      units.push(u);\n"
    "    }\n"
    "    var wide = text(units);\n"
    "    try {\n"
    "      check(atob(btoa(wide)) === wide && !high, 'btoa accepted a wide string');\n"
    "    } catch (e) {\n"
    "      check(high && invalidChar(e), 'btoa threw ' + e);\n"
    "    }\n"
    "  };\n"
    "})()\n";

static struct js_driver d = {.name = "fuzz_js_base64", .source = driver};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    js_driver_run(&d, data, size);
    return 0;
}

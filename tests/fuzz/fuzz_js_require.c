/*
 * Fuzzes require() (src/duktape/js/module.js over the file natives in module.c): path
 * resolution and the loading of JSON and JS modules. Each input gets its own directory
 * R/a/b (R under one temporary root), with files whose names and contents come from the
 * input, a main module R/a/b/main.js, and a list of specifiers required from it.
 *
 * Input: a header byte (its low bits: how many files), then NUL-separated fields: a name
 * and a content per file, then the specifiers. A name keeps its printable bytes; "." and ".."
 * segments are dropped so that every file lands inside R (a leading '^' puts it in R
 * instead of R/a/b, a trailing '/' makes a directory). A name ending in ".json" gets the
 * content as is (BOMs, invalid UTF-8, bad JSON); any other file is a JS module from a few
 * templates picked by the content's first byte (exports its filename, requires a sanitized
 * relative path — cycles, nesting —, throws, or carries the raw bytes, BOM included, in a
 * comment), so no module runs arbitrary code.
 *
 * Invariants, per specifier: require.resolve and require agree (the same error code, or
 * success); a resolved path is absolute, normalized, and one of the candidates Node tries
 * for the request (the path itself, with .js or .json, the directory's index.js or
 * index.json, or below the directory when it has a package.json); inside R it is a file
 * this input created; a JSON module equals JSON.parse of the file decoded by TextDecoder
 * (BOM dropped, invalid UTF-8 as U+FFFD), and is a SyntaxError exactly when that parse
 * fails; a JS module exports what its template says; a module that threw is not cached
 * and throws again. Nothing outside R is ever loaded.
 */
#include <ctype.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "js_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 6
#define MAX_SPECS 8
#define MAX_NAME  200
#define MAX_DEPTH 4   /* directories in a name */
#define MAX_SPEC  256 /* bytes of a specifier */

static const char driver[] =
    "(function () {\n"
    "  function normalize(p) {\n"
    "    var out = [];\n"
    "    p.split('/').forEach(function (s) {\n"
    "      if (s === '' || s === '.') { return; }\n"
    "      if (s === '..') { out.pop(); return; }\n"
    "      out.push(s);\n"
    "    });\n"
    "    return '/' + out.join('/');\n"
    "  }\n"
    "  var CODES = ['MODULE_NOT_FOUND', 'ERR_INVALID_ARG_VALUE', 'ERR_UNKNOWN_BUILTIN_MODULE'];\n"
    "  function attempt(fn) {\n"
    "    try { return { value: fn() }; } catch (e) {\n"
    "      if (e && e.name === 'FuzzInvariant') { throw e; }\n"
    "      return { error: e };\n"
    "    }\n"
    "  }\n"
    "  function json(bytes) {\n"
    "    return attempt(function () { return JSON.parse(new TextDecoder().decode(bytes)); });\n"
    "  }\n"
    "  return function () {\n"
    "    var req = __fuzz_require, dir = __fuzz_dir, root = __fuzz_root, files = __fuzz_files;\n"
    "    function file(path) {\n"
    "      for (var i = 0; i < files.length; i++) { if (files[i].path === path) { return files[i]; "
    "} }\n"
    "      return null;\n"
    "    }\n"
    "    __fuzz_specs.forEach(function (spec) {\n"
    "      var what = 'require(' + JSON.stringify(spec) + ')';\n"
    "      var r = attempt(function () { return req.resolve(spec); });\n"
    "      if ('error' in r) {\n"
    "        check(CODES.indexOf(r.error.code) >= 0, what + ': resolve threw ' + r.error);\n"
    "        var l = attempt(function () { return req(spec); });\n"
    "        check('error' in l && l.error.code === r.error.code, what + ': resolve and require "
    "disagree');\n"
    "        return;\n"
    "      }\n"
    "      var res = r.value;\n"
    "      if (spec.charAt(0) !== '.' && spec.charAt(0) !== '/') {\n"
    "        var b = attempt(function () { return req(spec); });\n"
    "        check(!('error' in b) && b.value !== undefined && b.value !== null, what + ': core "
    "module');\n"
    "        return;\n"
    "      }\n"
    "      check(res.charAt(0) === '/' && normalize(res) === res, what + ': resolved to ' + res);\n"
    "      var base = normalize(spec.charAt(0) === '/' ? spec : dir + '/' + spec);\n"
    "      var cands = [base, base + '.js', base + '.json', base + '/index.js', base + "
    "'/index.json'];\n"
    "      var viaPackage = cands.indexOf(res) < 0;\n"
    "      var inside = base === root || base.indexOf(root + '/') === 0;\n"
    "      check(!viaPackage || !inside || file(base + '/package.json') !== null,\n"
    "            what + ': ' + res + ' is not a candidate for ' + base);\n"
    "      if (res.indexOf(root + '/') !== 0) {\n"
    "        check(!inside || viaPackage, what + ': escaped to ' + res);\n"
    "        return;\n"
    "      }\n"
    "      var f = file(res);\n"
    "      if (res === dir + '/main.js') { return; }\n"
    "      check(f !== null && !f.directory, what + ': resolved to ' + res + ', not a file made "
    "here');\n"
    "      var got = attempt(function () { return req(spec); });\n"
    "      if (f.json) {\n"
    "        var want = json(f.bytes);\n"
    "        if ('error' in want) {\n"
    "          check('error' in got && got.error instanceof SyntaxError, what + ': invalid JSON "
    "loaded');\n"
    "        } else {\n"
    "          check(!('error' in got), what + ': valid JSON refused: ' + got.error);\n"
    "          check(JSON.stringify(got.value) === JSON.stringify(want.value), what + ': JSON "
    "differs');\n"
    "          check(req(spec) === got.value, what + ': not cached');\n"
    "        }\n"
    "        return;\n"
    "      }\n"
    "      switch (f.template) {\n"
    "      case 0: check(got.value === res, what + ': exports ' + got.value); break;\n"
    "      case 2:\n"
    "        check('error' in got && got.error.message === 'boom', what + ': did not throw');\n"
    "        var again = attempt(function () { return req(spec); });\n"
    "        check('error' in again && again.error.message === 'boom', what + ': a failed module "
    "was cached');\n"
    "        break;\n"
    "      case 3: check(got.value === 3, what + ': exports ' + got.value + ' ' + got.error); "
    "break;\n"
    "      default: break;\n"
    "      }\n"
    "    });\n"
    "  };\n"
    "})()\n";

static char root[64];
static unsigned long run_id;

/* JS module templates 0 and 2; 1 and 3 are formatted in input(). */
static const char *templates[] = {
    "module.exports = __filename;\n",
    NULL,
    "exports.partial = 1;\nthrow new Error('boom');\n",
};

static void prepare(duk_context *ctx)
{
    if (evl_duk_install_require(ctx) != 0) {
        fprintf(stderr, "fuzz_js_require: evl_duk_install_require\n");
        abort();
    }
    /* main.js hands its require over. */
    if (duk_peval_string(ctx, "(function (g) { g.__fuzz_take = function (r) {"
                              " g.__fuzz_require = r; }; })(this)") != 0) {
        abort();
    }
    duk_pop(ctx);
}

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* mkdir -p of the directories leading to path (inside the run's directory). */
static void make_parents(char *path)
{
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0700);
            *p = '/';
        }
    }
}

static void write_file(const char *path, const char *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        return;
    }
    if (len > 0 && write(fd, bytes, len) != (ssize_t)len) {
        abort();
    }
    close(fd);
}

/* A name's segments without ".", ".." and empty ones, printable bytes only. */
static size_t clean_name(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t n = 0, seg = 0, segments = 0;
    for (size_t i = 0; i <= len && n + 2 < cap && segments < MAX_DEPTH; i++) {
        int c = i < len ? in[i] : '/';
        if (c == '/') {
            int dots = (n - seg == 1 && out[seg] == '.') ||
                       (n - seg == 2 && out[seg] == '.' && out[seg + 1] == '.');
            if (dots || n == seg) {
                n = seg;
            } else if (i < len) {
                out[n++] = '/';
                seg = n;
                segments++;
            }
            continue;
        }
        if (c > 0x20 && c < 0x7f) {
            out[n++] = (char)c;
        }
    }
    while (n > 0 && out[n - 1] == '/') {
        n--;
    }
    out[n] = '\0';
    return n;
}

static void push_files_entry(duk_context *ctx, duk_idx_t arr, const char *path, int directory,
                             int json, int template, const uint8_t *bytes, size_t len)
{
    duk_push_object(ctx);
    duk_push_string(ctx, path);
    duk_put_prop_string(ctx, -2, "path");
    duk_push_boolean(ctx, directory);
    duk_put_prop_string(ctx, -2, "directory");
    duk_push_boolean(ctx, json);
    duk_put_prop_string(ctx, -2, "json");
    duk_push_int(ctx, template);
    duk_put_prop_string(ctx, -2, "template");
    void *buf = duk_push_fixed_buffer(ctx, len);
    if (len > 0) {
        memcpy(buf, bytes, len);
    }
    duk_push_buffer_object(ctx, -1, 0, len, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
    duk_put_prop_string(ctx, -2, "bytes");
    duk_put_prop_index(ctx, arr, (duk_uarridx_t)duk_get_length(ctx, arr));
}

/* The next NUL-terminated field of data[*pos..size). */
static const uint8_t *field(const uint8_t *data, size_t size, size_t *pos, size_t *len)
{
    if (*pos > size) {
        return NULL;
    }
    const uint8_t *start = data + *pos;
    const uint8_t *end = memchr(start, 0, size - *pos);
    *len = end ? (size_t)(end - start) : size - *pos;
    *pos += *len + 1;
    return start;
}

static void input(duk_context *ctx, const uint8_t *data, size_t size)
{
    char run[128], dir[192], path[512], name[MAX_NAME], body[2 * MAX_NAME + 4096];
    snprintf(run, sizeof(run), "%s/r%lu", root, ++run_id);
    snprintf(dir, sizeof(dir), "%s/a/b", run);
    snprintf(path, sizeof(path), "%s/main.js", dir);
    make_parents(path);
    write_file(path, "__fuzz_take(require);\n", 22);
    duk_push_array(ctx);
    duk_idx_t files = duk_get_top_index(ctx);
    size_t pos = 1, nlen, clen;
    unsigned nfiles = size > 0 ? data[0] % (MAX_FILES + 1) : 0;
    for (unsigned i = 0; i < nfiles; i++) {
        const uint8_t *n = field(data, size, &pos, &nlen);
        const uint8_t *c = field(data, size, &pos, &clen);
        if (n == NULL || c == NULL) {
            break;
        }
        int top = nlen > 0 && n[0] == '^';
        int directory = nlen > 0 && n[nlen - 1] == '/';
        if (clean_name(n + top, nlen - (size_t)top, name, sizeof(name)) == 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", top ? run : dir, name);
        make_parents(path);
        if (directory) {
            if (mkdir(path, 0700) == 0) {
                push_files_entry(ctx, files, path, 1, 0, -1, NULL, 0);
            }
            continue;
        }
        size_t plen = strlen(path);
        int json = plen >= 5 && strcmp(path + plen - 5, ".json") == 0;
        int template = -1;
        size_t blen = clen;
        const char *bytes = (const char *)c;
        if (!json) {
            template = clen > 0 ? c[0] % 4 : 0;
            char payload[4096];
            size_t plen2 = 0;
            for (size_t k = 1; k < clen && plen2 + 1 < sizeof(payload); k++) {
                int ch = c[k];
                if (template == 1) {
                    /* A relative path that stays inside R: no "..", no quotes. */
                    if (isalnum(ch) || ch == '.' || ch == '_' || ch == '-' || ch == '/') {
                        payload[plen2++] = (char)ch;
                    }
                } else if (ch != '\n' && ch != '\r') {
                    payload[plen2++] = (char)ch;
                }
            }
            payload[plen2] = '\0';
            if (template == 1) {
                clean_name((const uint8_t *)payload, plen2, name, sizeof(name));
                snprintf(body, sizeof(body), "module.exports = require('./%s');\n", name);
            } else if (template == 3) {
                snprintf(body, sizeof(body), "%s// %s\nmodule.exports = 3;\n",
                         clen > 1 && (c[1] & 1) ? "\xef\xbb\xbf" : "", payload);
            } else {
                snprintf(body, sizeof(body), "%s", templates[template]);
            }
            bytes = body;
            blen = strlen(body);
        }
        if (access(path, F_OK) == 0) {
            continue;
        }
        write_file(path, bytes, blen);
        push_files_entry(ctx, files, path, 0, json, template, (const uint8_t *)bytes, blen);
    }
    duk_put_global_string(ctx, "__fuzz_files");
    duk_push_array(ctx);
    const uint8_t *s;
    for (unsigned i = 0; i < MAX_SPECS && (s = field(data, size, &pos, &clen)) != NULL; i++) {
        /* Bytes as Latin-1 code points (UTF-8 for Duktape), so any byte string is a spec. */
        char spec[2 * MAX_SPEC];
        size_t sl = 0;
        for (size_t k = 0; k < clen && k < MAX_SPEC; k++) {
            unsigned ch = s[k];
            if (ch < 0x80) {
                spec[sl++] = (char)ch;
            } else {
                spec[sl++] = (char)(0xc0 | (ch >> 6));
                spec[sl++] = (char)(0x80 | (ch & 0x3f));
            }
        }
        duk_push_lstring(ctx, spec, sl);
        duk_put_prop_index(ctx, -2, i);
    }
    duk_put_global_string(ctx, "__fuzz_specs");
    duk_push_string(ctx, dir);
    duk_put_global_string(ctx, "__fuzz_dir");
    duk_push_string(ctx, run);
    duk_put_global_string(ctx, "__fuzz_root");
    snprintf(path, sizeof(path), "%s/main.js", dir);
    if (evl_duk_run_main(ctx, path) != 0) {
        fprintf(stderr, "fuzz_js_require: the main module failed\n");
        abort();
    }
}

static void remove_root(void)
{
    (void)rmdir(root);
}

static struct js_driver d = {
    .name = "fuzz_js_require", .source = driver, .prepare = prepare, .input = input};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (root[0] == '\0') {
        snprintf(root, sizeof(root), "/tmp/evl_fuzz_require.XXXXXX");
        char real[PATH_MAX];
        if (!mkdtemp(root) || !realpath(root, real) || strlen(real) >= sizeof(root)) {
            abort();
        }
        /* Resolved paths are real paths: compare with the real one. */
        memcpy(root, real, strlen(real) + 1);
        atexit(remove_root);
    }
    js_driver_run(&d, data, size);
    char run[128];
    snprintf(run, sizeof(run), "%s/r%lu", root, run_id);
    (void)nftw(run, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

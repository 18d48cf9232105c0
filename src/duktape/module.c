/*
 * CommonJS require(): the algorithm is in js/module.js; this file gives it file access and
 * compilation with a file name (so errors name file and line).
 */
#include "duktape/module.h"

#include "duktape/bootstrap.h"
#include "duktape/error.h"
#include "duktape/heap.h"
#include "duktape/process.h"

#include "evl_js_module.h"
#include "evl_js_stdlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest module source require() reads. Bigger files are refused with EFBIG before any
 * byte is read: compiling such a source would need several times its size again. Under a heap
 * cap the source is read into a buffer of the JS heap, so it counts against the cap, and a
 * file bigger than what is left under the cap is refused before any byte is read. */
#define EVL_DUK_MODULE_MAX_BYTES ((size_t)128 << 20)

/* Opens a module source for reading (*fd, +1) and gives its size. Returns 0 or a system
 * code with the failing call's name in *syscall: "open" (also EINVAL for what is not a
 * regular file or directory: devices, FIFOs and sockets never end or block), "read" (also
 * EISDIR, and EFBIG above EVL_DUK_MODULE_MAX_BYTES). */
static int open_source(const char *path, int *fd_out, size_t *size_out, const char **syscall)
{
    /* O_NONBLOCK: opening a FIFO without a writer would block forever. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *syscall = "open";
        return evl_err_from_errno(errno);
    }
    struct stat st;
    int refuse = 0;
    if (fstat(fd, &st) != 0) {
        refuse = errno;
        *syscall = "fstat";
    } else if (S_ISDIR(st.st_mode)) {
        refuse = EISDIR;
        *syscall = "read";
    } else if (!S_ISREG(st.st_mode)) {
        refuse = EINVAL;
        *syscall = "open";
    } else if ((uint64_t)st.st_size > EVL_DUK_MODULE_MAX_BYTES) {
        refuse = EFBIG;
        *syscall = "read";
    }
    if (refuse) {
        close(fd);
        return evl_err_from_errno(refuse);
    }
    *fd_out = fd;
    *size_out = (size_t)st.st_size;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[i..len) (1..4), or 0 when it is invalid there: the
 * WHATWG decoder's rules (no overlongs, surrogates or code points above U+10FFFF); *bad gets
 * how many bytes one U+FFFD replaces (the maximal subpart, at least 1). */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i, size_t *bad)
{
    unsigned char c = s[i];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        *bad = 1;
        return 0;
    }
    size_t k = 1;
    for (; k <= need; k++) {
        if (i + k >= len || s[i + k] < lo || s[i + k] > hi) {
            *bad = k;
            return 0;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return k;
}

/* Writes the UTF-16 code unit u (a surrogate) as Duktape's internal 3-byte form. */
static size_t put_unit(unsigned char *out, unsigned u)
{
    out[0] = (unsigned char)(0xe0 | (u >> 12));
    out[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
    out[2] = (unsigned char)(0x80 | (u & 0x3f));
    return 3;
}

/* Pushes buf[0..len) as a string decoded as UTF-8 the way Node reads a source file: each
 * invalid sequence becomes U+FFFD. Raw invalid bytes must never reach the engine: a string
 * starting with 0x80-0xff is one of Duktape's internal symbols. A character above U+FFFF
 * becomes its surrogate pair (CESU-8), as ECMAScript strings hold it: pushed as 4-byte UTF-8,
 * Duktape would keep it as one character of length 1, which JSON.parse and every string
 * operation then see (a JSON module's "\xf0\x9f\x98\x80" had length 1 instead of 2).
 * Throws on allocation failure. */
static void push_utf8_lossy(duk_context *ctx, const unsigned char *buf, size_t len)
{
    size_t i = 0, bad = 0, grow = 0;
    int rewrite = 0;
    while (i < len) {
        size_t n = utf8_seq(buf, len, i, &bad);
        if (n == 0) {
            grow += 3 - bad; /* one U+FFFD (3 bytes) for 1 to 3 bad ones */
            n = bad;
            rewrite = 1;
        } else if (n == 4) {
            grow += 2;
            rewrite = 1;
        }
        i += n;
    }
    if (!rewrite) {
        duk_push_lstring(ctx, (const char *)buf, len);
        return;
    }
    unsigned char *out = duk_push_fixed_buffer(ctx, len + grow);
    size_t o = 0;
    for (i = 0; i < len;) {
        size_t n = utf8_seq(buf, len, i, &bad);
        if (n == 0) {
            o += put_unit(out + o, 0xfffd);
            i += bad;
        } else if (n == 4) {
            unsigned cp = ((unsigned)(buf[i] & 0x07) << 18) |
                          ((unsigned)(buf[i + 1] & 0x3f) << 12) |
                          ((unsigned)(buf[i + 2] & 0x3f) << 6) | (unsigned)(buf[i + 3] & 0x3f);
            cp -= 0x10000;
            o += put_unit(out + o, 0xd800 + (cp >> 10));
            o += put_unit(out + o, 0xdc00 + (cp & 0x3ff));
            i += 4;
        } else {
            memcpy(out + o, buf + i, n);
            o += n;
            i += n;
        }
    }
    duk_push_lstring(ctx, (const char *)out, o);
    duk_remove(ctx, -2);
}

struct source_read {
    int fd;
    size_t size;
    size_t len;
    int rc;
    const char *syscall;
};

/* Pushes a dynamic buffer of the JS heap (+1) holding the rest of r->fd (r->len bytes);
 * r->rc tells a read error. Throws when the heap has no room. */
static duk_ret_t read_source_unsafe(duk_context *ctx, void *udata)
{
    struct source_read *r = udata;
    size_t cap = r->size + 1; /* one more: the end is seen without a resize */
    char *buf = duk_push_dynamic_buffer(ctx, cap);
    r->len = 0;
    for (;;) {
        if (r->len == cap) { /* the file grew while being read */
            cap *= 2;
            buf = duk_resize_buffer(ctx, -1, cap);
        }
        ssize_t n = read(r->fd, buf + r->len, cap - r->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r->rc = evl_err_from_errno(errno);
            r->syscall = "read";
            return 1;
        }
        if (n == 0) {
            return 1;
        }
        r->len += (size_t)n;
        if (r->len > EVL_DUK_MODULE_MAX_BYTES) {
            r->rc = evl_err_from_errno(EFBIG);
            r->syscall = "read";
            return 1;
        }
    }
}

/* Throws what fs.readFileSync throws in Node for a system error: "ENOENT: no such file or
 * directory, open 'x'" with errno, code, syscall (and path when open failed). */
static duk_ret_t throw_read_error(duk_context *ctx, int rc, const char *path, const char *syscall)
{
    if (!evl_err_is_sys(rc)) {
        evl__duk_push_error_code(ctx, rc, NULL, NULL);
        return duk_throw(ctx);
    }
    char reason[128];
    (void)evl__duk_sys_message(rc, reason, sizeof(reason));
    int with_path = strcmp(syscall, "open") == 0;
    if (with_path) {
        duk_push_error_object(ctx, DUK_ERR_ERROR, "%s: %s, %s '%s'", evl_err_name(rc), reason,
                              syscall, path);
    } else {
        duk_push_error_object(ctx, DUK_ERR_ERROR, "%s: %s, %s", evl_err_name(rc), reason, syscall);
    }
    evl__duk_error_shape(ctx, -1, rc, syscall);
    if (with_path) {
        duk_push_string(ctx, path);
        duk_put_prop_literal(ctx, -2, "path");
    }
    return duk_throw(ctx);
}

/* native.readFile(path) -> string; throws as fs.readFileSync does, or a RangeError (code
 * ERR_EVL_LIMIT_HEAP) when the file is bigger than what is left under the heap cap. The
 * bytes are read into a buffer of the JS heap, so they count against the cap like the
 * string made from them. */
static duk_ret_t native_read_file(duk_context *ctx)
{
    const char *path = duk_require_string(ctx, 0);
    struct source_read r = {-1, 0, 0, 0, "open"};
    int rc = open_source(path, &r.fd, &r.size, &r.syscall);
    if (rc != 0) {
        return throw_read_error(ctx, rc, path, r.syscall);
    }
    uint64_t room = evl__duk_heap_room(ctx);
    if ((uint64_t)r.size > room) {
        close(r.fd);
        duk_push_error_object(ctx, DUK_ERR_RANGE_ERROR,
                              "Cannot load module '%s': its %lu bytes do not fit in the %lu "
                              "bytes left under the JavaScript heap's cap",
                              path, (unsigned long)r.size, (unsigned long)room);
        duk_push_string(ctx, "ERR_EVL_LIMIT_HEAP");
        duk_put_prop_literal(ctx, -2, "code");
        return duk_throw(ctx);
    }
    duk_int_t src = duk_safe_call(ctx, read_source_unsafe, &r, 0, 1);
    close(r.fd);
    if (src != DUK_EXEC_SUCCESS) {
        return duk_throw(ctx); /* out of memory: the RangeError */
    }
    if (r.rc != 0) {
        return throw_read_error(ctx, r.rc, path, r.syscall);
    }
    const unsigned char *buf = duk_get_buffer_data(ctx, -1, NULL);
    /* Strip a UTF-8 byte order mark like Node does. */
    size_t skip = r.len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf ? 3 : 0;
    push_utf8_lossy(ctx, buf + skip, r.len - skip);
    duk_remove(ctx, -2);
    return 1;
}

/* native.stat(path) -> 0 missing, 1 file, 2 directory. */
static duk_ret_t native_stat(duk_context *ctx)
{
    struct stat st;
    const char *path = duk_require_string(ctx, 0);
    if (stat(path, &st) != 0) {
        duk_push_int(ctx, 0);
    } else {
        duk_push_int(ctx, S_ISDIR(st.st_mode) ? 2 : 1);
    }
    return 1;
}

/* native.realpath(path) -> canonical absolute path, or the input if it cannot be resolved. */
static duk_ret_t native_realpath(duk_context *ctx)
{
    const char *path = duk_require_string(ctx, 0);
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        duk_dup(ctx, 0);
        return 1;
    }
    duk_push_string(ctx, real);
    return 1;
}

/* native.compile(source, filename, asProgram) -> function. A program (asProgram true) runs
 * in global scope like a script; otherwise source is a function expression. */
static duk_ret_t native_compile(duk_context *ctx)
{
    int program = duk_to_boolean(ctx, 2);
    duk_set_top(ctx, 2);
    duk_require_string(ctx, 0);
    duk_require_string(ctx, 1);
    duk_compile(ctx, program ? 0 : DUK_COMPILE_EVAL);
    if (!program) {
        duk_call(ctx, 0);
    }
    return 1;
}

int evl__duk_module_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    evl__duk_push_natives(d);
    evl__duk_put_native(ctx, "readFile", native_read_file, 1);
    evl__duk_put_native(ctx, "stat", native_stat, 1);
    evl__duk_put_native(ctx, "realpath", native_realpath, 1);
    evl__duk_put_native(ctx, "compile", native_compile, 3);
    duk_pop(ctx);
    evl__duk_run_feature_bootstrap(d, evl_js_module, evl_js_module_len);
    /* The core modules require() offers (each built on first use). */
    evl__duk_run_feature_bootstrap(d, evl_js_stdlib, evl_js_stdlib_len);
    return 0;
}

static duk_ret_t module_install_safe(duk_context *ctx, void *udata)
{
    int rc = evl__duk_module_install(udata);
    duk_push_int(ctx, rc);
    return 1;
}

int evl_duk_install_require(duk_context *ctx)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    int rc = EVL_ENOMEM;
    if (duk_safe_call(ctx, module_install_safe, d, 0, 1) == DUK_EXEC_SUCCESS) {
        rc = duk_get_int(ctx, -1);
    }
    duk_pop(ctx);
    return rc;
}

/* Calls internals[runner](a, b) as one guarded entry. Value stack unchanged. */
static int run_program(duk_context *ctx, const char *runner, const char *a, const char *b)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (!evl__duk_push_internal(d, runner)) {
        return EVL_EINVAL; /* require() is not installed */
    }
    duk_push_undefined(ctx);
    duk_push_string(ctx, a);
    if (b) {
        duk_push_string(ctx, b);
    } else {
        duk_push_undefined(ctx);
    }
    int rc = evl__duk_call_method_guarded(d, 2);
    duk_pop(ctx);
    return rc;
}

int evl_duk_run_main(duk_context *ctx, const char *path)
{
    if (!path) {
        return EVL_EINVAL;
    }
    return run_program(ctx, "runMain", path, NULL);
}

int evl_duk_run_eval(duk_context *ctx, const char *code, const char *name)
{
    if (!code || !name) {
        return EVL_EINVAL;
    }
    return run_program(ctx, "runEval", code, name);
}

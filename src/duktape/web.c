/*
 * The web platform APIs (EVL_DUK_WEB): runs the preludes in js/web/ in dependency order and
 * provides the natives they need where a loop over bytes would otherwise run in JavaScript
 * (forgiving-base64, UTF-8/UTF-16 encoding and decoding, the structured clone's copying of
 * flat containers and primitive runs) or where the engine offers nothing (entropy from
 * getrandom(2), hidden-symbol keys for internal slots).
 *
 * Kept in one file because these natives are the byte loops behind one installer: each is a
 * short function with no state of its own, and the installer's table names them all.
 *
 * Strings cross this boundary in Duktape's internal form: CESU-8, where every UTF-16 code
 * unit (lone surrogates included) is encoded on its own, plus 4-byte sequences for code
 * points above U+FFFF that C code pushed. The encoders accept both; the decoders produce
 * CESU-8 so that `length` and charCodeAt see UTF-16 code units as the specifications expect.
 */
#include "duktape/web.h"

#include "duktape/bootstrap.h"
#include "duktape/engine/duk_engine.h"
#include "duktape/error.h"

#include "evl_js_web_abort.h"
#include "evl_js_web_clone.h"
#include "evl_js_web_base64.h"
#include "evl_js_web_blob.h"
#include "evl_js_web_crypto.h"
#include "evl_js_web_domexception.h"
#include "evl_js_web_encoding.h"
#include "evl_js_web_event.h"
#include "evl_js_web_idl.h"
#include "evl_js_web_messaging.h"
#include "evl_js_web_performance.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

/* Hidden symbols: a script cannot spell them, so slots keyed by them are unforgeable. */
#define WEB_SLOT_KEY  DUK_HIDDEN_SYMBOL("evl_web_slot")
#define WEB_CLONE_KEY DUK_HIDDEN_SYMBOL("evl_web_clone")

/* ---- base64 (HTML "forgiving-base64") --------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 alphabet byte, -1 for any other byte. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* ASCII whitespace as the Infra standard defines it (no vertical tab). */
static int is_ascii_whitespace(unsigned char c)
{
    return c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d || c == 0x20;
}

/* Appends a code unit 0..0xFF in CESU-8 (one byte below 0x80, two above). */
static size_t put_latin1(unsigned char *out, size_t o, unsigned v)
{
    if (v < 0x80) {
        out[o++] = (unsigned char)v;
    } else {
        out[o++] = (unsigned char)(0xc0 | (v >> 6));
        out[o++] = (unsigned char)(0x80 | (v & 0x3f));
    }
    return o;
}

/* native.atob(string) -> the decoded byte string; false when a character is outside the
 * alphabet, null when the length is impossible (the caller throws InvalidCharacterError). */
static duk_ret_t native_atob(duk_context *ctx)
{
    duk_size_t len;
    const unsigned char *in = (const unsigned char *)duk_require_lstring(ctx, 0, &len);
    /* Scratch: the input without whitespace, then the output (at most 2 bytes per decoded
     * byte in CESU-8, 3 decoded bytes per 4 characters). */
    size_t out_cap = (len / 4 + 1) * 6;
    unsigned char *tmp = duk_push_fixed_buffer(ctx, len + out_cap);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_ascii_whitespace(in[i])) {
            tmp[n++] = in[i];
        }
    }
    if (n % 4 == 0 && n > 0 && tmp[n - 1] == '=') {
        n--;
        if (tmp[n - 1] == '=') {
            n--;
        }
    }
    /* Both failures are InvalidCharacterError; the characters are checked first so that the
     * message names the actual problem, as Node's does. */
    for (size_t i = 0; i < n; i++) {
        if (b64_value(tmp[i]) < 0) {
            duk_push_false(ctx);
            return 1;
        }
    }
    if (n % 4 == 1) {
        duk_push_null(ctx);
        return 1;
    }
    unsigned char *out = tmp + len;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(tmp[i]);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o = put_latin1(out, o, (acc >> bits) & 0xff);
        }
    }
    /* Leftover bits (4 after 2 characters, 2 after 3) are discarded, as the spec says. */
    duk_push_lstring(ctx, (const char *)out, o);
    return 1;
}

/* native.btoa(string) -> base64 of the string's code units, or null if one exceeds 0xFF. */
static duk_ret_t native_btoa(duk_context *ctx)
{
    duk_size_t len;
    const unsigned char *in = (const unsigned char *)duk_require_lstring(ctx, 0, &len);
    /* Scratch: the code units as bytes (never more than the input), then the output. */
    size_t out_len = (len + 2) / 3 * 4;
    unsigned char *bytes = duk_push_fixed_buffer(ctx, len + out_len);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (c < 0x80) {
            bytes[n++] = c;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < len && (in[i + 1] & 0xc0) == 0x80) {
            bytes[n++] = (unsigned char)(((c & 0x03) << 6) | (in[i + 1] & 0x3f));
            i++;
        } else {
            duk_push_null(ctx);
            return 1;
        }
    }
    unsigned char *out = bytes + len;
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)bytes[i] << 16) | ((uint32_t)bytes[i + 1] << 8) | bytes[i + 2];
        out[o++] = (unsigned char)b64_alphabet[(v >> 18) & 63];
        out[o++] = (unsigned char)b64_alphabet[(v >> 12) & 63];
        out[o++] = (unsigned char)b64_alphabet[(v >> 6) & 63];
        out[o++] = (unsigned char)b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        out[o++] = (unsigned char)b64_alphabet[(v >> 18) & 63];
        out[o++] = (unsigned char)b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)bytes[i] << 16) | ((uint32_t)bytes[i + 1] << 8);
        out[o++] = (unsigned char)b64_alphabet[(v >> 18) & 63];
        out[o++] = (unsigned char)b64_alphabet[(v >> 12) & 63];
        out[o++] = (unsigned char)b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    duk_push_lstring(ctx, (const char *)out, o);
    return 1;
}

/* ---- entropy ------------------------------------------------------------------------------ */

/* Fills buf from the kernel's CSPRNG; getrandom may return short counts for large requests
 * and fail with EINTR, so it loops. Throws if the kernel refuses. */
static void fill_random(duk_context *ctx, unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom(buf + done, len - done, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            (void)duk_error(ctx, DUK_ERR_ERROR, "getrandom failed: %s", strerror(errno));
        }
        done += (size_t)r;
    }
}

/* native.randomFill(view): fills exactly the view's window (the JS side has checked the type
 * and the 65,536-byte quota). */
static duk_ret_t native_random_fill(duk_context *ctx)
{
    duk_size_t len;
    void *p = duk_require_buffer_data(ctx, 0, &len);
    if (len > 0) {
        fill_random(ctx, p, len);
    }
    return 0;
}

/* native.randomUUID() -> an RFC 9562 version 4 UUID in lowercase hex. */
static duk_ret_t native_random_uuid(duk_context *ctx)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char s[36];
    fill_random(ctx, b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    size_t o = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            s[o++] = '-';
        }
        s[o++] = hex[b[i] >> 4];
        s[o++] = hex[b[i] & 15];
    }
    duk_push_lstring(ctx, s, sizeof(s));
    return 1;
}

/* ---- encoding ----------------------------------------------------------------------------- */

/*
 * Reads the next code point of a Duktape internal string at *i, advancing *i, and returns it
 * with *units set to the number of UTF-16 code units it stands for. A CESU-8 surrogate pair
 * becomes one code point; a lone surrogate is returned as is (callers map it to U+FFFD).
 */
static uint32_t next_code_point(const unsigned char *s, size_t len, size_t *i, int *units)
{
    unsigned char c = s[*i];
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
        cp = c;
        n = 1;
    } else if (c < 0xe0 && *i + 1 < len) {
        cp = ((uint32_t)(c & 0x1f) << 6) | (s[*i + 1] & 0x3f);
        n = 2;
    } else if (c < 0xf0 && *i + 2 < len) {
        cp =
            ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(s[*i + 1] & 0x3f) << 6) | (s[*i + 2] & 0x3f);
        n = 3;
    } else if (c < 0xf8 && *i + 3 < len) {
        cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3f) << 12) |
             ((uint32_t)(s[*i + 2] & 0x3f) << 6) | (s[*i + 3] & 0x3f);
        n = 4;
    } else {
        /* Duktape never stores a truncated sequence; treat one defensively as U+FFFD. */
        *i = len;
        *units = 1;
        return 0xfffd;
    }
    *i += n;
    *units = cp > 0xffff ? 2 : 1;
    if (cp >= 0xd800 && cp <= 0xdbff && *i + 2 < len && s[*i] == 0xed &&
        (s[*i + 1] & 0xf0) == 0xb0) {
        uint32_t lo = ((uint32_t)(s[*i + 1] & 0x3f) << 6) | (s[*i + 2] & 0x3f);
        lo |= 0xd000;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        *i += 3;
        *units = 2;
    }
    return cp;
}

/* Writes cp as UTF-8 (U+FFFD for surrogates); returns the byte count (1..4). */
static size_t put_utf8(unsigned char *out, uint32_t cp)
{
    if (cp >= 0xd800 && cp <= 0xdfff) {
        cp = 0xfffd;
    }
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

static size_t utf8_len(uint32_t cp)
{
    if (cp >= 0xd800 && cp <= 0xdfff) {
        return 3;
    }
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Pushes a new Uint8Array of len bytes and returns its data. */
static unsigned char *push_uint8array(duk_context *ctx, size_t len)
{
    unsigned char *p = duk_push_fixed_buffer(ctx, len);
    duk_push_buffer_object(ctx, -1, 0, len, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
    return p;
}

/* native.utf8Encode(string) -> Uint8Array: the USVString conversion and UTF-8 in one pass. */
static duk_ret_t native_utf8_encode(duk_context *ctx)
{
    duk_size_t len;
    const unsigned char *s = (const unsigned char *)duk_require_lstring(ctx, 0, &len);
    size_t ascii = 0;
    while (ascii < len && s[ascii] < 0x80) {
        ascii++;
    }
    if (ascii == len) {
        unsigned char *p = push_uint8array(ctx, len);
        if (len > 0) {
            memcpy(p, s, len);
        }
        return 1;
    }
    size_t total = ascii;
    int units;
    for (size_t i = ascii; i < len;) {
        total += utf8_len(next_code_point(s, len, &i, &units));
    }
    unsigned char *p = push_uint8array(ctx, total);
    memcpy(p, s, ascii);
    size_t o = ascii;
    for (size_t i = ascii; i < len;) {
        o += put_utf8(p + o, next_code_point(s, len, &i, &units));
    }
    return 1;
}

/* native.encodeInto(string, uint8array) -> {read, written}: whole code points only; read
 * counts UTF-16 code units. */
static duk_ret_t native_encode_into(duk_context *ctx)
{
    duk_size_t len;
    const unsigned char *s = (const unsigned char *)duk_require_lstring(ctx, 0, &len);
    duk_size_t cap;
    unsigned char *dst = duk_require_buffer_data(ctx, 1, &cap);
    size_t read = 0;
    size_t written = 0;
    int units;
    for (size_t i = 0; i < len;) {
        size_t at = i;
        uint32_t cp = next_code_point(s, len, &i, &units);
        size_t need = utf8_len(cp);
        if (written + need > cap) {
            i = at;
            break;
        }
        written += put_utf8(dst + written, cp);
        read += (size_t)units;
    }
    duk_push_object(ctx);
    duk_push_number(ctx, (double)read);
    duk_put_prop_literal(ctx, -2, "read");
    duk_push_number(ctx, (double)written);
    duk_put_prop_literal(ctx, -2, "written");
    return 1;
}

/* Appends cp in CESU-8 (code points above U+FFFF as a surrogate pair); returns the new
 * offset. At most 6 bytes. */
static size_t put_cesu8(unsigned char *out, size_t o, uint32_t cp)
{
    if (cp > 0xffff) {
        cp -= 0x10000;
        /* put_utf8 maps surrogates to U+FFFD, so the halves are written by hand. */
        uint32_t hi = 0xd800 + (cp >> 10);
        uint32_t lo = 0xdc00 + (cp & 0x3ff);
        out[o++] = (unsigned char)(0xe0 | (hi >> 12));
        out[o++] = (unsigned char)(0x80 | ((hi >> 6) & 0x3f));
        out[o++] = (unsigned char)(0x80 | (hi & 0x3f));
        out[o++] = (unsigned char)(0xe0 | (lo >> 12));
        out[o++] = (unsigned char)(0x80 | ((lo >> 6) & 0x3f));
        out[o++] = (unsigned char)(0x80 | (lo & 0x3f));
        return o;
    }
    return o + put_utf8(out + o, cp);
}

enum { ENC_UTF8 = 0, ENC_UTF16LE = 1, ENC_UTF16BE = 2 };

/*
 * The decoder's state between streaming calls, kept in a JS object as five integers (the
 * fields of the WHATWG decoders): UTF-8 code point, bytes seen, bytes needed, lower and upper
 * boundary; UTF-16 lead byte (+1, 0 for none) and lead surrogate.
 */
struct dec_state {
    uint32_t a, b, c, d, e;
};

static void state_read(duk_context *ctx, duk_idx_t idx, struct dec_state *st)
{
    uint32_t *f[] = {&st->a, &st->b, &st->c, &st->d, &st->e};
    for (duk_uarridx_t k = 0; k < 5; k++) {
        duk_get_prop_index(ctx, idx, k);
        *f[k] = (uint32_t)duk_get_uint(ctx, -1);
        duk_pop(ctx);
    }
}

static void state_write(duk_context *ctx, duk_idx_t idx, const struct dec_state *st)
{
    const uint32_t v[] = {st->a, st->b, st->c, st->d, st->e};
    for (duk_uarridx_t k = 0; k < 5; k++) {
        duk_push_uint(ctx, v[k]);
        duk_put_prop_index(ctx, idx, k);
    }
}

/* Returns the new output offset, or (size_t)-1 on an error in fatal mode. */
static size_t decode_utf8(struct dec_state *st, const unsigned char *in, size_t len, int flush,
                          int fatal, unsigned char *out, size_t o)
{
    uint32_t cp = st->a, seen = st->b, needed = st->c, lower = st->d ? st->d : 0x80,
             upper = st->e ? st->e : 0xbf;
    for (size_t i = 0; i < len; i++) {
        unsigned char byte = in[i];
        if (needed == 0) {
            if (byte < 0x80) {
                out[o++] = byte;
                continue;
            }
            if (byte >= 0xc2 && byte <= 0xdf) {
                needed = 1;
                cp = byte & 0x1f;
            } else if (byte >= 0xe0 && byte <= 0xef) {
                if (byte == 0xe0) {
                    lower = 0xa0;
                } else if (byte == 0xed) {
                    upper = 0x9f;
                }
                needed = 2;
                cp = byte & 0xf;
            } else if (byte >= 0xf0 && byte <= 0xf4) {
                if (byte == 0xf0) {
                    lower = 0x90;
                } else if (byte == 0xf4) {
                    upper = 0x8f;
                }
                needed = 3;
                cp = byte & 0x7;
            } else {
                if (fatal) {
                    return (size_t)-1;
                }
                o = put_cesu8(out, o, 0xfffd);
            }
            continue;
        }
        if (byte < lower || byte > upper) {
            /* The sequence is cut short: U+FFFD, and the byte is read again on its own. */
            cp = needed = seen = 0;
            lower = 0x80;
            upper = 0xbf;
            if (fatal) {
                return (size_t)-1;
            }
            o = put_cesu8(out, o, 0xfffd);
            i--;
            continue;
        }
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (byte & 0x3f);
        seen++;
        if (seen == needed) {
            o = put_cesu8(out, o, cp);
            cp = needed = seen = 0;
        }
    }
    if (flush && needed != 0) {
        cp = needed = seen = 0;
        lower = 0x80;
        upper = 0xbf;
        if (fatal) {
            return (size_t)-1;
        }
        o = put_cesu8(out, o, 0xfffd);
    }
    st->a = cp;
    st->b = seen;
    st->c = needed;
    st->d = lower;
    st->e = upper;
    return o;
}

static size_t decode_utf16(struct dec_state *st, const unsigned char *in, size_t len, int be,
                           int flush, int fatal, unsigned char *out, size_t o)
{
    uint32_t lead_byte = st->a; /* byte + 1, or 0 */
    uint32_t lead_surrogate = st->b;
    for (size_t i = 0; i < len; i++) {
        if (lead_byte == 0) {
            lead_byte = (uint32_t)in[i] + 1;
            continue;
        }
        uint32_t first = lead_byte - 1;
        uint32_t unit = be ? (first << 8) | in[i] : ((uint32_t)in[i] << 8) | first;
        lead_byte = 0;
        if (lead_surrogate != 0) {
            uint32_t lead = lead_surrogate;
            lead_surrogate = 0;
            if (unit >= 0xdc00 && unit <= 0xdfff) {
                o = put_cesu8(out, o, 0x10000 + ((lead - 0xd800) << 10) + (unit - 0xdc00));
                continue;
            }
            /* The unit is not a trail surrogate: U+FFFD, then the unit on its own. */
            if (fatal) {
                return (size_t)-1;
            }
            o = put_cesu8(out, o, 0xfffd);
        }
        if (unit >= 0xd800 && unit <= 0xdbff) {
            lead_surrogate = unit;
            continue;
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) {
            if (fatal) {
                return (size_t)-1;
            }
            o = put_cesu8(out, o, 0xfffd);
            continue;
        }
        o = put_cesu8(out, o, unit);
    }
    if (flush && (lead_byte != 0 || lead_surrogate != 0)) {
        lead_byte = lead_surrogate = 0;
        if (fatal) {
            return (size_t)-1;
        }
        o = put_cesu8(out, o, 0xfffd);
    }
    st->a = lead_byte;
    st->b = lead_surrogate;
    return o;
}

/*
 * native.decode(bytes, encoding, fatal, flush, state) -> string, or undefined on a decoding
 * error in fatal mode (the JS side throws the TypeError). bytes is any buffer or view (its
 * window only); state is the array of five integers described above, updated in place.
 */
static duk_ret_t native_decode(duk_context *ctx)
{
    duk_size_t len = 0;
    const unsigned char *in = duk_get_buffer_data(ctx, 0, &len);
    int enc = duk_require_int(ctx, 1);
    int fatal = duk_to_boolean(ctx, 2);
    int flush = duk_to_boolean(ctx, 3);
    struct dec_state st;
    state_read(ctx, 4, &st);
    if (!in) {
        len = 0;
    }
    if (enc == ENC_UTF8 && st.c == 0) {
        /* Common case: pure ASCII is its own internal form. */
        size_t ascii = 0;
        while (ascii < len && in[ascii] < 0x80) {
            ascii++;
        }
        if (ascii == len) {
            duk_push_lstring(ctx, (const char *)in, len);
            return 1;
        }
    }
    unsigned char *out = duk_push_fixed_buffer(ctx, len * 3 + 6);
    size_t o;
    if (enc == ENC_UTF8) {
        o = decode_utf8(&st, in, len, flush, fatal, out, 0);
    } else {
        o = decode_utf16(&st, in, len, enc == ENC_UTF16BE, flush, fatal, out, 0);
    }
    if (o == (size_t)-1) {
        memset(&st, 0, sizeof(st));
        state_write(ctx, 4, &st);
        duk_push_undefined(ctx);
        return 1;
    }
    state_write(ctx, 4, &st);
    duk_push_lstring(ctx, (const char *)out, o);
    return 1;
}

/* ---- structuredClone ------------------------------------------------------------------- */

/*
 * native.copyPrimitives(src, dst, keys, i, proto, box, dstProto) -> index: the structured
 * clone walk's inner loop for the common case. Copies src[keys[i..]] to dst while the values
 * are primitives that clone to themselves, and returns the index of the first key it leaves
 * to the JavaScript walk: one also present on proto (the walk checks HasOwnProperty before
 * reading it) or on dstProto (dst's prototype when it differs from proto; a put would meet
 * its setter or read-only property where the spec defines a data property), "__proto__"
 * (needs a data-property definition), or one whose value is not such a primitive or is
 * undefined (HasOwnProperty again). A value already read is handed
 * over in box.v with box.read = true, so no property is ever read twice (a getter runs once,
 * in key order, as the spec requires).
 */
static duk_ret_t native_copy_primitives(duk_context *ctx)
{
    duk_uarridx_t n = (duk_uarridx_t)duk_get_length(ctx, 2);
    duk_uarridx_t i = (duk_uarridx_t)duk_require_uint(ctx, 3);
    int has_proto = duk_is_object(ctx, 4);
    int has_dst_proto = duk_is_object(ctx, 6);
    for (; i < n; i++) {
        duk_get_prop_index(ctx, 2, i); /* [key] */
        if (has_proto) {
            duk_dup(ctx, -1);
            if (duk_has_prop(ctx, 4)) {
                duk_pop(ctx);
                break;
            }
        }
        if (has_dst_proto) {
            duk_dup(ctx, -1);
            if (duk_has_prop(ctx, 6)) {
                duk_pop(ctx);
                break;
            }
        }
        const char *key = duk_get_string(ctx, -1);
        if (key && strcmp(key, "__proto__") == 0) {
            duk_pop(ctx);
            break;
        }
        duk_dup(ctx, -1);
        duk_get_prop(ctx, 0); /* [key value]; a getter may run here */
        int t = duk_get_type(ctx, -1);
        int plain = t == DUK_TYPE_NULL || t == DUK_TYPE_BOOLEAN || t == DUK_TYPE_NUMBER ||
                    (t == DUK_TYPE_STRING && !duk_is_symbol(ctx, -1));
        if (!plain) {
            duk_put_prop_literal(ctx, 5, "v");
            duk_push_true(ctx);
            duk_put_prop_literal(ctx, 5, "read");
            duk_pop(ctx);
            break;
        }
        duk_put_prop(ctx, 1);
    }
    duk_push_uint(ctx, (duk_uint_t)i);
    return 1;
}

/* native.cloneFlat(v) -> the structured clone of a flat plain object or array (see
 * evl__duk_clone_flat: only values that clone to themselves, no getters), or undefined when v
 * is not one and the JavaScript walk must handle it. */
static duk_ret_t native_clone_flat(duk_context *ctx)
{
    if (!evl__duk_clone_flat(ctx, 0)) {
        duk_push_undefined(ctx);
    }
    return 1;
}

/* native.classTag(v) -> "[object Class]" from v's internal class, ignoring Symbol.toStringTag. */
static duk_ret_t native_class_tag(duk_context *ctx)
{
    evl__duk_push_class_tag(ctx, 0);
    return 1;
}

/* native.isCFunction(v): tells Duktape's built-ins (C functions) from script-defined ones. */
static duk_ret_t native_is_c_function(duk_context *ctx)
{
    duk_push_boolean(ctx, duk_is_c_function(ctx, 0));
    return 1;
}

/* ---- install ------------------------------------------------------------------------------ */

/* Pushes the natives object the web preludes receive (+1): the natives above plus the shared
 * ones they need (the monotonic clock, nextTick). */
static void push_web_natives(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_object(ctx);
    duk_push_string(ctx, WEB_SLOT_KEY);
    duk_put_prop_string(ctx, -2, "slotKey");
    duk_push_string(ctx, WEB_CLONE_KEY);
    duk_put_prop_string(ctx, -2, "cloneKey");
    evl__duk_put_native(ctx, "atob", native_atob, 1);
    evl__duk_put_native(ctx, "btoa", native_btoa, 1);
    evl__duk_put_native(ctx, "randomFill", native_random_fill, 1);
    evl__duk_put_native(ctx, "randomUUID", native_random_uuid, 0);
    evl__duk_put_native(ctx, "utf8Encode", native_utf8_encode, 1);
    evl__duk_put_native(ctx, "encodeInto", native_encode_into, 2);
    evl__duk_put_native(ctx, "decode", native_decode, 5);
    evl__duk_put_native(ctx, "isCFunction", native_is_c_function, 1);
    evl__duk_put_native(ctx, "copyPrimitives", native_copy_primitives, 7);
    evl__duk_put_native(ctx, "cloneFlat", native_clone_flat, 1);
    evl__duk_put_native(ctx, "classTag", native_class_tag, 1);
    evl__duk_push_natives(d);
    duk_get_prop_string(ctx, -1, "hrnow");
    duk_put_prop_string(ctx, -3, "hrnow");
    duk_get_prop_string(ctx, -1, "nextTick");
    duk_put_prop_string(ctx, -3, "nextTick");
    duk_pop(ctx);
}

struct web_prelude {
    const unsigned char *bytecode;
    size_t len;
};

int evl__duk_web_install(struct evl_duk *d)
{
    /* Dependency order: each prelude may use what the earlier ones put on `web`. */
    const struct web_prelude preludes[] = {
        {evl_js_web_idl, evl_js_web_idl_len},
        {evl_js_web_domexception, evl_js_web_domexception_len},
        {evl_js_web_event, evl_js_web_event_len},
        {evl_js_web_abort, evl_js_web_abort_len},
        {evl_js_web_base64, evl_js_web_base64_len},
        {evl_js_web_crypto, evl_js_web_crypto_len},
        {evl_js_web_encoding, evl_js_web_encoding_len},
        {evl_js_web_clone, evl_js_web_clone_len},
        {evl_js_web_performance, evl_js_web_performance_len},
        {evl_js_web_blob, evl_js_web_blob_len},
        {evl_js_web_messaging, evl_js_web_messaging_len},
    };
    duk_context *ctx = d->ctx;
    push_web_natives(d);
    duk_push_object(ctx); /* web: what the preludes share, unreachable once they return */
    for (size_t i = 0; i < sizeof(preludes) / sizeof(preludes[0]); i++) {
        duk_push_global_object(ctx);
        duk_dup(ctx, -3);
        duk_dup(ctx, -3);
        evl__duk_run_bootstrap(ctx, preludes[i].bytecode, preludes[i].len, 3);
    }
    duk_pop_2(ctx);
    return 0;
}

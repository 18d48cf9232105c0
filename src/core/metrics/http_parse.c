/*
 * HTTP/1.x request head parser (see http_parse.h). Everything is checked against the
 * grammar of RFC 9110/9112 and anything outside it is a 400: the endpoint faces scrapers,
 * not browsers, so leniency buys nothing and every accepted oddity is an ambiguity an
 * intermediary could read differently (request smuggling). Only the bare-LF line end is
 * tolerated, as the RFC allows.
 */
#include "core/metrics/http_parse.h"

#include <string.h>

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') {
            x = (char)(x - 'A' + 'a');
        }
        if (x != lit[i]) {
            return 0;
        }
    }
    return 1;
}

/* The end of the line starting at p (the index of its LF), or -1 if none before end.
 * A CR not followed by LF is an error (-2). */
static long line_end(const char *buf, size_t p, size_t end)
{
    for (size_t i = p; i < end; i++) {
        if (buf[i] == '\n') {
            return (long)i;
        }
        if (buf[i] == '\r' && (i + 1 >= end || buf[i + 1] != '\n')) {
            return i + 1 >= end ? -1 : -2;
        }
    }
    return -1;
}

static int bad(struct evl__http_request *req, int status)
{
    req->status = status;
    return EVL__HTTP_BAD;
}

/* The length of the head (through its empty line), 0 if incomplete, -1 on a bare CR. */
static long head_end(const char *buf, size_t len)
{
    size_t p = 0;
    for (;;) {
        long e = line_end(buf, p, len);
        if (e < 0) {
            return e == -2 ? -1 : 0;
        }
        size_t content = (size_t)e - p;
        if (content > 0 && buf[e - 1] == '\r') {
            content--;
        }
        if (content == 0 && p != 0) {
            return e + 1;
        }
        if (content == 0 && p == 0) {
            return -1; /* an empty line before the request line: not a request */
        }
        p = (size_t)e + 1;
    }
}

/* Comma-separated tokens of a Connection value: sets *close / *keep. */
static void connection_tokens(const char *v, size_t n, int *close, int *keep)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
            i++;
        }
        if (ieq(v + s, i - s, "close")) {
            *close = 1;
        } else if (ieq(v + s, i - s, "keep-alive")) {
            *keep = 1;
        }
    }
}

static int parse_request_line(const char *line, size_t n, struct evl__http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i])) {
        i++;
    }
    if (i == 0 || i >= n || line[i] != ' ') {
        return bad(req, 400);
    }
    if (i == 3 && memcmp(line, "GET", 3) == 0) {
        req->method = EVL__HTTP_GET;
    } else if (i == 4 && memcmp(line, "HEAD", 4) == 0) {
        req->method = EVL__HTTP_HEAD;
    } else {
        req->method = EVL__HTTP_OTHER;
    }
    size_t t = ++i;
    while (i < n && line[i] != ' ') {
        unsigned char c = (unsigned char)line[i];
        if (c <= 0x20 || c >= 0x7f) {
            return bad(req, 400);
        }
        i++;
    }
    if (i == t || i >= n) {
        return bad(req, 400);
    }
    req->target = line + t;
    req->target_len = i - t;
    i++;
    if (n - i != 8 || memcmp(line + i, "HTTP/", 5) != 0 || line[i + 6] != '.' ||
        line[i + 5] < '0' || line[i + 5] > '9' || line[i + 7] < '0' || line[i + 7] > '9') {
        return bad(req, 400);
    }
    if (line[i + 5] != '1') {
        return bad(req, 505);
    }
    req->minor = line[i + 7] - '0';
    if (req->target[0] == '/') {
        const char *q = memchr(req->target, '?', req->target_len);
        req->path = req->target;
        req->path_len = q ? (size_t)(q - req->target) : req->target_len;
    } else if (req->target_len == 1 && req->target[0] == '*') {
        req->path = req->target; /* asterisk form: only OPTIONS; answered 405 */
        req->path_len = 1;
    } else {
        /* absolute form: http://authority/path */
        const char *t0 = req->target;
        size_t tl = req->target_len;
        if (tl < 8 || !ieq(t0, 7, "http://")) {
            return bad(req, 400);
        }
        const char *slash = memchr(t0 + 7, '/', tl - 7);
        if (slash == NULL) {
            req->path = "/";
            req->path_len = 1;
        } else {
            const char *q = memchr(slash, '?', tl - (size_t)(slash - t0));
            req->path = slash;
            req->path_len = q ? (size_t)(q - slash) : tl - (size_t)(slash - t0);
        }
    }
    return EVL__HTTP_OK;
}

static int parse_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19) {
        return -1;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

int evl__http_parse(const char *buf, size_t len, size_t max_head, struct evl__http_request *req)
{
    memset(req, 0, sizeof(*req));
    size_t scan = len < max_head ? len : max_head;
    long hl = head_end(buf, scan);
    if (hl < 0) {
        return bad(req, 400);
    }
    if (hl == 0) {
        return len >= max_head ? bad(req, 431) : EVL__HTTP_INCOMPLETE;
    }
    req->head_len = (size_t)hl;

    long e = line_end(buf, 0, (size_t)hl);
    size_t n = (size_t)e;
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    if (parse_request_line(buf, n, req) != EVL__HTTP_OK) {
        return EVL__HTTP_BAD;
    }
    int close = 0;
    int keep = 0;
    int host = 0;
    int have_length = 0;
    int have_te = 0;
    size_t p = (size_t)e + 1;
    for (;;) {
        e = line_end(buf, p, (size_t)hl);
        n = (size_t)e - p;
        if (n > 0 && buf[e - 1] == '\r') {
            n--;
        }
        if (n == 0) {
            break;
        }
        const char *h = buf + p;
        p = (size_t)e + 1;
        if (h[0] == ' ' || h[0] == '\t') {
            return bad(req, 400); /* obsolete line folding */
        }
        size_t k = 0;
        while (k < n && is_tchar((unsigned char)h[k])) {
            k++;
        }
        if (k == 0 || k >= n || h[k] != ':') {
            return bad(req, 400); /* includes whitespace before the colon */
        }
        size_t vs = k + 1;
        while (vs < n && (h[vs] == ' ' || h[vs] == '\t')) {
            vs++;
        }
        size_t ve = n;
        while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) {
            ve--;
        }
        for (size_t i = vs; i < ve; i++) {
            unsigned char c = (unsigned char)h[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return bad(req, 400);
            }
        }
        const char *v = h + vs;
        size_t vl = ve - vs;
        if (ieq(h, k, "host")) {
            if (host) {
                return bad(req, 400);
            }
            host = 1;
        } else if (ieq(h, k, "connection")) {
            connection_tokens(v, vl, &close, &keep);
        } else if (ieq(h, k, "content-length")) {
            uint64_t cl = 0;
            if (parse_content_length(v, vl, &cl) != 0 || (have_length && cl != req->body_length)) {
                return bad(req, 400);
            }
            have_length = 1;
            req->body_length = cl;
            req->has_body |= cl > 0;
        } else if (ieq(h, k, "transfer-encoding")) {
            have_te = 1;
            req->has_body = 1;
        }
    }
    if (have_te && have_length) {
        return bad(req, 400); /* both framings: a request smuggling attempt */
    }
    if (req->minor >= 1 && !host) {
        return bad(req, 400); /* RFC 9112 3.2: a 1.1 request without Host */
    }
    if (req->has_body) {
        return bad(req, 413);
    }
    req->keep_alive = req->minor >= 1 ? !close : (keep && !close);
    return EVL__HTTP_OK;
}

const char *evl__http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/*
 * A strict parser for the head of an HTTP/1.x request (RFC 9112), enough for a metrics
 * endpoint: request line, header fields, the few headers that decide framing and
 * connection reuse. It reads a byte buffer and never allocates, so it can be fuzzed alone
 * (tests/fuzz). Pure: thread-safe.
 */
#ifndef EVL_CORE_METRICS_HTTP_PARSE_H
#define EVL_CORE_METRICS_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum evl__http_method { EVL__HTTP_GET = 1, EVL__HTTP_HEAD = 2, EVL__HTTP_OTHER = 3 };

/* Results of evl__http_parse. */
enum evl__http_parse_result {
    EVL__HTTP_INCOMPLETE = 0, /* no complete head yet (and not over the size cap) */
    EVL__HTTP_OK = 1,         /* a complete head; req is filled in */
    EVL__HTTP_BAD = -1        /* answer req->status (400, 431, 413, 501 or 505) and close */
};

struct evl__http_request {
    enum evl__http_method method;
    const char *target; /* the request target (points into the buffer), not NUL-terminated */
    size_t target_len;
    const char *path; /* the target up to '?' (origin form) */
    size_t path_len;
    int minor;            /* HTTP/1.minor */
    int keep_alive;       /* the connection may carry another request after this one */
    uint64_t body_length; /* Content-Length (0 if absent) */
    int has_body;         /* Content-Length > 0 or any Transfer-Encoding */
    size_t head_len;      /* bytes of the head, the final empty line included */
    int status;           /* on EVL__HTTP_BAD: the status to answer */
};

/*
 * Parses the request head at the start of buf[0..len). max_head: the largest head accepted
 * (431 beyond it, as soon as that many bytes arrived without an end of head). Line ends
 * are CRLF; a bare LF is accepted (RFC 9112 2.2), a bare CR is not.
 */
int evl__http_parse(const char *buf, size_t len, size_t max_head, struct evl__http_request *req);

/* The reason phrase for a status this server sends ("Unknown" for others). */
const char *evl__http_reason(int status);

#endif

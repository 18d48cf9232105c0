/*
 * Fuzzes the metrics endpoint's request parser (src/core/metrics/http_parse.c). Invariants:
 * it never reads outside the buffer (ASan), a complete head lies within the input and the
 * size cap, the target and path point into the request line, a refusal carries one of the
 * statuses the server sends, and parsing any prefix of an accepted head reports it
 * incomplete (the server may receive it one byte at a time).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An odd first byte wraps the rest in a valid request line and end of head, so random
     * inputs also reach the header grammar. The copy is exactly as long as the request, so
     * ASan sees any read past its end. */
    static const char pre[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n";
    static const char post[] = "\r\n\r\n";
    int wrap = size > 0 && (data[0] & 1);
    size_t total = wrap ? sizeof(pre) - 1 + size + sizeof(post) - 1 : size;
    char *buf = malloc(total ? total : 1);
    if (buf == NULL) {
        return 0;
    }
    if (wrap) {
        memcpy(buf, pre, sizeof(pre) - 1);
        memcpy(buf + sizeof(pre) - 1, data, size);
        memcpy(buf + sizeof(pre) - 1 + size, post, sizeof(post) - 1);
    } else {
        memcpy(buf, data, size);
    }
    size = total;
    size_t cap = total > 0 ? (size_t)data[0] * 32 + 16 : 64;
    struct evl__http_request req;
    int r = evl__http_parse(buf, size, cap, &req);
    if (r == EVL__HTTP_OK) {
        check(req.head_len <= size && req.head_len <= cap);
        check(req.target >= buf && req.target + req.target_len <= buf + req.head_len);
        check(req.path_len >= 1);
        check(req.method >= EVL__HTTP_GET && req.method <= EVL__HTTP_OTHER);
        check(!req.has_body);
        for (size_t n = 0; n + 1 < req.head_len; n += 1 + n / 8) {
            struct evl__http_request part;
            check(evl__http_parse(buf, n, cap, &part) == EVL__HTTP_INCOMPLETE);
        }
    } else if (r == EVL__HTTP_BAD) {
        check(req.status == 400 || req.status == 431 || req.status == 413 || req.status == 505);
    } else {
        check(r == EVL__HTTP_INCOMPLETE && size < cap);
    }
    free(buf);
    return 0;
}

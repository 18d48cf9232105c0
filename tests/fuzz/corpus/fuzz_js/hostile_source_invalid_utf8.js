// hostile: status=0 main=invalid_utf8.js stdout=^len 5$
// runs HOSTILE_DIR/invalid_utf8.js: a string literal holding bytes that are not UTF-8.

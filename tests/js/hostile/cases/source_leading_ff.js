// hostile: status=1 main=leading_ff.js stderr=SyntaxError
// runs HOSTILE_DIR/leading_ff.js: 0xFF first (would be a Duktape symbol string if kept raw).

// hostile: status=1 main=binary.js stderr=SyntaxError
// runs HOSTILE_DIR/binary.js as the main script.

// hostile: status=0 main=bom.js stdout=^bom ok$
// runs HOSTILE_DIR/bom.js: a UTF-8 byte order mark, then console.log('bom ok').

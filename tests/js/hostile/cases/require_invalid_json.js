// hostile: status=1 stderr=SyntaxError
require(process.env.HOSTILE_DIR + '/bad.json');

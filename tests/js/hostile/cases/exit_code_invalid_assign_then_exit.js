// hostile: status=4 stdout=^TypeError ERR_INVALID_ARG_TYPE$
try { process.exitCode = 'abc'; } catch (e) { console.log(e.name, e.code); }
process.exit(4);

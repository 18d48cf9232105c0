// hostile: status=1 stderr=ERR_INVALID_ARG_TYPE
process.exit('abc');

// hostile: status=1 stderr=ERR_OUT_OF_RANGE
process.exit(3.7);

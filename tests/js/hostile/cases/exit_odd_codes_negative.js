// hostile: status=255
process.exit(-1);

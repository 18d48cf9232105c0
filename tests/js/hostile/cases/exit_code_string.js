// hostile: status=5
process.exit('5');

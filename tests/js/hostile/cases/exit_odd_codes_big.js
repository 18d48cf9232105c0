// hostile: status=44 stdout=^ok$
console.log('ok');
process.exit(300);

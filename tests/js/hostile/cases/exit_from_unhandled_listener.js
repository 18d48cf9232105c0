// hostile: status=18
process.on('unhandledRejection', function () { process.exit(18); });
Promise.reject(1);

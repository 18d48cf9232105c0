// hostile: status=1 stderr=from listener
process.on('unhandledRejection', function () { throw new Error('from listener'); });
Promise.reject(new Error('first'));

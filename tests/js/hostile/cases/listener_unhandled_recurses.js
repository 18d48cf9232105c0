// hostile: status=1 stderr=RangeError
process.on('unhandledRejection', function r() { r(); });
Promise.reject(new Error('first'));

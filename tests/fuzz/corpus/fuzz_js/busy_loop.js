setTimeout(function () { for (;;) {} }, 0);
process.on('uncaughtException', function (e) { console.log(e.code); });

// hostile: status=1 args=--timeout-ms=200 stderr=ERR_EVL_TIMEOUT|timeout|Timeout
queueMicrotask(function () { while (true) {} });

// hostile: status=1 args=--timeout-ms=200 stderr=ERR_EVL_TIMEOUT|timeoimeout|Timeout
queueMicrotask(function () { while (true) {} });ut|Timeout
queueMicrotask(function () { while (true) {} });

// A MessageChannel ping-pong of 100,000 messages: every message arrives once, in order, and
// the process exits by itself once both ports are closed.
var ch = new MessageChannel();
var total = 100000;
var received = 0;
var outOfOrder = 0;
ch.port2.onmessage = function (e) {
    ch.port2.postMessage(e.data + 1);
};
ch.port1.onmessage = function (e) {
    if (e.data !== received * 2 + 1) {
        outOfOrder++;
    }
    received++;
    if (received * 2 < total) {
        ch.port1.postMessage(e.data + 1);
    } else {
        ch.port1.close();
    }
};
ch.port1.postMessage(0);
process.on('exit', function () {
    console.log('messages: ' + received * 2 + ', out of order: ' + outOfOrder);
});

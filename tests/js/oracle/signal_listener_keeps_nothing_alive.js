// A signal listener alone does not keep the process alive (Node unrefs its watcher).
process.on('SIGINT', function () { console.log('never'); });
process.on('SIGHUP', function () { console.log('never'); });
console.log('listening', process.listenerCount('SIGINT'), process.listenerCount('SIGHUP'));

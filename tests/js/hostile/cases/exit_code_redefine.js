// hostile: status=4 stdout=^TypeError$
try {
    Object.defineProperty(process, 'exitCode', { get: function () { throw new Error('g'); } });
} catch (e) { console.log(e.name); }
process.exit(4);

// hostile: status=0 stdout=^\{ a: 1 \}$
var p = new Proxy({ a: 1 }, {
    get: function () { throw new Error('trap'); },
    ownKeys: function () { throw new Error('trap'); },
    getOwnPropertyDescriptor: function () { throw new Error('trap'); }
});
try { console.log(p); } catch (e) { }
try { console.log([p, { p: p }]); } catch (e) { }
console.log('done');

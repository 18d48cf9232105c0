var d = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
var bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0xe2, 0x82, 0xac, 0xff, 0xc3]);
console.log(d.decode(bytes.subarray(0, 5), { stream: true }) + d.decode(bytes.subarray(5)));
console.log(new TextEncoder().encode('\ud83d\ude00\ud800').length);
try { new TextDecoder('utf-16le', { fatal: true }).decode(new Uint8Array([0, 0xd8])); }
catch (e) { console.log(e.name); }
console.log(new TextDecoder('utf-16be').decode(new Uint8Array([0xd8, 0x3d, 0xde, 0x00, 0x00])), new TextDecoder(' UTF8 ').encoding);

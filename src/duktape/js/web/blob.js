/*
 * Blob and File (W3C File API §3-4). The bytes are immutable once built, so slices and
 * structured clones share them; arrayBuffer/bytes hand out copies. Promises settle in a task
 * on the loop (an immediate), as reading a blob is asynchronous in browsers and Node.
 * stream() is absent: the runtime has no ReadableStream. Called as fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var impl = web.impl;
    var toString = Object.prototype.toString;
    var setImmediateFn = global.setImmediate;
    var PromiseCtor = global.Promise;

    function isBufferSource(v) {
        var tag = toString.call(v);
        return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]' || ArrayBuffer.isView(v);
    }

    /* A copy of a BufferSource's bytes (its window only). */
    function bytesOf(v) {
        if (ArrayBuffer.isView(v)) {
            return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
        }
        return new Uint8Array(v.slice(0));
    }

    /* A type is kept only if every character is printable ASCII, then lowercased. */
    function normalizeType(t) {
        return /[^\u0020-\u007e]/.test(t) ? '' : t.toLowerCase();
    }

    function readType(dict) {
        var t = dict.type;
        return t === undefined ? '' : normalizeType(web.toDOMString(t));
    }

    function readEndings(dict) {
        var e = dict.endings;
        if (e === undefined) {
            return 'transparent';
        }
        e = web.toDOMString(e);
        if (e !== 'transparent' && e !== 'native') {
            throw new TypeError("The provided value '" + e + "' is not a valid enum value of type EndingType.");
        }
        return e;
    }

    /* "process blob parts". */
    function processParts(parts, endings) {
        var chunks = [];
        var total = 0;
        for (var i = 0; i < parts.length; i++) {
            var p = parts[i];
            var chunk;
            if (web.is(p, 'Blob')) {
                chunk = p[web.SLOT].bytes;
            } else if (isBufferSource(p)) {
                chunk = bytesOf(p);
            } else {
                var s = web.toDOMString(p);
                if (endings === 'native') {
                    s = s.replace(/\r\n|\r/g, '\n');
                }
                chunk = web.utf8Encode(s);
            }
            chunks.push(chunk);
            total += chunk.length;
        }
        if (chunks.length === 1) {
            return chunks[0];
        }
        var out = new Uint8Array(total);
        var at = 0;
        for (i = 0; i < chunks.length; i++) {
            out.set(chunks[i], at);
            at += chunks[i].length;
        }
        return out;
    }

    function initBlob(self, bytes, type, brandList) {
        return web.setSlot(self, { brands: web.brands(brandList), bytes: bytes, type: type });
    }

    function Blob(blobParts, options) {
        web.checkConstruct(this, Blob, new.target);
        var parts = blobParts === undefined ? [] : web.toSequence(blobParts, 'blobParts');
        var dict = web.toDictionary(options, 'BlobPropertyBag');
        /* Members in lexicographic order (WebIDL): endings, then type. */
        var endings = readEndings(dict);
        var type = readType(dict);
        var bytes = processParts(parts, endings);
        initBlob(this, bytes, type, ['Blob']);
    }

    /* Settles a promise in a later task with fn's result (or its exception). */
    function later(self, fn) {
        var s;
        try {
            s = impl(self, 'Blob');
        } catch (err) {
            return PromiseCtor.reject(err);
        }
        return new PromiseCtor(function (resolve, reject) {
            setImmediateFn(function () {
                try {
                    resolve(fn(s));
                } catch (err) {
                    reject(err);
                }
            });
        });
    }

    function clampIndex(v, size) {
        var n = web.toLongLong(v);
        return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    }

    web.defineInterface(Blob, {
        name: 'Blob',
        length: 0,
        attrs: {
            size: [function () { return impl(this, 'Blob').bytes.length; }],
            type: [function () { return impl(this, 'Blob').type; }]
        },
        ops: {
            slice: [function (start, end, contentType) {
                var s = impl(this, 'Blob');
                var size = s.bytes.length;
                var from = start === undefined ? 0 : clampIndex(start, size);
                var to = end === undefined ? size : clampIndex(end, size);
                var type = contentType === undefined ? '' : normalizeType(web.toDOMString(contentType));
                var blob = Object.create(Blob.prototype);
                initBlob(blob, s.bytes.subarray(from, Math.max(from, to)), type, ['Blob']);
                return blob;
            }, 0],
            text: [function () {
                return later(this, function (s) {
                    /* "UTF-8 decode": a leading BOM is dropped, invalid bytes become U+FFFD. */
                    var out = web.utf8Decode(s.bytes);
                    return out.charCodeAt(0) === 0xfeff ? out.slice(1) : out;
                });
            }, 0],
            arrayBuffer: [function () {
                return later(this, function (s) {
                    return bytesOf(s.bytes).buffer;
                });
            }, 0],
            bytes: [function () {
                return later(this, function (s) {
                    return bytesOf(s.bytes);
                });
            }, 0]
        }
    });

    function File(fileBits, fileName, options) {
        web.checkConstruct(this, File, new.target);
        web.requireArgs(arguments.length, 2, 'File', 'constructor');
        var parts = web.toSequence(fileBits, 'fileBits');
        var name = web.toUSVString(fileName);
        var dict = web.toDictionary(options, 'FilePropertyBag');
        /* The inherited members first (endings, type), then lastModified. */
        var endings = readEndings(dict);
        var type = readType(dict);
        var lm = dict.lastModified;
        var lastModified = lm === undefined ? Date.now() : web.toLongLong(lm);
        var bytes = processParts(parts, endings);
        var s = initBlob(this, bytes, type, ['Blob', 'File']);
        s.name = name;
        s.lastModified = lastModified;
    }

    web.defineInterface(File, {
        name: 'File',
        parent: Blob,
        length: 2,
        attrs: {
            name: [function () { return impl(this, 'File').name; }],
            lastModified: [function () { return impl(this, 'File').lastModified; }]
        }
    });

    /* Blobs are serializable: a clone shares the immutable bytes. File is checked first so
     * a File stays a File. */
    web.serializable.File = function (v, st) {
        var f = Object.create(File.prototype);
        var s = initBlob(f, st.bytes, st.type, ['Blob', 'File']);
        s.name = st.name;
        s.lastModified = st.lastModified;
        return f;
    };
    web.serializable.Blob = function (v, st) {
        if (st.brands.File) {
            return web.serializable.File(v, st);
        }
        var b = Object.create(Blob.prototype);
        initBlob(b, st.bytes, st.type, ['Blob']);
        return b;
    };

    web.exposeGlobal('Blob', Blob, false);
    web.exposeGlobal('File', File, false);
})

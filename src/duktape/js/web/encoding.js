/*
 * TextEncoder and TextDecoder (WHATWG Encoding §7-8) for UTF-8, UTF-16LE and UTF-16BE, over
 * the C natives (the byte loops). They replace Duktape's built-in pair (UTF-8 only, no
 * labels, no streaming, no fatal mode, no encodeInto). Called as fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var impl = web.impl;
    var utf8Encode = native.utf8Encode;
    var encodeInto = native.encodeInto;
    var decode = native.decode;
    var toString = Object.prototype.toString;

    /* The Encoding standard's label table, restricted to the three encodings implemented
     * (value: [name, decoder id of native.decode]). */
    var UTF8 = ['utf-8', 0], UTF16LE = ['utf-16le', 1], UTF16BE = ['utf-16be', 2];
    var labels = {
        'unicode-1-1-utf-8': UTF8, 'unicode11utf8': UTF8, 'unicode20utf8': UTF8, 'utf-8': UTF8,
        'utf8': UTF8, 'x-unicode20utf8': UTF8,
        'unicodefffe': UTF16BE, 'utf-16be': UTF16BE,
        'csunicode': UTF16LE, 'iso-10646-ucs-2': UTF16LE, 'ucs-2': UTF16LE, 'unicode': UTF16LE,
        'unicodefeff': UTF16LE, 'utf-16': UTF16LE, 'utf-16le': UTF16LE
    };

    /* "get an encoding": strip leading and trailing ASCII whitespace, ASCII-lowercase. */
    function getEncoding(label) {
        var key = label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').replace(/[A-Z]+/g, function (m) {
            return m.toLowerCase();
        });
        return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : null;
    }

    function TextEncoder() {
        web.checkConstruct(this, TextEncoder, new.target);
        web.setSlot(this, { brands: { TextEncoder: true } });
    }

    web.defineInterface(TextEncoder, {
        name: 'TextEncoder',
        length: 0,
        attrs: {
            encoding: [function () {
                impl(this, 'TextEncoder');
                return 'utf-8';
            }]
        },
        ops: {
            encode: [function (input) {
                impl(this, 'TextEncoder');
                return utf8Encode(input === undefined ? '' : web.toDOMString(input));
            }, 0],
            encodeInto: [function (source, destination) {
                impl(this, 'TextEncoder');
                web.requireArgs(arguments.length, 2, 'TextEncoder', 'encodeInto');
                source = web.toDOMString(source);
                if (toString.call(destination) !== '[object Uint8Array]') {
                    throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                        'The "dest" argument must be an instance of Uint8Array.');
                }
                return encodeInto(source, destination);
            }, 2]
        }
    });

    function isBufferSource(v) {
        var tag = toString.call(v);
        return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]' || ArrayBuffer.isView(v);
    }

    function TextDecoder(label, options) {
        web.checkConstruct(this, TextDecoder, new.target);
        label = label === undefined ? 'utf-8' : web.toDOMString(label);
        var dict = web.toDictionary(options, 'TextDecoderOptions');
        var fatal = !!dict.fatal;
        var ignoreBOM = !!dict.ignoreBOM;
        var enc = getEncoding(label);
        if (enc === null) {
            throw web.codedError(RangeError, 'ERR_ENCODING_NOT_SUPPORTED', 'The "' + label + '" encoding is not supported');
        }
        web.setSlot(this, {
            brands: { TextDecoder: true },
            name: enc[0],
            id: enc[1],
            fatal: fatal,
            ignoreBOM: ignoreBOM,
            doNotFlush: false,
            bomSeen: false,
            state: [0, 0, 0, 0, 0]
        });
    }

    function dec(self) {
        return impl(self, 'TextDecoder');
    }

    web.defineInterface(TextDecoder, {
        name: 'TextDecoder',
        length: 0,
        attrs: {
            encoding: [function () { return dec(this).name; }],
            fatal: [function () { return dec(this).fatal; }],
            ignoreBOM: [function () { return dec(this).ignoreBOM; }]
        },
        ops: {
            decode: [function (input, options) {
                var s = dec(this);
                if (input !== undefined && !isBufferSource(input)) {
                    throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                        'The "input" argument must be an instance of ArrayBuffer or ArrayBufferView.');
                }
                var stream = !!web.toDictionary(options, 'TextDecodeOptions').stream;
                if (!s.doNotFlush) {
                    s.state = [0, 0, 0, 0, 0];
                    s.bomSeen = false;
                }
                s.doNotFlush = stream;
                var out = decode(input, s.id, s.fatal, !stream, s.state);
                if (out === undefined) {
                    s.doNotFlush = false;
                    throw web.codedError(TypeError, 'ERR_ENCODING_INVALID_ENCODED_DATA',
                        'The encoded data was not valid for encoding ' + s.name);
                }
                /* The BOM is dropped once, from the first output of a (streamed) decode. */
                if (!s.bomSeen && out.length > 0) {
                    s.bomSeen = true;
                    if (!s.ignoreBOM && out.charCodeAt(0) === 0xfeff) {
                        out = out.slice(1);
                    }
                }
                return out;
            }, 0]
        }
    });

    web.exposeGlobal('TextEncoder', TextEncoder, false, true);
    web.exposeGlobal('TextDecoder', TextDecoder, false, true);
    web.utf8Encode = utf8Encode;
    web.utf8Decode = function (bytes) {
        return decode(bytes, 0, false, true, [0, 0, 0, 0, 0]);
    };
})

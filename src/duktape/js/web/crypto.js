/*
 * crypto.getRandomValues and crypto.randomUUID (W3C WebCrypto §10 "Crypto interface"), with
 * entropy from getrandom(2). Crypto is not constructible; `crypto` is its one instance.
 * Called as fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var randomFill = native.randomFill;
    var randomUUID = native.randomUUID;
    var toString = Object.prototype.toString;

    /* The integer-typed views getRandomValues accepts (Duktape has no BigInt64Array). */
    var integerTags = {
        '[object Int8Array]': true, '[object Uint8Array]': true, '[object Uint8ClampedArray]': true,
        '[object Int16Array]': true, '[object Uint16Array]': true, '[object Int32Array]': true,
        '[object Uint32Array]': true, '[object BigInt64Array]': true, '[object BigUint64Array]': true
    };

    function Crypto() {
        throw web.illegalConstructor();
    }

    web.defineInterface(Crypto, {
        name: 'Crypto',
        length: 0,
        ops: {
            getRandomValues: [function (array) {
                web.impl(this, 'Crypto');
                web.requireArgs(arguments.length, 1, 'Crypto', 'getRandomValues');
                if (!ArrayBuffer.isView(array)) {
                    throw web.codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
                        'The "typedArray" argument must be an instance of ArrayBufferView.');
                }
                if (integerTags[toString.call(array)] !== true) {
                    throw web.domError('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
                }
                if (array.byteLength > 65536) {
                    throw web.domError('The requested length exceeds 65,536 bytes', 'QuotaExceededError');
                }
                randomFill(array);
                return array;
            }, 1],
            randomUUID: [function () {
                web.impl(this, 'Crypto');
                return randomUUID();
            }, 0]
        }
    });

    var crypto = Object.create(Crypto.prototype);
    web.setSlot(crypto, { brands: { Crypto: true } });

    web.exposeGlobal('Crypto', Crypto, false);
    web.exposeAttribute('crypto', crypto, false, false);
})

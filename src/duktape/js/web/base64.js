/*
 * atob and btoa (HTML §8.3 "Base64 utility methods") over the forgiving-base64 natives.
 * Called as fn(global, native, web).
 */
(function (global, native, web) {
    'use strict';

    var nativeAtob = native.atob;
    var nativeBtoa = native.btoa;

    var atob = web.fnShape(function (data) {
        web.requireArgs(arguments.length, 1, 'Window', 'atob');
        var r = nativeAtob(web.toDOMString(data));
        if (r === false) {
            throw web.domError('Invalid character', 'InvalidCharacterError');
        }
        if (r === null) {
            throw web.domError('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
        }
        return r;
    }, 'atob', 1);

    var btoa = web.fnShape(function (data) {
        web.requireArgs(arguments.length, 1, 'Window', 'btoa');
        var r = nativeBtoa(web.toDOMString(data));
        if (r === null) {
            throw web.domError('Invalid character', 'InvalidCharacterError');
        }
        return r;
    }, 'btoa', 1);

    web.exposeGlobal('atob', atob, true);
    web.exposeGlobal('btoa', btoa, true);
})
